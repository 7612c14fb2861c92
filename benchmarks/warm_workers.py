#!/usr/bin/env python
"""The warm worker pool (``AUTONOMOS_ACTOR_WARM_WORKERS``): one activation at a time, in a
prestarted worker against in a fresh process, interleaved in one Ray session so that both
see the same load.

Each round activates a tenant's supervisor (``status`` only: no sync) and starts a bare
actor (an empty ``num_cpus=0`` class, one ping), each twice: ``warm`` after asking the
raylet for one worker (:class:`~autonomos.actors.warm.WarmPool`) and waiting for it,
``cold`` after occupying every idle worker of the node with placeholder actors, so the
actor needs a new process. Prints each start and the p50 of each case, and whether the
actor's process was one of the node's idle workers.

    .venv/bin/python benchmarks/warm_workers.py [--rounds 6]
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
for path in (REPO_ROOT, REPO_ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import ray  # noqa: E402
from tenants import Bare, idle_workers  # noqa: E402

from autonomos.actors.launcher import RaySyncLauncher  # noqa: E402
from autonomos.actors.warm import WarmPool  # noqa: E402
from autonomos.config import Settings  # noqa: E402
from autonomos.store import migrate  # noqa: E402


@ray.remote(num_cpus=0)
class Placeholder:
    def ping(self) -> int:
        return os.getpid()


async def start(kind: str, launcher: RaySyncLauncher) -> tuple[float, int, Any]:
    t0 = time.monotonic()
    if kind == "supervisor":
        tid = uuid.uuid4()
        pid = (await launcher.call(tid, "status"))["process"]["pid"]
        handle = await asyncio.to_thread(launcher.supervisor, tid)
    else:
        handle = Bare.remote()  # type: ignore[attr-defined]
        pid = (await handle.ping.remote())["pid"]
    return time.monotonic() - t0, pid, handle


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp / "data",
        files_roots=[str(tmp)],
        ray_namespace="autonomos-bench-warm",
        log_level="WARNING",
        actor_warm_workers=0,  # the rounds ask for workers themselves
    )
    await asyncio.to_thread(
        migrate.upgrade, settings.owner_database_url, "head", settings.app_database_url
    )
    ray.init(
        address="local",
        num_cpus=args.cpus,
        include_dashboard=False,
        namespace=settings.ray_namespace,
        log_to_driver=False,
        logging_level="WARNING",
    )
    try:
        launcher = RaySyncLauncher(settings, idle_s=60, check_s=0.5)
        warm = WarmPool(1, keep_s=120)
        results: dict[tuple[str, str], list[tuple[float, bool]]] = {}
        for i in range(args.rounds):
            for kind in ("supervisor", "bare"):
                for case in ("warm", "cold") if i % 2 == 0 else ("cold", "warm"):
                    placeholders = []
                    if case == "warm":
                        warm.replace(delay_s=0)
                        for _ in range(100):
                            if idle_workers():
                                break
                            await asyncio.sleep(0.1)
                    else:
                        placeholders = [
                            Placeholder.remote()  # type: ignore[attr-defined]
                            for _ in range(len(idle_workers()) + 1)
                        ]
                        await asyncio.gather(*(p.ping.remote() for p in placeholders))
                    await asyncio.sleep(1.0)
                    idle = {p.pid for p in idle_workers()}
                    took, pid, handle = await start(kind, launcher)
                    ray.kill(handle)
                    for p in placeholders:
                        ray.kill(p)
                    results.setdefault((kind, case), []).append((took, pid in idle))
                    print(
                        f"round {i + 1}: {kind:<10} {case}  {took:.3f} s  "
                        f"{'idle worker' if pid in idle else 'new process'}  "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        print()
        for (kind, case), rows in sorted(results.items()):
            print(
                f"{kind:<10} {case}: start + first answer p50 "
                f"{statistics.median(t for t, _ in rows):.3f} s "
                f"(n={len(rows)}, {sum(p for _, p in rows)} in an idle worker)"
            )
    finally:
        ray.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    asyncio.run(main(parser.parse_args()))
