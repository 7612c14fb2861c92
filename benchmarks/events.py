#!/usr/bin/env python
"""Live events through the Serve deployment: SSE clients across tenants, a fixed event rate.

One run (127.0.0.1 only, bounded in time):

1. the API on Ray Serve, as shipped (``serve_env``: throughput preset + HAProxy, one
   replica), started by ``benchmarks/api_latency.py``'s Serve child, with
   ``AUTONOMOS_REDIS_URL`` (a stream of this run's own on db 15) unless ``--no-redis``;
2. ``--tenants`` tenants registered through it, ``--clients`` SSE clients spread over
   them (raw sockets, a minimal parser: the client must not be the bottleneck), each
   opened with ``?after=`` its tenant's newest id, so every event produced is expected;
3. a producer process (as a Ray actor produces: it commits ``record()`` calls and numbers
   them itself, then adds them to the Redis stream; without Redis the replica polls the
   log) commits ``--rate`` events/s, spread evenly over the tenants, for ``--duration`` s;
4. then it waits (at most ``--drain`` s) for the clients to have everything.

Printed: delivery latency p50/p90/p99/max from the moment the producer numbered an event
(then added it to Redis) to a client reading its frame, and the same from ``occurred_at``
(set at ``record()``: it adds the producer's commit and numbering, which lag when the
producer cannot keep its rate on a loaded box), events lost (expected and never received; goal 0),
repeats, overflows (clients told to resume), the replica's memory (RSS, sampled every
second: start, peak, end) and the load average. Exit status 0 when nothing was lost.

    .venv/bin/python benchmarks/events.py --clients 200 --rate 1000 --duration 10

The issue's scale is ``--clients 1000 --rate 1000 --duration 30``.
"""

# ruff: noqa: ASYNC240  (the children read and write a few small control files)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "benchmarks")]

import api_latency as al  # noqa: E402  (the Serve child and its helpers)

FRAME = re.compile(
    rb'id: (\d+)\nevent: [^\n]*\ndata: \{"id":\d+,"type":"[^"]*","occurred_at":"([^"]+)"'
)

E2E_SAMPLE = 10  # the clients time one event in this many from its occurred_at


# -- the producer (a process of its own, like a Ray actor) ---------------------------------


