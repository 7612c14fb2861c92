"""Batch-job test helpers: a synced connection, the tenant id, the active mappings."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from autonomos.dcl import registry
from tests.conftest import Tenant, files_connection


async def synced_connection(api: httpx.AsyncClient, t: Tenant, tmp_path: Path) -> str:
    src = tmp_path / f"src-{uuid.uuid4().hex[:6]}"
    src.mkdir()
    (src / "accounts.csv").write_text(
        "Id,Name,Website,Industry,NumberOfEmployees,BillingCity\n"
        "1,Acme Inc,https://acme.com,Software,120,Boston\n"
        "2,Globex LLC,globex.io,Energy,4000,Austin\n"
    )
    cid = await files_connection(api, t, src, "crm")
    assert (await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)).is_success
    await api.runtime.connections.launcher.drain()  # type: ignore[attr-defined]
    return str(cid)


async def tenant_uuid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def stream_mappings(api: httpx.AsyncClient, tid: uuid.UUID, cid: str) -> list[Any]:
    async with api.runtime.db.tenant_session(tid) as s:  # type: ignore[attr-defined]
        return await registry.current_mappings(s, uuid.UUID(cid))
