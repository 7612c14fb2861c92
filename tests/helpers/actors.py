"""Actor test helpers: files connections, runs, waiting, exactly-once landing checks."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from autonomos.aam.landing import LandingZone
from autonomos.config import Settings
from autonomos.store.aam_models import Connection, LandedBatch, SyncRun
from autonomos.store.session import Database
from tests.conftest import Tenant

FINISHED = ("succeeded", "failed", "cancelled")


async def tenant_id(api: httpx.AsyncClient, t: Tenant, cleanup: list[uuid.UUID]) -> uuid.UUID:
    me = await api.get("/api/v1/auth/me", headers=t.headers)
    tid = uuid.UUID(me.json()["tenant_id"])
    cleanup.append(tid)
    return tid


async def make_connection(
    db: Database, tid: uuid.UUID, source_type: str = "files", **fields: Any
) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        conn = Connection(name=f"c-{uuid.uuid4().hex[:6]}", source_type=source_type, **fields)
        s.add(conn)
        await s.flush()
        return conn.id


async def files_connection(db: Database, tid: uuid.UUID, src: Path, **config: Any) -> uuid.UUID:
    return await make_connection(db, tid, config={"path": str(src), **config}, drift_policy="auto")


async def new_run(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        run = SyncRun(connection_id=cid)
        s.add(run)
        await s.flush()
        return run.id


async def get_run(db: Database, tid: uuid.UUID, run_id: uuid.UUID) -> SyncRun:
    async with db.tenant_session(tid) as s:
        run = await s.get(SyncRun, run_id)
        assert run is not None
        return run


async def wait_for(
    db: Database, tid: uuid.UUID, run_id: uuid.UUID, *, written: int = 0, within_s: float = 30
) -> SyncRun:
    """Poll until the run is finished, or (with ``written``) has written that many rows."""
    deadline = time.monotonic() + within_s
    while True:
        run = await get_run(db, tid, run_id)
        if run.status in FINISHED or (written and run.records_written >= written):
            return run
        assert time.monotonic() < deadline, f"run still {run.status} ({run.records_written})"
        await asyncio.sleep(0.05)


def write_csv(path: Path, rows: int, start: int = 0) -> None:
    lines = ["id,name,amount", *(f"{i},name {i},{i % 977}.25" for i in range(start, rows))]
    path.write_text("\n".join(lines) + "\n")


async def assert_landed_exactly(
    db: Database, settings: Settings, tid: uuid.UUID, cid: uuid.UUID, total: int
) -> None:
    """The manifest sums to ``total`` rows and its files hold each id exactly once."""
    async with db.tenant_session(tid) as s:
        batches = list(await s.scalars(select(LandedBatch).where(LandedBatch.connection_id == cid)))
    assert sum(b.rows for b in batches) == total
    table = LandingZone(settings.data_dir / "landing").read([b.path for b in batches])
    ids = table.column("id").to_pylist()
    assert len(ids) == total and len(set(ids)) == total


def connectors(status: dict[str, Any]) -> list[str]:
    """Connection ids of the supervisor's connector children."""
    return sorted(c["id"] for c in status["children"].values() if c["kind"] == "connector")
