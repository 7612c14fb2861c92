"""Engine, sessions and the tenant context that guards tenant-owned tables.

Isolation is enforced twice. In the application: a session opened without a tenant
refuses any statement it executes on a tenant-owned table, and a tenant session adds
``tenant_id = :tid`` to every select/update/delete, checks every row an INSERT statement
writes (Core ``insert()``, ORM bulk inserts, upserts, which must conflict on
``tenant_id``) and every object it flushes. Statements sent on a raw connection, outside
a session, are only bound by the second wall. In
Postgres: each transaction of a tenant session calls
``set_config('app.tenant_id', tid, true)`` (transaction-local, so it is safe behind
PgBouncer in transaction mode) and row-level security filters on it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import BindParameter, Join, Select, Table, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.sql import FromClause, visitors

from autonomos.config import SettingsError
from autonomos.store.base import TenantOwned, is_tenant_owned_table
from autonomos.store.errors import TenantContextError

TENANT_KEY = "tenant_id"
_ON_COMMIT = "autonomos_on_commit"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the per-backend settings AutonomOS relies on."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            # 0700 (the data dir); the file and its -wal/-shm follow the process umask,
            # which the entry points restrict (common/private_files.py)
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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

    async def refuse_rls_bypass(self) -> None:
        """On Postgres, refuse a connection role that row-level security does not bind.

        A superuser or a BYPASSRLS role sees every tenant's rows whatever the policies
        say, so the second wall of tenant isolation would be silently gone.
        """
        if self.engine.dialect.name != "postgresql":
            return
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
                        "WHERE rolname = current_user"
                    )
                )
            ).one()
        bypass = [what for what, on in (("a superuser", row[1]), ("BYPASSRLS", row[2])) if on]
        if bypass:
            raise SettingsError(
                f"AUTONOMOS_DATABASE_URL connects as {row[0]!r}, which is "
                f"{' and has '.join(bypass)}: row-level security would not apply to it. "
                "Connect as a plain role (NOSUPERUSER NOBYPASSRLS) that does not own the "
                "tables; migrations use AUTONOMOS_MIGRATION_DATABASE_URL."
            )

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


def _insert_rows(statement: Any, parameters: Any) -> list[dict[str, Any]]:
    """The rows an INSERT writes, as {column: value}: its VALUES and/or the execution
    parameters (an ORM bulk insert). A value that is SQL rather than data stays a clause."""

    def named(row: Any) -> dict[str, Any]:
        if not isinstance(row, dict):  # positional VALUES: the columns are not known here
            raise TenantContextError("a tenant-owned INSERT must name its columns")
        return {
            str(getattr(k, "key", k)): v.value if isinstance(v, BindParameter) else v
            for k, v in row.items()
        }

    if statement._multi_values:
        return [named(row) for rows in statement._multi_values for row in rows]
    base = named(statement._values or {})
    if isinstance(parameters, list | tuple) and parameters:
        return [{**base, **named(p)} for p in parameters]
    return [{**base, **named(parameters or {})}]


def _conflict_columns(clause: Any, table: Table) -> set[str]:
    names = {
        e if isinstance(e, str) else getattr(e, "key", str(e))
        for e in (getattr(clause, "inferred_target_elements", None) or ())
    }
    target = getattr(clause, "constraint_target", None)
    if target is not None:
        name = target if isinstance(target, str) else target.name
        found: list[Any] = [*table.constraints, *table.indexes]
        for c in found:
            if c.name == name:
                names |= {col.name for col in c.columns}
    return names


def _check_insert(state: ORMExecuteState) -> None:
    """An INSERT statement (Core ``insert(...)`` or an ORM bulk insert) on a tenant-owned
    table writes only the session tenant's rows: flushed objects are checked in
    ``_check_flushed_rows``, statements here."""
    statement: Any = state.statement
    table = statement.table
    if not is_tenant_owned_table(table):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantContextError("insert into a tenant-owned table without a tenant context")
    if statement.select is not None:
        raise TenantContextError("INSERT ... SELECT into a tenant-owned table is not supported")
    conflict = getattr(statement, "_post_values_clause", None)
    if hasattr(conflict, "update_values_to_set") and "tenant_id" not in _conflict_columns(
        conflict, table
    ):  # an upsert could otherwise update the row of another tenant that holds the key
        raise TenantContextError("a tenant-owned upsert must conflict on tenant_id")
    for row in _insert_rows(statement, state.parameters):
        value = row.get("tenant_id")
        try:
            same = uuid.UUID(str(value)) == tenant_id
        except ValueError:
            same = False
        if not same:
            raise TenantContextError(
                "INSERT of a row without tenant_id"
                if value is None
                else "row belongs to another tenant"
            )


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if state.is_insert:
        _check_insert(state)
        return
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


def on_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction has committed (never if it
    rolls back): e.g. to drop what a process cached about the rows it changed."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for callback in session.info.pop(_ON_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # a savepoint rolled back: the transaction goes on and may commit (callbacks of
        # what the savepoint undid run then too, which must be harmless)
        return
    session.info.pop(_ON_COMMIT, None)
