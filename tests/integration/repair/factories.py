"""Objects the repair tests (and the cross-tenant route matrix) need."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from autonomos.aam.connections import InlineSyncLauncher
from autonomos.dcl import registry
from autonomos.store.repair_models import RepairProposalRow
from tests.conftest import Tenant, files_connection

V1 = (
    "id,name,user_name,deactivated,legacy_code,employees\n"
    "1,Acme,ada,false,X1,10\n"
    "2,Beta,bob,true,X2,20\n"
)
# user_name -> username (renamed), deactivated -> is_active (inverted boolean),
# legacy_code removed, employees integer -> text (widened), phone added
V2 = (
    "id,name,username,is_active,employees,phone\n"
    "1,Acme,ada,true,ten,+1 555 0100\n"
    "2,Beta,bob,false,20,+1 555 0101\n"
)
MAPPED = {
    "id": "account.account_id",
    "name": "account.name",
    "user_name": "account.owner_id",
    "deactivated": "account.is_deleted",
    "legacy_code": "account.industry",
    "employees": "account.employee_count",
}


async def tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    me = (await api.get("/api/v1/auth/me", headers=t.headers)).json()
    return uuid.UUID(me["tenant_id"])


async def sync(api: httpx.AsyncClient, t: Tenant, connection_id: str) -> None:
    r = await api.post(f"/api/v1/aam/connections/{connection_id}/sync", headers=t.headers)
    assert r.status_code == 202, r.text
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher)
    await launcher.drain()


async def map_fields(
    api: httpx.AsyncClient, t: Tenant, connection_id: str, stream: str, mapping: dict[str, str]
) -> None:
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, t)) as s:
        for source, target in mapping.items():
            entity, field = target.split(".")
            await registry.set_mapping(
                s,
                connection_id=uuid.UUID(connection_id),
                stream=stream,
                source_field=source,
                entity=entity,
                field=field,
                decided_by="system",
            )


async def drifted_connection(api: httpx.AsyncClient, t: Tenant, tmp_path: Path) -> dict[str, Any]:
    """A files connection synced at V1 with MAPPED mappings, then synced at V2 (drift)."""
    src = tmp_path / f"src-{uuid.uuid4().hex[:6]}"
    src.mkdir(parents=True)
    (src / "accounts.csv").write_text(V1)
    cid = await files_connection(api, t, src, "crm")
    await sync(api, t, cid)
    await map_fields(api, t, cid, "accounts", MAPPED)
    (src / "accounts.csv").write_text(V2)
    await sync(api, t, cid)
    drift = (await api.get(f"/api/v1/aam/connections/{cid}/drift", headers=t.headers)).json()
    assert drift["events"], "the second sync must have detected drift"
    return {"connection_id": cid, "src": src, "drift_event_id": drift["events"][0]["id"]}


async def repair_proposal(
    api: httpx.AsyncClient, t: Tenant, connection_id: str, kinds: Sequence[str] = ("remap",)
) -> str:
    """A pending proposal stored directly (for routes that only need one to exist)."""
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, t)) as s:
        row = RepairProposalRow(
            connection_id=uuid.UUID(connection_id),
            stream="accounts",
            kind=kinds[0],
            status="pending",
            source_field="name",
            new_source_field="full_name",
            target="account.name",
            confidence=0.8,
            destructive=False,
            reason="'name' was renamed to 'full_name'",
            evidence={"summary": "test"},
            applied=[],
            dedupe_key=uuid.uuid4().hex,
        )
        s.add(row)
        await s.flush()
        return str(row.id)
