"""Fixtures of the fault-injection tests: the platform on the real PostgreSQL, reached
through a TCP proxy that a test can cut (a database restart as its clients see it), and
helpers that report what each test measured.

Bounded: every wait has a deadline, outages last seconds, retry windows are short.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from autonomos.aam.landing import LandingZone
from autonomos.config import Settings
from autonomos.store.aam_models import Connection, LandedBatch, SyncRun
from autonomos.store.session import Database
from tests.conftest import APP_ROLE, PG_HOST, PG_PORT, Tenant, make_settings, register
from tests.reliability.faults import TcpProxy

pytestmark = pytest.mark.postgres

FINISHED = ("succeeded", "failed", "cancelled")


def report(test: str, **measured: Any) -> None:
    """One line per test with what it measured (shown with ``-s``, kept in the log)."""
    values = ", ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in measured.items()
    )
    print(f"\n[reliability] {test}: {values}")


@pytest.fixture(scope="session")
def pg_proxy(pg_database: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    yield proxy
    proxy.close()


def proxied_settings(data_dir: Path, database: str, proxy: TcpProxy, **overrides: Any) -> Settings:
    """The app connects through ``proxy``; migrations (the owner) go straight to the server."""
    return make_settings(
        data_dir,
        database_url=f"postgresql+asyncpg://{APP_ROLE}@{proxy.address}/{database}",
        migration_database_url=f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{database}",
        **overrides,
    )


@pytest.fixture(scope="session")
def rel_settings(
    tmp_path_factory: pytest.TempPathFactory, pg_database: str, pg_proxy: TcpProxy
) -> Settings:
    return proxied_settings(
        tmp_path_factory.mktemp("data-reliability"), pg_database, pg_proxy, sync_retry_window_s=20
    )


@pytest.fixture(scope="session")
async def rel_api(rel_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    app = create_app(rel_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def direct_db(rel_settings: Settings, pg_database: str) -> AsyncIterator[Database]:
    """The app role straight to the server: the test's own view while the proxy is cut."""
    db = Database(f"postgresql+asyncpg://{APP_ROLE}@{PG_HOST}:{PG_PORT}/{pg_database}")
    yield db
    await db.dispose()


async def new_tenant(api: httpx.AsyncClient, prefix: str) -> tuple[Tenant, uuid.UUID]:
    t = await register(api, prefix)
    me = await api.get("/api/v1/auth/me", headers=t.headers)
    return t, uuid.UUID(me.json()["tenant_id"])


async def files_connection(db: Database, tid: uuid.UUID, src: Path, **config: Any) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        conn = Connection(
            name=f"c-{uuid.uuid4().hex[:6]}",
            source_type="files",
            config={"path": str(src), **config},
            drift_policy="auto",
        )
        s.add(conn)
        await s.flush()
        return conn.id


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


async def wait_until(
    check: Callable[[], Any], what: str, within_s: float = 30, every_s: float = 0.05
) -> Any:
    """Poll the (async) ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + within_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(every_s)


def write_csv(path: Path, rows: int, start: int = 0) -> None:
    lines = ["id,name,amount", *(f"{i},name {i},{i % 977}.25" for i in range(start, rows))]
    path.write_text("\n".join(lines) + "\n")


async def landed_ids(
    db: Database, landing: LandingZone, tid: uuid.UUID, cid: uuid.UUID
) -> tuple[int, list[int]]:
    """(rows the committed manifest lists, the ids its files hold)."""
    async with db.tenant_session(tid) as s:
        batches = list(await s.scalars(select(LandedBatch).where(LandedBatch.connection_id == cid)))
    table = landing.read([b.path for b in batches])
    ids = table.column("id").to_pylist() if table.num_rows else []
    return sum(b.rows for b in batches), ids
