"""Child process of the 1 GB test: one real sync run, then its own peak RSS as JSON.

    python -m tests.integration.aam.big_file_sync '{"data_dir": ..., "database_url": ...,
        "landing": ..., "tenant_id": ..., "run_id": ...}'

A separate process so that the peak RSS measured is the sync's alone (the test process
holds Ray, the API app and everything other tests loaded).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid
from pathlib import Path


async def _run(args: dict[str, str]) -> str:
    from autonomos.aam.edge import EdgePolicies
    from autonomos.aam.landing import LandingZone
    from autonomos.aam.sync import SyncEngine
    from autonomos.store.secrets import SecretBox
    from autonomos.store.session import Database
    from tests.conftest import make_settings

    overrides = {"database_url": args["database_url"]} if args.get("database_url") else {}
    settings = make_settings(Path(args["data_dir"]), **overrides)
    db = Database(settings.app_database_url)
    try:
        engine = SyncEngine(
            db,
            LandingZone(Path(args["landing"])),
            SecretBox.from_settings(settings),
            EdgePolicies(settings),
        )
        status = await engine.run(uuid.UUID(args["tenant_id"]), uuid.UUID(args["run_id"]))
    finally:
        await db.dispose()
    return status.value


def main() -> None:
    args = json.loads(sys.argv[1])
    t = time.perf_counter()
    status = asyncio.run(_run(args))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {"status": status, "peak_rss_mb": peak_kib / 1024, "wall_s": time.perf_counter() - t}
        )
    )


if __name__ == "__main__":
    main()
