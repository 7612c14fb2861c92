#!/usr/bin/env python
"""Tenant scale: virtual tenant actors, activated on first use and passivated when idle.

Registers ``--tenants`` tenants (default 1,000), then drives work to a rolling set of
them: ``--waves`` waves of ``--active`` tenants each (a new set every wave). For every
tenant of a wave, its first request is a sync of a small files connection through the
``RaySyncLauncher`` (the API's path): the tenant's supervisor, connector and DCL actors
are created on demand, the run lands, the views are materialised. Prints:

- activation latency p50/p99: from the first call to the tenant's supervisor answering
  (``activate``), and to its first sync finished (``first sync``: connector + run);
- memory per actor kind (RSS and USS of each process, median), per active tenant and in
  total for the wave's active tenants, plus each kind's heavy modules (what it imports);
- memory given back once the wave is passivated (every tenant actor gone after
  ``--idle-s``): node memory used, active vs passivated.

Same-run baseline: the start of a bare Ray actor (an empty ``num_cpus=0`` class, one
ping) on the same cluster, p50, so the activation figure reads as a ratio on any box.
Goals (issue 15): 1,000 registered tenants, >= 40 active within 12 GB, activation p50
< 1.5 s.

    .venv/bin/python benchmarks/tenants.py [--tenants 1000 --active 40 --waves 2]
    .venv/bin/python benchmarks/tenants.py --active 8 --waves 2 --parallel 4   # small box
    # 40 active at once on a small box (DCL actors passivating sooner than the supervisors)
    .venv/bin/python benchmarks/tenants.py --active 40 --waves 1 --parallel 4 --idle-s 420 \
        --dcl-idle-s 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import psutil  # noqa: E402
import ray  # noqa: E402

from autonomos.actors.launcher import RaySyncLauncher  # noqa: E402
from autonomos.actors.process import process_info  # noqa: E402
from autonomos.actors.warm import idle_workers as warm_idle_workers  # noqa: E402
from autonomos.actors.warm import local_raylet  # noqa: E402
from autonomos.actors.warm import pool as warm_pool  # noqa: E402
from autonomos.config import Settings  # noqa: E402
from autonomos.store import migrate  # noqa: E402
from autonomos.store.aam_models import Connection, SyncRun  # noqa: E402
from autonomos.store.models import Tenant  # noqa: E402
from autonomos.store.session import Database  # noqa: E402

NAMESPACE = "autonomos-bench-tenants"


@ray.remote(num_cpus=0)
class Bare:
    def ping(self) -> dict[str, Any]:
        return process_info()


def idle_workers() -> list[psutil.Process]:
    """The node's idle Ray worker processes."""
    raylet = local_raylet()
    return warm_idle_workers(raylet) if raylet is not None else []


def process_uss(process: psutil.Process) -> int:
    try:
        return int(process.memory_full_info().uss)
    except psutil.Error:
        return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


async def register(db: Database, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    async with db.global_session() as s:
        s.add_all(Tenant(id=tid, name=f"bench-{i:05d}") for i, tid in enumerate(ids))
    return ids


async def prepare(db: Database, tid: uuid.UUID, src: Path) -> tuple[uuid.UUID, uuid.UUID]:
    """A files connection over ``src`` and a queued run of it."""
    async with db.tenant_session(tid) as s:
        conn = Connection(name="bench", source_type="files", config={"path": str(src)})
        s.add(conn)
        await s.flush()
        run = SyncRun(connection_id=conn.id)
        s.add(run)
        await s.flush()
        return conn.id, run.id


async def finished(db: Database, tid: uuid.UUID, run_id: uuid.UUID, within_s: float) -> str:
    deadline = time.monotonic() + within_s
    while True:
        async with db.tenant_session(tid) as s:
            run = await s.get(SyncRun, run_id)
            assert run is not None
            if run.status in ("succeeded", "failed", "cancelled"):
                return run.status
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} still {run.status}")
        await asyncio.sleep(0.05)


def tenant_actors(tids: set[str]) -> list[dict[str, Any]]:
    return [
        a
        for a in ray.util.list_named_actors(all_namespaces=True)
        if any(t in a["name"] for t in tids)
    ]


async def measure_actors(tids: set[str]) -> list[dict[str, Any]]:
    """Kind, pid, RSS, USS, CPU time and heavy modules of every live actor of these
    tenants."""
    out = []
    for a in tenant_actors(tids):
        kind = a["name"].split(":", 1)[0]
        try:
            handle = ray.get_actor(a["name"], namespace=a["namespace"])
            info = await (handle.status if kind == "supervisor" else handle.ping).remote()
        except Exception:
            continue  # passivating meanwhile
        proc = info["process"] if kind == "supervisor" else info
        try:
            process = psutil.Process(proc["pid"])
            mem, cpu = process.memory_full_info(), process.cpu_times()
        except psutil.Error:
            continue
        out.append(
            {
                "kind": kind,
                "tenant": a["name"].split(":")[1],
                "pid": proc["pid"],
                "rss": mem.rss,
                "uss": mem.uss,
                "cpu": cpu.user + cpu.system,  # CPU seconds the process has used so far
                "heavy": proc.get("heavy_modules", []),
            }
        )
    return out


