"""Tenant isolation, twice: the session guard everywhere, row-level security on Postgres."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text, update

from autonomos.config import Settings
from autonomos.store import aam_models  # noqa: F401  (registers the AAM tables)
from autonomos.store.base import tenant_owned_tables
from autonomos.store.errors import TenantContextError
from autonomos.store.models import AuditLog, RefreshToken, User
from autonomos.store.session import Database
from tests.conftest import APP_ROLE, PG_HOST, PG_PORT, Tenant


async def _tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


@pytest.fixture
async def db(settings: Settings):  # type: ignore[no-untyped-def]
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


@pytest.mark.parametrize("model", [User, RefreshToken, AuditLog])
async def test_no_query_without_tenant_context(db: Database, model: type) -> None:
    async with db.global_session() as s:
        with pytest.raises(TenantContextError):
            await s.scalars(select(model))
        with pytest.raises(TenantContextError):
            await s.execute(update(model).values(tenant_id=uuid.uuid4()))


async def test_tenant_session_sees_only_its_rows(
    api: httpx.AsyncClient, db: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a, b = await _tenant_id(api, tenant_a), await _tenant_id(api, tenant_b)
    async with db.tenant_session(a) as s:
        users = list(await s.scalars(select(User)))
        assert {u.tenant_id for u in users} == {a}
        b_user = await s.scalar(select(User.id).where(User.email == tenant_b.email))
        assert b_user is None
        # a bulk update cannot reach tenant B either
        await s.execute(update(User).values(full_name="hacked"))
    async with db.tenant_session(b) as s:
        assert {u.full_name for u in await s.scalars(select(User))} == {"Ada"}


async def test_cannot_write_a_row_for_another_tenant(
    api: httpx.AsyncClient, db: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a, b = await _tenant_id(api, tenant_a), await _tenant_id(api, tenant_b)
    with pytest.raises(TenantContextError):
        async with db.tenant_session(a) as s:
            s.add(AuditLog(tenant_id=b, action="x", target_type="y", details={}))


# -- Postgres row-level security ---------------------------------------------------------


async def _raw_app_conn(settings: Settings) -> asyncpg.Connection:
    database = settings.app_database_url.rsplit("/", 1)[1]
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=APP_ROLE, database=database)


TENANT_TABLES = tenant_owned_tables()
POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@POSTGRES_ONLY
async def test_rls_raw_query_without_setting_sees_nothing(
    api: httpx.AsyncClient, settings: Settings, backend: str, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a = await _tenant_id(api, tenant_a)
    conn = await _raw_app_conn(settings)
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert role["rolsuper"] is False and role["rolbypassrls"] is False
        owners = await conn.fetch(
            "SELECT tablename, tableowner FROM pg_tables WHERE tablename = ANY($1)",
            TENANT_TABLES,
        )
        assert owners and all(r["tableowner"] != APP_ROLE for r in owners)
        forced = await conn.fetch(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity"
        )
        assert set(TENANT_TABLES) <= {r["relname"] for r in forced}

        for table in TENANT_TABLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        assert await conn.execute("UPDATE users SET full_name = 'x'") == "UPDATE 0"
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(a))
            rows = await conn.fetch("SELECT tenant_id FROM users")
            assert rows and {r["tenant_id"] for r in rows} == {a}
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "INSERT INTO audit_log (id, tenant_id, at, action, target_type, details) "
                    "VALUES ($1, $2, now(), 'x', 'y', '{}')",
                    uuid.uuid4(),
                    uuid.uuid4(),
                )
        # the setting was transaction-local: gone again
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


@POSTGRES_ONLY
async def test_session_sets_context_per_transaction(
    settings: Settings, backend: str, db: Database
) -> None:
    tid = uuid.uuid4()
    async with db.tenant_session(tid) as s:
        assert await s.scalar(text("SELECT current_setting('app.tenant_id', true)")) == str(tid)
    async with db.global_session() as s:
        assert await s.scalar(text("SELECT current_setting('app.tenant_id', true)")) in (None, "")


async def test_guard_covers_bare_table_selects(
    api: httpx.AsyncClient, db: Database, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """select_from(Model), joins and aliases are scoped too, not only ORM entities."""
    from sqlalchemy import func
    from sqlalchemy.orm import aliased

    a = await _tenant_id(api, tenant_a)
    async with db.global_session() as s:
        with pytest.raises(TenantContextError):
            await s.scalar(select(func.count()).select_from(User))
        with pytest.raises(TenantContextError):
            await s.execute(select(User.__table__.c.email))
    async with db.tenant_session(a) as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
        assert await s.scalar(select(func.count()).select_from(User.__table__)) == 1
        emails = set(await s.scalars(select(User.__table__.c.email)))
        assert emails == {tenant_a.email}
        other = aliased(User)
        pairs = (
            await s.execute(select(User.email, other.email).join(other, other.id != User.id))
        ).all()
        assert pairs == []  # tenant A has one user: no cross-tenant pair appears
        joined = await s.scalar(
            select(func.count()).select_from(
                AuditLog.__table__.join(User.__table__, AuditLog.actor_id == User.id)
            )
        )
        own = await s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.actor_id.is_not(None))
        )
        assert joined == own