async def produce(tenants: list[str], rate: float, duration: float, out: Path, tick: float) -> None:
    from autonomos.config import Settings
    from autonomos.events.log import EventLog, record
    from autonomos.store.session import Database

    settings = Settings()
    db = Database(settings.app_database_url)
    event_log = EventLog.from_settings(settings, db)
    numbered: dict[str, list[float]] = {t: [] for t in tenants}  # per tenant: id -> time

    async def stamp(tenant_id: uuid.UUID, events: Any) -> None:
        now = time.time()
        times = numbered[str(tenant_id)]
        for e in events:
            times.extend([0.0] * (e.id - len(times)))
            times[e.id - 1] = now

    event_log.listen(stamp, first=True)  # when each event was numbered (then sent to Redis)
    ids = [uuid.UUID(t) for t in tenants]
    per_tick = rate * tick
    counts = dict.fromkeys(tenants, 0)
    owed = 0.0
    start = time.monotonic()
    n = 0
    late = 0.0
    while (now := time.monotonic()) - start < duration:
        owed += per_tick
        batch, owed = int(owed), owed - int(owed)

        async def one(tenant: uuid.UUID, k: int, first: int) -> None:
            async with db.tenant_session(tenant) as s:
                for i in range(k):
                    record(s, "job.running", subject={"job_id": "bench"}, n=first + i)

        shares = [batch // len(ids) + (1 if i < batch % len(ids) else 0) for i in range(len(ids))]
        await asyncio.gather(*(one(t, k, n) for t, k in zip(ids, shares, strict=True) if k))
        for t, k in zip(tenants, shares, strict=True):
            counts[t] += k
        n += batch
        wait = start + (tick * (round((now - start) / tick) + 1)) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            late -= wait
    await event_log.wait()
    await event_log.close()
    await db.dispose()
    out.write_text(
        json.dumps(
            {
                "counts": counts,
                "seconds": time.monotonic() - start,
                "late_s": late,
                "numbered": numbered,
            }
        )
    )


# -- the clients -------------------------------------------------------------------------


class Client:
    def __init__(self, tenant: str, token: str, after: int) -> None:
        self.tenant, self.token, self.after = tenant, token, after
        self.last = after
        self.received = 0
        self.repeats = 0
        self.overflows = 0
        self.gaps = 0
        self.latencies: list[float] = []  # from record(), a sample
        self.arrivals: list[tuple[int, float]] = []  # (id, time read)
        self.opened = asyncio.Event()  # the stream answered 200


def dechunk(raw: bytes) -> tuple[bytes, bytes]:
    """HTTP/1.1 chunked transfer coding: (what is left undecoded, the body bytes)."""
    body = []
    while True:
        eol = raw.find(b"\r\n")
        if eol < 0:
            break
        size = int(raw[:eol], 16)
        if len(raw) < eol + 2 + size + 2:
            break
        body.append(raw[eol + 2 : eol + 2 + size])
        raw = raw[eol + 2 + size + 2 :]
    return raw, b"".join(body)


async def follow(host: str, port: int, c: Client, stop: asyncio.Event) -> None:
    while not stop.is_set():
        reader, writer = await asyncio.open_connection(host, port)
        request = (
            f"GET /api/v1/events/stream?after={c.last} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {c.token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"stream refused: {head[:200]!r}")
        c.opened.set()
        raw, buffer = b"", b""
        try:
            while not stop.is_set():
                chunk = await reader.read(1 << 16)
                if not chunk:
                    break
                now = time.time()
                raw, body = dechunk(raw + chunk)
                buffer += body
                end = buffer.rfind(b"\n\n")
                if end < 0:
                    continue
                done, buffer = buffer[: end + 2], buffer[end + 2 :]
                for m in FRAME.finditer(done):
                    i = int(m.group(1))
                    if i <= c.last:
                        c.repeats += 1
                        continue
                    if i != c.last + 1:
                        c.gaps += 1
                    c.last = i
                    c.received += 1
                    c.arrivals.append((i, now))
                    if i % E2E_SAMPLE == 0:  # parsing every timestamp would slow the reader
                        at = datetime.fromisoformat(m.group(2).decode().replace("Z", "+00:00"))
                        c.latencies.append(now - at.timestamp())
                if b"event: overflow" in done:
                    c.overflows += 1
                    break  # resume after c.last, as a browser does
        finally:
            writer.close()


async def clients_main(args: argparse.Namespace) -> None:
    spec = json.loads(Path(args.clients_spec).read_text())
    host, port = spec["host"], spec["port"]
    clients = [Client(**c) for c in spec["clients"]]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(follow(host, port, c, stop)) for c in clients]
    opening = time.monotonic()
    await asyncio.gather(*(c.opened.wait() for c in clients))
    opened_s = time.monotonic() - opening
    Path(args.clients_ready).write_text("ok")
    expected: dict[str, int] | None = None
    deadline = None
    while True:
        await asyncio.sleep(0.2)
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        produced = Path(args.produced)
        if expected is None and produced.exists():
            made = json.loads(produced.read_text())
            expected, numbered = made["counts"], made["numbered"]
            deadline = time.monotonic() + args.drain
        if expected is not None:
            behind = sum(1 for c in clients if c.last < c.after + expected[c.tenant])
            if not behind or time.monotonic() > (deadline or 0):
                break
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert expected is not None
    lat = [x for c in clients for x in c.latencies]  # sorted by merge(), with the others'
    # an event the producer's listener never saw was numbered by another process (the
    # API's sweep numbers what a lagging producer left): no numbering time to measure from
    hop: list[float] = []
    unstamped = 0
    for c in clients:
        times = numbered[c.tenant]
        for i, read_at in c.arrivals:
            at = times[i - 1] if i <= len(times) else 0.0
            if at > 0:
                hop.append(read_at - at)
            else:
                unstamped += 1
    result = {
        "expected": sum(expected[c.tenant] for c in clients),
        "received": sum(c.received for c in clients),
        "lost": sum(max(0, expected[c.tenant] - c.received) for c in clients),
        "repeats": sum(c.repeats for c in clients),
        "gaps": sum(c.gaps for c in clients),
        "overflows": sum(c.overflows for c in clients),
        "opened_s": opened_s,
        "unstamped": unstamped,
    }
    out = Path(args.clients_out)
    out.write_text(json.dumps(result))
    # the raw samples (millions of floats: binary, not JSON), merged by the parent
    Path(f"{out}.hop").write_bytes(array("d", hop).tobytes())
    Path(f"{out}.lat").write_bytes(array("d", lat).tobytes())


def merge(outs: list[Path]) -> dict[str, Any]:
    """One result from the reader processes' own: counts summed, percentiles of all samples."""
    parts = [json.loads(o.read_text()) for o in outs]
    result: dict[str, Any] = {
        k: sum(p[k] for p in parts)
        for k in ("expected", "received", "lost", "repeats", "gaps", "overflows", "unstamped")
    }
    result["opened_s"] = max(p["opened_s"] for p in parts)

    def samples(suffix: str) -> list[float]:
        values = array("d")
        for o in outs:
            values.frombytes(Path(f"{o}.{suffix}").read_bytes())
        return sorted(values)

    def pct(values: list[float], q: float) -> float | None:
        return 1000 * values[min(len(values) - 1, int(len(values) * q))] if values else None

    hop, lat = samples("hop"), samples("lat")
    result.update(
        {
            "p50_ms": pct(hop, 0.5),
            "p90_ms": pct(hop, 0.9),
            "p99_ms": pct(hop, 0.99),
            "max_ms": pct(hop, 1.0),
            "e2e_p50_ms": pct(lat, 0.5),
            "e2e_p99_ms": pct(lat, 0.99),
            "mean_ms": 1000 * statistics.fmean(hop) if hop else None,
        }
    )
    return result


# -- the parent --------------------------------------------------------------------------


async def _pg_admin(statements: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn=f"postgresql://postgres@{ARGS_PG[0]}/postgres")
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


ARGS_PG = ["127.0.0.1:5432"]


def replica_rss_mib() -> float | None:
    """RSS of the largest API replica (the ServeReplica processes of the ``api`` app)."""
    found: list[float] = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"ServeReplica:api" in cmdline.read_bytes():
                for line in (cmdline.parent / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        found.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(found, default=None)


def run(args: argparse.Namespace) -> int:
    if args.postgres:
        ARGS_PG[0] = args.postgres
    workdir = Path(tempfile.mkdtemp(prefix="events-bench-"))
    serve_port = al.free_port()
    stream_key = f"autonomos:bench-events:{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        {
            "AUTONOMOS_DATA_DIR": str(workdir / "data"),
            "AUTONOMOS_JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
            "AUTONOMOS_SERVE_PORT": str(serve_port),
            "AUTONOMOS_SERVE_HOST": "127.0.0.1",
            "AUTONOMOS_SERVE_MAX_ONGOING_REQUESTS": str(args.clients + 64),
            "AUTONOMOS_LOG_LEVEL": "WARNING",
            "AUTONOMOS_AGENT_SCHEDULER_S": "0",
            "AUTONOMOS_EVENT_STREAM": stream_key,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1",
        }
    )
    pg_db = None
    if args.postgres:  # a fresh database: migrated by its owner, used by a non-owner role
        pg_db = f"events_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin([f"CREATE DATABASE {pg_db}"]))
        base_url = f"@{args.postgres}/{pg_db}"
        env["AUTONOMOS_MIGRATION_DATABASE_URL"] = f"postgresql+asyncpg://postgres{base_url}"
        env["AUTONOMOS_DATABASE_URL"] = f"postgresql+asyncpg://autonomos_app{base_url}"
    if args.redis_url:
        env["AUTONOMOS_REDIS_URL"] = args.redis_url
    else:
        env.pop("AUTONOMOS_REDIS_URL", None)
    if args.replicas:
        env["AUTONOMOS_SERVE_REPLICAS"] = str(args.replicas)
    os.environ.update(env)
    from autonomos.config import Settings
    from autonomos.serve_apps.api.deployment import serve_env
    from autonomos.store import migrate

    settings = Settings()
    replicas = settings.serve_replicas
    migrate.upgrade(settings.owner_database_url, "head", settings.app_database_url)
    ray_env = serve_env(settings)
    serve_env_all = {**env, **al.isolation_env(ray_env, workdir), **ray_env}
    ready = workdir / "serve.ready"
    serve_argv = [
        str(REPO_ROOT / "benchmarks" / "api_latency.py"),
        *("--_child", "serve", "--app", "project", "--port", str(serve_port)),
        *("--ready-file", str(ready), "--replicas-expected", "1"),
    ]
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(argv: list[str], name: str, environ: dict[str, str]) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [sys.executable, *argv],
            env=environ,
            stdout=open(workdir / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
        )
        procs.append(p)
        return p

    load_start = os.getloadavg()
    print(
        f"events: {args.clients} SSE clients ({args.readers} reader processes) over "
        f"{args.tenants} tenants, {args.rate:g} "
        f"events/s for {args.duration:g} s, Serve (HAProxy + {replicas} API "
        f"replica{'s' if replicas > 1 else ''}) on 127.0.0.1, "
        f"{'Redis Streams' if args.redis_url else 'no Redis (the replica polls the log)'}, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}; load average "
        f"{load_start[0]:.1f}",
        flush=True,
    )
    try:
        serve = spawn(serve_argv, "serve", serve_env_all)
        end = time.monotonic() + 300
        while not ready.exists():
            if serve.poll() is not None or time.monotonic() > end:
                print((workdir / "serve.log").read_text()[-4000:], file=sys.stderr)
                raise RuntimeError("Serve did not come up")
            time.sleep(0.5)
        base = json.loads(ready.read_text())["urls"][0]
        tenants: list[tuple[str, str]] = []
        for _ in range(args.tenants):
            token = al.register_token(base)
            _, body = al.http("GET", base + al.ME_PATH, token=token)
            tenants.append((json.loads(body)["tenant_id"], token))
        host, port = base.removeprefix("http://").split(":")
        spec = {
            "host": host,
            "port": int(port),
            "clients": [
                {
                    "tenant": tenants[i % args.tenants][0],
                    "token": tenants[i % args.tenants][1],
                    "after": 0,
                }
                for i in range(args.clients)
            ],
        }
        me = str(Path(__file__).resolve())
        produced_file = str(workdir / "produced")
        readers: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
        for j in range(args.readers):  # each reader a slice of every tenant's clients
            part = {**spec, "clients": spec["clients"][j :: args.readers]}
            (workdir / f"clients-{j}.json").write_text(json.dumps(part))
            ready_j, out_j = workdir / f"clients-ready-{j}", workdir / f"clients-out-{j}"
            proc = spawn(
                [
                    me,
                    *("--_child", "clients"),
                    *("--clients-spec", str(workdir / f"clients-{j}.json")),
                    *("--clients-ready", str(ready_j)),
                    *("--produced", produced_file),
                    *("--clients-out", str(out_j)),
                    *("--drain", str(args.drain)),
                ],
                f"clients-{j}",
                env,
            )
            readers.append((proc, ready_j, out_j))
        for j, (proc, ready_j, _) in enumerate(readers):
            while not ready_j.exists():
                if proc.poll() is not None:
                    raise RuntimeError((workdir / f"clients-{j}.log").read_text()[-3000:])
                time.sleep(0.2)
        time.sleep(1)
        rss = [replica_rss_mib() or 0.0]
        producer = spawn(
            [
                me,
                "--_child",
                "producer",
                "--tenant-ids",
                ",".join(t for t, _ in tenants),
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration),
                "--tick",
                str(args.tick),
                "--produced",
                produced_file,
            ],
            "producer",
            env,
        )
        load_peak = 0.0
        while any(proc.poll() is None for proc, _, _ in readers):
            rss.append(replica_rss_mib() or 0.0)
            load_peak = max(load_peak, os.getloadavg()[0])
            if producer.poll() not in (None, 0):
                raise RuntimeError((workdir / "producer.log").read_text()[-3000:])
            time.sleep(1)
        for j, (proc, _, _) in enumerate(readers):
            if proc.returncode != 0:
                raise RuntimeError((workdir / f"clients-{j}.log").read_text()[-3000:])
        result = merge([out for _, _, out in readers])
        made = json.loads(Path(produced_file).read_text())
    finally:
        for p in procs:
            al.stop_process(p, grace_s=60)
        hx = workdir / "haproxy-dir"
        if hx.exists():
            al.kill_processes_mentioning(hx.read_text())
            shutil.rmtree(hx.read_text(), ignore_errors=True)
        if args.redis_url:
            import redis

            redis.Redis.from_url(args.redis_url).delete(stream_key)
        if pg_db is not None:
            asyncio.run(_pg_admin([f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"]))
    produced = sum(made["counts"].values())
    print(
        f"produced {produced} events in {made['seconds']:.1f} s "
        f"({produced / made['seconds']:.0f}/s; producer behind its schedule {made['late_s']:.1f} s)"
    )
    print(
        f"delivered {result['received']} of {result['expected']} expected (client x event): "
        f"lost {result['lost']}, repeats {result['repeats']}, gaps {result['gaps']}, "
        f"overflows {result['overflows']}; every stream open after {result['opened_s']:.1f} s"
    )
    print(
        f"delivery latency (numbered -> client) p50 {result['p50_ms']:.1f} ms, "
        f"p90 {result['p90_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"max {result['max_ms']:.1f} ms; from record() (includes the producer's commit and "
        f"numbering; one event in {E2E_SAMPLE}) p50 {result['e2e_p50_ms']:.1f} ms, "
        f"p99 {result['e2e_p99_ms']:.1f} ms"
    )
    if result["unstamped"]:
        print(
            f"{result['unstamped']} deliveries of events numbered by another process (the "
            "API's sweep, behind a lagging producer) are left out of the numbered -> client "
            "figures"
        )
    print(
        f"replica RSS (the largest of {replicas}) {rss[0]:.0f} MiB before, peak {max(rss):.0f} "
        f"MiB, end {rss[-1]:.0f} MiB; "
        f"load average peak {load_peak:.1f} (1 min)"
    )
    if args.json:
        print(
            json.dumps(
                {
                    **result,
                    "produced": produced,
                    "rss_mib": [rss[0], max(rss), rss[-1]],
                    "load_peak": load_peak,
                    "args": vars(args),
                }
            )
        )
    goal = result["lost"] == 0
    print(
        f"goal: 0 events lost: {'met' if goal else 'MISSED'}; p99 < 250 ms: "
        f"{'met' if (result['p99_ms'] or 1e9) < 250 else 'missed'}"
    )
    return 0 if goal else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--tenants", type=int, default=10)
    p.add_argument("--rate", type=float, default=1000.0, help="events per second, all tenants")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of production")
    p.add_argument(
        "--tick",
        type=float,
        default=0.1,
        help="the producer commits one transaction per tenant every tick seconds",
    )
    p.add_argument("--drain", type=float, default=60.0, help="seconds to wait for stragglers")
    p.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="API replicas (AUTONOMOS_SERVE_REPLICAS; default: the setting's, 1); each "
        "follows the Redis stream and serves the streams HAProxy gives it",
    )
    p.add_argument(
        "--readers",
        type=int,
        default=2,
        help="processes the SSE clients are spread over (each reads and parses its "
        "clients' frames on one core; with one, its queue was part of the measured tail)",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--no-redis", dest="redis_url", action="store_const", const=None)
    p.add_argument(
        "--postgres",
        metavar="HOST:PORT",
        help="a fresh PostgreSQL database there (user postgres, trust; the app as the "
        "autonomos_app role); default: SQLite in the run's data dir",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--_child", choices=["clients", "producer"], help=argparse.SUPPRESS)
    for name in (
        "--clients-spec",
        "--clients-ready",
        "--produced",
        "--clients-out",
        "--tenant-ids",
    ):
        p.add_argument(name, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    if args._child == "clients":
        asyncio.run(clients_main(args))
        return 0
    if args._child == "producer":
        asyncio.run(
            produce(
                args.tenant_ids.split(","), args.rate, args.duration, Path(args.produced), args.tick
            )
        )
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