async def activate(
    launcher: RaySyncLauncher, db: Database, tid: uuid.UUID, cid: uuid.UUID, run_id: uuid.UUID
) -> tuple[float, float, str]:
    began = time.monotonic()
    await launcher.call(tid, "status")
    up = time.monotonic() - began
    await launcher.launch(tid, cid, run_id)
    status = await finished(db, tid, run_id, within_s=600)
    return up, time.monotonic() - began, status


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-tenants-"))
    src = tmp / "src"
    src.mkdir()
    (src / "accounts.csv").write_text(
        "id,name,domain\n" + "".join(f"{i},Acme {i},acme{i}.example\n" for i in range(200))
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp / "data",
        files_roots=[str(tmp)],
        database_url=args.database_url,
        ray_namespace=NAMESPACE,
        actor_idle_s=args.idle_s,
        dcl_idle_s=args.idle_s if args.dcl_idle_s is None else args.dcl_idle_s,
        log_level="WARNING",
        **({} if args.warm_workers is None else {"actor_warm_workers": args.warm_workers}),
    )
    await asyncio.to_thread(
        migrate.upgrade, settings.owner_database_url, "head", settings.app_database_url
    )
    db = Database(settings.app_database_url)
    began = time.monotonic()
    tenants = await register(db, args.tenants)
    print(f"registered {len(tenants):,} tenants in {time.monotonic() - began:.2f} s")

    ray.init(
        address="local",
        num_cpus=args.cpus,
        include_dashboard=False,
        namespace=NAMESPACE,
        log_to_driver=False,
        logging_level="WARNING",
    )
    try:
        bare, bare_mem, bare_heavy = [], [], set()

        async def bare_start() -> None:
            t0 = time.monotonic()
            actor = Bare.remote()  # type: ignore[attr-defined]
            info = await actor.ping.remote()
            bare.append(time.monotonic() - t0)
            bare_mem.append(psutil.Process(info["pid"]).memory_full_info())
            bare_heavy.update(info["heavy_modules"])
            ray.kill(actor)

        for _ in range(args.baseline):  # as many at once as the activations below
            await asyncio.gather(*(bare_start() for _ in range(args.parallel)))
        bare_rss = statistics.median(m.rss for m in bare_mem)
        bare_uss = statistics.median(m.uss for m in bare_mem)
        print(
            f"baseline: bare Ray actor process RSS {mib(bare_rss)}, USS {mib(bare_uss)}, "
            f"heavy: {', '.join(sorted(bare_heavy)) or '-'}"
        )
        print(
            f"baseline: bare Ray actor start + ping p50 {statistics.median(bare):.3f} s "
            f"(n={len(bare)}, {args.parallel} at once)"
        )
        launcher = RaySyncLauncher(settings, idle_s=args.idle_s, check_s=0.5)
        # what an API process does once connected (after the baseline: it measures Ray alone)
        launcher.warm()
        t0 = time.monotonic()
        for _ in range(150):  # up to 15 s for the pool to come up
            if len(idle_workers()) >= settings.actor_warm_workers:
                break
            await asyncio.sleep(0.1)
        idle = idle_workers()
        print(
            f"warm pool: AUTONOMOS_ACTOR_WARM_WORKERS={settings.actor_warm_workers}, "
            f"{len(idle)} idle Ray workers on the node after {time.monotonic() - t0:.1f} s, "
            f"USS {mib(sum(process_uss(p) for p in idle))}"
        )
        sem = asyncio.Semaphore(args.parallel)
        ups: list[float] = []
        syncs: list[float] = []
        for wave in range(args.waves):
            wave_tids = tenants[wave * args.active : (wave + 1) * args.active]
            prepared = [await prepare(db, tid, src) for tid in wave_tids]
            node_before = psutil.virtual_memory().used

            procs: list[dict[str, Any]] = []
            order: list[tuple[float, float]] = []  # (started, activation) of each tenant
            pooled: list[bool] = []  # the supervisor took a worker idle when it was asked for

            async def one(
                tid: uuid.UUID,
                cid: uuid.UUID,
                run_id: uuid.UUID,
                into: list[dict[str, Any]],
                order: list[tuple[float, float]],
                pooled: list[bool],
            ) -> None:
                async with sem:
                    started = time.monotonic()
                    idle_before = {p.pid for p in idle_workers()}
                    up, sync, status = await activate(launcher, db, tid, cid, run_id)
                    order.append((started, up))
                    # measured while it is active (its actors outlive the sync by idle_s)
                    mine = await measure_actors({str(tid)})
                    into.extend(mine)
                    sup = [p["pid"] for p in mine if p["kind"] == "supervisor"]
                    pooled.append(bool(sup) and sup[0] in idle_before)
                assert status == "succeeded", status
                ups.append(up)
                syncs.append(sync)

            t0 = time.monotonic()
            await asyncio.gather(
                *(
                    one(t, c, r, procs, order, pooled)
                    for t, (c, r) in zip(wave_tids, prepared, strict=True)
                )
            )
            wall = time.monotonic() - t0
            print(
                f"\nwave {wave + 1}: activations in the order they started (s): "
                + " ".join(f"{up:.2f}" for _, up in sorted(order))
                + f"; {sum(pooled)} of {len(pooled)} supervisors in an idle (warm) worker"
            )
            ids = {str(t) for t in wave_tids}
            node_active = psutil.virtual_memory().used
            still = len({a["name"].split(":")[1] for a in tenant_actors(ids)})
            # all of the wave's live actor processes at once, at the end of the wave
            live = await measure_actors(ids)
            by_kind: dict[str, list[dict[str, Any]]] = {}
            for p in procs:
                by_kind.setdefault(p["kind"], []).append(p)
            total_uss = sum(p["uss"] for p in procs)
            total_rss = sum(p["rss"] for p in procs)
            print(
                f"\nwave {wave + 1}: {len(wave_tids)} tenants activated in {wall:.1f} s, "
                f"{len(procs)} actor processes measured, {still} tenants still active at the end"
            )
            for kind, ps in sorted(by_kind.items()):
                heavy = sorted({m for p in ps for m in p["heavy"]})
                rss = statistics.median(p["rss"] for p in ps)
                uss = statistics.median(p["uss"] for p in ps)
                cpu = statistics.median(p["cpu"] for p in ps)
                print(
                    f"  {kind:<10} n={len(ps):<3} RSS p50 {mib(rss)}  USS p50 {mib(uss)}"
                    f"  CPU p50 {cpu:.2f} s"
                    f"  heavy: {', '.join(heavy) or '-'}"
                )
            print(
                f"  per active tenant: USS {mib(total_uss / len(wave_tids))}, "
                f"RSS {mib(total_rss / len(wave_tids))}"
            )
            print(
                f"  total for {len(wave_tids)} active tenants: USS {mib(total_uss)}, "
                f"RSS {mib(total_rss)}; node memory used +{mib(node_active - node_before)}"
            )
            live_tenants = len({p["tenant"] for p in live})
            live_kinds = ", ".join(
                f"{k} {sum(p['kind'] == k for p in live)}, CPU p50 "
                f"{statistics.median(p['cpu'] for p in live if p['kind'] == k):.2f} s"
                for k in sorted({p["kind"] for p in live})
            )
            print(
                f"  at the end of the wave, at once: {live_tenants} tenants, {len(live)} actor "
                f"processes ({live_kinds}): USS {mib(sum(p['uss'] for p in live))}, "
                f"RSS {mib(sum(p['rss'] for p in live))}"
            )
            idle = idle_workers()
            print(
                f"  warm pool at the end of the wave: {len(idle)} idle Ray workers, USS "
                f"{mib(sum(process_uss(p) for p in idle))} "
                f"({warm_pool(settings).requested} requested so far by the launcher's process)"
            )
            t0 = time.monotonic()
            while tenant_actors(ids):
                if time.monotonic() - t0 > args.idle_s + 120:
                    raise TimeoutError("tenant actors were not passivated")
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)  # let the processes' memory return to the OS
            node_after = psutil.virtual_memory().used
            gone = [p for p in procs if not psutil.pid_exists(p["pid"])]
            print(
                f"  {len(gone)} of {len(procs)} measured actor processes exited: their USS "
                f"{mib(sum(p['uss'] for p in gone))} (RSS {mib(sum(p['rss'] for p in gone))}) "
                "given back"
            )
            print(
                f"  passivated in {time.monotonic() - t0:.1f} s (idle_s={args.idle_s}): "
                f"node memory used {mib(node_active)} -> {mib(node_after)} "
                f"(the whole shared node, noisy)"
            )
        print(
            f"\nactivation (supervisor answering): p50 {statistics.median(ups):.3f} s, "
            f"p99 {pct(ups, 0.99):.3f} s (n={len(ups)})"
        )
        print(
            f"activation + first sync:           p50 {statistics.median(syncs):.3f} s, "
            f"p99 {pct(syncs, 0.99):.3f} s"
        )
        print(
            f"ratio activation p50 / bare actor p50: "
            f"{statistics.median(ups) / statistics.median(bare):.2f}"
        )
    finally:
        ray.shutdown()
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--active", type=int, default=40)
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=8, help="activations at once")
    parser.add_argument(
        "--idle-s", type=float, default=30.0, help="passivation (longer than one activation)"
    )
    parser.add_argument(
        "--dcl-idle-s",
        type=float,
        default=None,
        help="the DCL actors' own passivation (default: --idle-s); shorter keeps a big wave's "
        "DCL actors (one per tenant whose views are refreshed) from piling up",
    )
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--baseline", type=int, default=2, help="rounds of --parallel bare actors started"
    )
    parser.add_argument(
        "--warm-workers",
        type=int,
        default=None,
        help="AUTONOMOS_ACTOR_WARM_WORKERS (default: the setting's default; 0: no warm pool)",
    )
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    asyncio.run(main(parser.parse_args()))
