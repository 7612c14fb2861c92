"""Fixtures of the DCL tests: a database, a tenant id and a files connection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from autonomos.config import Settings
from autonomos.store.aam_models import Connection
from autonomos.store.session import Database
from tests.conftest import Tenant


@pytest.fixture
async def db(settings: Settings, api: httpx.AsyncClient) -> AsyncIterator[Database]:
    """The app's database (``api`` has migrated it)."""
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


async def tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


@pytest.fixture
async def tid(api: httpx.AsyncClient, tenant_a: Tenant) -> uuid.UUID:
    return await tenant_id(api, tenant_a)


async def make_connection(db: Database, tid: uuid.UUID, path: Path, **config: object) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        conn = Connection(
            name=f"files-{uuid.uuid4().hex[:6]}",
            source_type="files",
            config={"path": str(path), **config},
            drift_policy="auto",
        )
        s.add(conn)
        await s.flush()
        return conn.id


@pytest.fixture
async def cid(db: Database, tid: uuid.UUID, tmp_path: Path) -> uuid.UUID:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    return await make_connection(db, tid, src)
