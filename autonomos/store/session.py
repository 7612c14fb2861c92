"""Engine, sessions and the tenant context that guards tenant-owned tables.

Isolation is enforced twice. In the application: a session opened without a tenant
refuses any ORM statement on a tenant-owned table, and a tenant session adds
``tenant_id = :tid`` to every such statement and checks every row it flushes. In
Postgres: each transaction of a tenant session calls
``set_config('app.tenant_id', tid, true)`` (transaction-local, so it is safe behind
PgBouncer in transaction mode) and row-level security filters on it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Join, Select, Table, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.sql import FromClause, visitors

from autonomos.store.base import TenantOwned, is_tenant_owned_table
from autonomos.store.errors import TenantContextError

TENANT_KEY = "tenant_id"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the per-backend settings AutonomOS relies on."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if parsed.drivername == "postgresql+asyncpg":
        # No server-side prepared statement may outlive a transaction behind PgBouncer
        # (transaction pooling): disable both asyncpg's and SQLAlchemy's caches.
        parsed = parsed.update_query_dict({"prepared_statement_cache_size": "0"})
        connect_args = {
            "statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4().hex}__",
        }
        return create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True, **kwargs)
    return create_async_engine(parsed, **kwargs)


class Database:
    """Owns the engine; hands out tenant-scoped or global sessions."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def tenant_session(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """A session (and transaction) that can only see and write ``tenant_id``'s rows."""
        if not isinstance(tenant_id, uuid.UUID):
            raise TenantContextError("tenant_id must be a UUID")
        async with self._sessions() as session:
            session.info[TENANT_KEY] = tenant_id
            async with session.begin():
                yield session

    @asynccontextmanager
    async def global_session(self) -> AsyncIterator[AsyncSession]:
        """A session for global tables only (tenants, login directory)."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _is_tenant_owned(cls: Any) -> bool:
    return bool(getattr(cls, "__tenant_owned__", False))


def _tenant_tables(statement: Any) -> set[Table]:
    """Every tenant-owned table the statement reads or writes, however it is reached."""
    return {
        el
        for el in visitors.iterate(statement)
        if isinstance(el, Table) and is_tenant_owned_table(el)
    }


def _top_level_tables(from_: Any) -> list[FromClause]:
    if isinstance(from_, Join):
        return [*_top_level_tables(from_.left), *_top_level_tables(from_.right)]
    return [from_]


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tables = _tenant_tables(state.statement)
    if not tables and not any(_is_tenant_owned(m.class_) for m in state.all_mappers):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantContextError("query on a tenant-owned table without a tenant context")
    statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )
    if isinstance(statement, Select):
        # with_loader_criteria covers ORM entities; a bare select_from(Model) (e.g. a
        # count) is only a table to it, so filter top-level FROM tables explicitly too.
        # (columns_clause_froms + _from_obj is what get_final_froms() resolves, without
        # its ~0.4 ms ORM compile: that was 30% of an authenticated GET.)
        for from_ in (*statement.columns_clause_froms, *statement._from_obj):
            for part in _top_level_tables(from_):
                base = getattr(part, "element", part)
                if base in tables:
                    statement = statement.where(part.c.tenant_id == tenant_id)
    state.statement = statement


@event.listens_for(Session, "before_flush")
def _check_flushed_rows(session: Session, *_: Any) -> None:
    touched = [o for o in (*session.new, *session.dirty, *session.deleted) if _is_tenant_owned(o)]
    if not touched:
        return
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantContextError("write to a tenant-owned table without a tenant context")
    for obj in touched:
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantContextError("row belongs to another tenant")


@event.listens_for(Session, "after_begin")
def _set_rls_context(session: Session, _tx: SessionTransaction, conn: Connection) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is not None and conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT set_config('app.tenant_id', :tid, true)"), {"tid": str(tenant_id)}
        )


def session_tenant(session: AsyncSession) -> uuid.UUID:
    """The tenant a tenant session works for (``TenantContextError`` for a global one)."""
    tenant_id = session.info.get(TENANT_KEY)
    if not isinstance(tenant_id, uuid.UUID):
        raise TenantContextError("this needs a tenant session")
    return tenant_id
