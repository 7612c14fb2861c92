"""Finding 11: RLS cannot be silently off, and the tenant guard covers inserts.

- On Postgres the API refuses to start when its role is a superuser or has BYPASSRLS
  (row-level security would not apply to it).
- INSERT statements on tenant-owned tables (ORM bulk inserts, Core inserts, upserts)
  need a tenant session and may only write that tenant's rows, like flushed objects.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from autonomos.config import Settings, SettingsError
from autonomos.serve_apps.api.app import create_app
from autonomos.store.errors import TenantContextError
from autonomos.store.models import AuditLog
from autonomos.store.session import Database
from tests.conftest import PG_HOST, PG_PORT, _pg_admin

POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def _starts(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


@POSTGRES_ONLY
async def test_refuses_a_superuser_app_role(settings: Settings, backend: str) -> None:
    owner = settings.owner_database_url
    with pytest.raises(SettingsError, match="superuser"):
        await _starts(settings.model_copy(update={"database_url": owner}))


@POSTGRES_ONLY
async def test_refuses_a_bypassrls_app_role(settings: Settings, backend: str) -> None:
    role = f"autonomos_bypass_{uuid.uuid4().hex[:8]}"
    database = settings.app_database_url.rsplit("/", 1)[1]
    await _pg_admin([f"CREATE ROLE {role} LOGIN NOSUPERUSER BYPASSRLS"])
    try:
        url = f"postgresql+asyncpg://{role}@{PG_HOST}:{PG_PORT}/{database}"
        with pytest.raises(SettingsError, match="BYPASSRLS"):
            await _starts(settings.model_copy(update={"database_url": url}))
    finally:
        await _pg_admin([f"DROP OWNED BY {role}"], database=database)
        await _pg_admin([f"DROP ROLE {role}"])


@POSTGRES_ONLY
async def test_the_plain_app_role_starts(settings: Settings, backend: str) -> None:
    await _starts(settings)


@pytest.fixture
async def db(settings: Settings, api: object) -> AsyncIterator[Database]:
    """The migrated database (the ``api`` fixture migrates it)."""
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


def _row(tenant_id: uuid.UUID) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "action": "guard.test",
        "target_type": "test",
        "details": {},
    }


async def test_no_insert_without_a_tenant(db: Database) -> None:
    async with db.global_session() as s:
        with pytest.raises(TenantContextError):
            await s.execute(insert(AuditLog).values(**_row(uuid.uuid4())))
        with pytest.raises(TenantContextError):
            await s.execute(insert(AuditLog), [_row(uuid.uuid4())])


async def test_inserts_only_for_the_session_tenant(db: Database) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    statements = [
        (insert(AuditLog).values(**_row(theirs)), None),  # Core, one row
        (insert(AuditLog).values([_row(mine), _row(theirs)]), None),  # Core, many rows
        (insert(AuditLog), [_row(mine), _row(theirs)]),  # ORM bulk insert
        (
            insert(AuditLog).values(**{k: v for k, v in _row(mine).items() if k != "tenant_id"}),
            None,
        ),
    ]
    for statement, params in statements:
        with pytest.raises(TenantContextError):
            async with db.tenant_session(mine) as s:
                await s.execute(statement, params)
    async with db.tenant_session(mine) as s:  # the tenant's own rows go in
        await s.execute(insert(AuditLog).values(**_row(mine)))
        await s.execute(insert(AuditLog), [_row(mine), _row(mine)])
    async with db.tenant_session(mine) as s:
        assert len((await s.scalars(select(AuditLog))).all()) == 3


async def test_upsert_must_conflict_within_the_tenant(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the same guard; one dialect's upsert construct is enough")
    mine = uuid.uuid4()
    upsert = sqlite_insert(AuditLog).values(**_row(mine))
    upsert = upsert.on_conflict_do_update(index_elements=["id"], set_={"action": "x"})
    with pytest.raises(TenantContextError):
        async with db.tenant_session(mine) as s:
            await s.execute(upsert)
