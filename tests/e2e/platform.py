"""The platform for the browser test, started as ``autonomos up`` starts it, on its own
ports and data dir. Prints one JSON line once the API answers, then serves until killed.

    python -m tests.e2e.platform --data-dir DIR --port PORT [--executor ray|inline]

``ray`` (the browser test's default): a local Ray owned by this process (random ports,
gone with it, never ``ray stop``), the API deployed on Ray Serve with the classic proxy,
syncs and views in per-tenant actors; then, as ``up``: migrate, the demo tenant, its
``mock_sources/`` synced and mapped onto the ontology. ``inline``: the same preparation,
then the API under uvicorn with syncs and views in its process (no Ray).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import uvicorn

from autonomos.cli._common import do_migrate, run_async
from autonomos.cli.ingest import ingest
from autonomos.cli.platform import DEMO_CONNECTION_ID
from autonomos.config import Settings
from autonomos.demo.tenant import MOCK_SOURCES, credentials_file, ensure_demo_tenant
from autonomos.jobs.batch_map import map_tenant
from autonomos.serve_apps.api.app import create_app


def prepare(settings: Settings) -> dict[str, str]:
    """What ``autonomos up`` does before it prints the demo login."""
    do_migrate(settings)
    tenant_id = str(run_async(lambda: ensure_demo_tenant(settings)))
    creds = json.loads(credentials_file(settings).read_text())
    ingest(settings, tenant_id, DEMO_CONNECTION_ID, MOCK_SOURCES, "demo-sources")
    run_async(lambda: map_tenant(settings, tenant_id))
    # where a tenant's own files live (the upload area): the test's drifting export
    uploads = settings.data_dir / "uploads" / tenant_id / "crm-export"
    uploads.mkdir(parents=True, exist_ok=True)
    return {"email": creds["email"], "password": creds["password"], "source_dir": str(uploads)}


async def serve(settings: Settings, port: int, ready: dict[str, str]) -> None:
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # start-up failed: raise it
            return
        await asyncio.sleep(0.05)
    print(json.dumps({**ready, "url": f"http://127.0.0.1:{port}"}), flush=True)
    await task


def serve_on_ray(settings: Settings) -> None:
    """As ``up``: Ray, the API on Serve, then the demo prepared against them."""
    import os
    import time

    import ray

    from autonomos.serve_apps.api.deployment import deploy

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        address="local",
        namespace=settings.ray_namespace,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="WARNING",
    )
    deploy(settings)
    ready = prepare(settings)
    print(json.dumps({**ready, "url": f"http://127.0.0.1:{settings.serve_port}"}), flush=True)
    while True:
        time.sleep(3600)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--executor", choices=["inline", "ray"], default="inline")
    args = parser.parse_args(argv)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=args.data_dir.resolve(),
        sync_executor=args.executor,
        dcl_executor=args.executor,
        serve_port=args.port,
        serve_ingress="proxy",  # HAProxy needs Ray started by `ray start`; see deployment.py
        ray_namespace=f"autonomos-e2e-{args.port}",
        log_level="WARNING",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.executor == "ray":
        serve_on_ray(settings)
    else:
        asyncio.run(serve(settings, args.port, prepare(settings)))


if __name__ == "__main__":
    main(sys.argv[1:])
