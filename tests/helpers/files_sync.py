"""Files-connection sync helpers for AAM tests (a tenant, a connection, a sync)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from autonomos.aam.sync import SyncEngine
from autonomos.store.aam_models import (
    Connection,
    SyncRun,
)
from autonomos.store.session import Database
from tests.conftest import Tenant


async def tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def make_connection(
    db: Database, tid: uuid.UUID, path: Path, policy: str = "auto", **config: object
) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        conn = Connection(
            name=f"files-{uuid.uuid4().hex[:6]}",
            source_type="files",
            config={"path": str(path), **config},
            drift_policy=policy,
        )
        s.add(conn)
        await s.flush()
        return conn.id


async def sync(engine: SyncEngine, db: Database, tid: uuid.UUID, cid: uuid.UUID) -> SyncRun:
    async with db.tenant_session(tid) as s:
        run = SyncRun(connection_id=cid)
        s.add(run)
        await s.flush()
        run_id = run.id
    await engine.run(tid, run_id)
    async with db.tenant_session(tid) as s:
        result = await s.get(SyncRun, run_id)
        assert result is not None
        return result


def write_csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n")
