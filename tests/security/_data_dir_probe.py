"""Run in a fresh interpreter by test_finding_10: the app's own writes to a data dir.

Registers a tenant, syncs a files connection, maps and materialises one stream, so the
data dir gets everything the platform writes there (SQLite and its WAL, generated keys,
landed Parquet, the tenant's DuckDB file, the embeddings cache).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from autonomos.serve_apps.api.app import create_app
from autonomos.serve_apps.embedder.client import get_embedder
from tests.conftest import files_connection, make_settings, register


async def main(data_dir: Path, source: Path) -> None:
    settings = make_settings(data_dir, dcl_executor="inline")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as api:
            t = await register(api, "perms")
            cid = await files_connection(api, t, source)
            r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
            assert r.status_code == 202, r.text
            await app.state.runtime.connections.launcher.drain()
            r = await api.put(
                "/api/v1/dcl/mappings",
                headers=t.headers,
                json={
                    "connection_id": cid,
                    "stream": "accounts",
                    "source_field": "id",
                    "entity": "account",
                    "field": "account_id",
                },
            )
            assert r.status_code == 200, r.text
            r = await api.get("/api/v1/dcl/views", headers=t.headers)
            assert r.status_code == 200, r.text
    get_embedder(settings).encode(["account name"])  # the embeddings cache on disk


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
