"""Embedder throughput: the Serve app against the model called directly, same run.

    python benchmarks/embedder.py [--objects 1000] [--replicas CORES] [--num-cpus 1]
                                  [--threads T] [--rounds 2] [--slice 1024]

1,000 generated source objects with ~8 fields each; each field's text is what the matcher
embeds ("name (type): description"). Every text is distinct and both caches are off, so
every text costs a forward pass.
(a) direct: ``LocalEmbedder`` in this process, one ``encode`` per slice (model batch 64,
    torch's default threads: one per core);
(b) serve:  ``ServeEmbedder`` against the ``embedder`` Serve app on a private local Ray
    (``address="local"``, ``num_cpus`` = cores; never port 6379): the caller cuts the texts
    into lists of 64 (length-sorted) and sends them all at once; replicas'
    ``@serve.batch`` gather what arrives together. Default layout, tuned on 2 cores: one
    replica per core, each reserving 1 CPU and running 1 torch thread (threads follow
    ``--num-cpus`` unless ``--threads`` is given).
(a) and (b) alternate every --slice texts, so load from other processes on a shared machine
hits both alike; each round embeds every text once on each side. Reported: each side's
throughput over all rounds and the ratio serve/direct. Goal: >= 0.80.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time

CORES = os.cpu_count() or 1

SYSTEMS = [
    "Salesforce",
    "HubSpot",
    "Stripe",
    "Zendesk",
    "NetSuite",
    "Shopify",
    "Intercom",
    "QuickBooks",
    "Pipedrive",
    "Chargebee",
    "Jira",
    "AWS CUR",
    "Marketo",
    "Workday",
]
OBJECTS = {
    "account": "company account",
    "contact": "person at a customer",
    "lead": "prospective customer",
    "opportunity": "sales deal",
    "invoice": "bill sent to a customer",
    "payment": "money received",
    "subscription": "recurring plan",
    "ticket": "support request",
    "order": "customer purchase",
    "product": "item for sale",
    "employee": "member of staff",
    "cost_line": "cloud cost line item",
}
FIELDS = [
    ("id", "string", "Unique identifier of the {o}"),
    ("name", "string", "Display name of the {o}"),
    ("email", "string", "Primary e-mail address for the {o}"),
    ("phone", "string", "Main phone number of the {o}"),
    ("created_at", "timestamp", "When the {o} was created in {s}"),
    ("updated_at", "timestamp", "Last time the {o} was modified in {s}"),
    ("owner_id", "string", "User in {s} who owns the {o}"),
    ("status", "string", "Lifecycle status of the {o} ({v})"),
    ("amount", "decimal", "Total amount of the {o} in its currency"),
    ("currency", "string", "ISO 4217 currency code of the {o} amount"),
    ("billing_city", "string", "City of the billing address of the {o}"),
    ("billing_country", "string", "Country of the billing address of the {o}"),
    ("industry", "string", "Industry the {o} operates in"),
    ("annual_revenue", "decimal", "Reported yearly revenue attached to the {o}"),
    ("close_date", "date", "Expected or actual close date of the {o}"),
    ("stage", "string", "Pipeline stage the {o} is in ({v})"),
    ("is_active", "boolean", "Whether the {o} is currently active in {s}"),
    ("deactivated", "boolean", "True when the {o} has been switched off"),
    ("due_date", "date", "Date by which the {o} must be settled"),
    ("paid_at", "timestamp", "When payment for the {o} was received"),
    ("priority", "string", "Urgency of the {o} as set by the agent ({v})"),
    ("assignee", "string", "Agent the {o} is assigned to"),
    ("website", "string", "Web domain of the {o}"),
    ("employee_count", "integer", "Number of employees reported for the {o}"),
    ("quantity", "integer", "Units included in the {o}"),
    ("unit_price", "decimal", "Price per unit on the {o}"),
    ("tax_amount", "decimal", "Tax charged on the {o}"),
    ("usage_start", "timestamp", "Start of the usage period covered by the {o}"),
    ("service_name", "string", "Cloud service billed on the {o} (e.g. {v})"),
    ("region", "string", "Region the {o} belongs to ({v})"),
]
VALUES = [
    "open, won, lost",
    "new, active, churned",
    "EC2, S3, RDS",
    "eu-west-1, us-east-1",
    "low, normal, high, urgent",
    "draft, sent, paid, void",
    "trial, active, past_due",
]


def _style(name: str, style: int, prefix: str) -> str:
    parts = name.split("_")
    if style == 0:
        return name
    if style == 1:
        return parts[0] + "".join(p.title() for p in parts[1:])
    if style == 2:
        return "".join(p.title() for p in parts) + ("__c" if prefix else "")
    return f"{prefix or 'properties'}.{name}"


def field_texts(n_objects: int, seed: int = 7) -> list[str]:
    """~8 distinct field texts per object, like the matcher builds them."""
    rng = random.Random(seed)
    texts: list[str] = []
    seen: set[str] = set()
    for i in range(n_objects):
        system = rng.choice(SYSTEMS)
        obj, gloss = rng.choice(list(OBJECTS.items()))
        prefix = rng.choice(["", "", "custom", "meta", obj])
        style = rng.randrange(4)
        for name, typ, desc in rng.sample(FIELDS, rng.randint(6, 10)):
            text = (
                f"{_style(name, style, prefix)} ({typ}): "
                + desc.format(o=f"{gloss} ({obj})", s=system, v=rng.choice(VALUES))
                + f" [{system} {obj} #{i}]"
            )
            if text not in seen:
                seen.add(text)
                texts.append(text)
    return texts


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--replicas", type=int, default=CORES, help="fixed replica count")
    ap.add_argument("--threads", type=int, default=-1, help="torch threads per replica")
    ap.add_argument("--num-cpus", type=float, default=-1, help="CPUs reserved per replica")
    ap.add_argument("--max-ongoing", type=int, default=0)
    ap.add_argument("--batch-wait", type=float, default=-1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--slice", type=int, default=1024, help="texts per alternation")
    args = ap.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from autonomos.config import Settings
    from autonomos.models.embedder import LocalEmbedder
    from autonomos.serve_apps.embedder.client import ServeEmbedder

    overrides: dict[str, object] = {"log_level": "WARNING"}
    if args.replicas > 0:
        overrides |= {
            "embedder_min_replicas": args.replicas,
            "embedder_max_replicas": args.replicas,
        }
    if args.threads >= 0:
        overrides["embedder_threads"] = args.threads
    if args.num_cpus >= 0:
        overrides["embedder_num_cpus"] = args.num_cpus
    if args.max_ongoing:
        overrides["embedder_max_ongoing_requests"] = args.max_ongoing
    if args.batch_wait >= 0:
        overrides["embedder_batch_wait_s"] = args.batch_wait
    settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]

    texts = field_texts(args.objects)
    n = len(texts)
    words = statistics.mean(len(re.findall(r"\w+", t)) for t in texts)
    print(
        f"{args.objects} objects, {n} distinct field texts (~{words:.0f} words each), {CORES} cores"
    )

    direct = LocalEmbedder(batch_size=64, cache=None)  # cache off: every text is computed
    direct.encode(texts[:64])  # load and warm up

    import ray
    from ray import serve

    from autonomos.serve_apps.embedder.deployment import APP_NAME, build_app

    ray.init(
        address="local",
        num_cpus=CORES,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="WARNING",
    )
    try:
        serve.start(proxy_location="Disabled", logging_config={"enable_access_log": False})
        t = time.perf_counter()
        serve.run(build_app(settings), name=APP_NAME, route_prefix=None)
        print(
            f"serve app up in {time.perf_counter() - t:.1f} s: replicas="
            f"{settings.embedder_min_replicas}..{settings.embedder_max_replicas}, threads="
            f"{settings.embedder_threads or 'num_cpus'}, num_cpus={settings.embedder_num_cpus}, "
            f"max_ongoing={settings.embedder_max_ongoing_requests}, "
            f"batch_wait={settings.embedder_batch_wait_s}"
        )
        client = ServeEmbedder(batch_size=64, cache=None)
        client.encode(texts[:256])  # warm every replica

        # Alternate the two sides slice by slice: on a shared machine, load that comes and
        # goes then hits both alike. Each side embeds every text once per round.
        slices = [texts[i : i + args.slice] for i in range(0, n, args.slice)]
        rounds: list[tuple[float, float]] = []
        slice_ratios: list[float] = []
        for r in range(args.rounds):
            spent = {"direct": 0.0, "serve": 0.0}
            agree = 1.0
            for part in slices:
                t = time.perf_counter()
                a = direct.encode(part)
                d = time.perf_counter() - t
                t = time.perf_counter()
                b = client.encode(part)
                s = time.perf_counter() - t
                spent["direct"] += d
                spent["serve"] += s
                slice_ratios.append(d / s)
                agree = min(agree, float((a * b).sum(axis=1).min()))
            rates = (_rate(n, spent["direct"]), _rate(n, spent["serve"]))
            rounds.append(rates)
            print(
                f"round {r + 1}: direct {rates[0]:.1f}/s, serve {rates[1]:.1f}/s, ratio "
                f"{rates[1] / rates[0]:.2f}; min cosine(direct, serve) {agree:.6f}"
            )
        direct_total = n * len(rounds) / sum(n / d for d, _ in rounds)
        serve_total = n * len(rounds) / sum(n / s for _, s in rounds)
        stats = serve.get_deployment_handle("Embedder", APP_NAME).stats.remote().result()
        print(f"one replica's stats: {stats}; direct process torch threads: {torch_threads()}")
        print(f"direct (in process, batch 64): {direct_total:.1f} sentences/s")
        print(f"serve (lists of 64, @serve.batch): {serve_total:.1f} sentences/s")
        print(f"ratio serve/direct: {serve_total / direct_total:.2f} (goal >= 0.80)")
        print(
            f"median ratio over {len(slice_ratios)} slices: {statistics.median(slice_ratios):.2f}"
        )
    finally:
        serve.shutdown()
        ray.shutdown()


if __name__ == "__main__":
    main()
