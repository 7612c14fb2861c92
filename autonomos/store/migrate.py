"""Apply, inspect and revert the Alembic migrations in ``migrations/``.

Migrations run as the table owner (``migration_database_url``); afterwards, when the
application connects as another Postgres role, that role is granted DML (and nothing
else) on the tables, so it never owns them and row-level security applies to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from autonomos.store.session import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@contextlib.contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (Postgres uses a lock)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        yield
        return
    lock_path = Path(f"{parsed.database}.migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def upgrade(owner_url: str, revision: str = "head", app_url: str | None = None) -> None:
    """Migrate to ``revision`` (blocking; run it in a thread from async code)."""
    with _sqlite_lock(owner_url):
        command.upgrade(alembic_config(owner_url), revision)
    if app_url:
        asyncio.run(_grant_app_role(owner_url, app_url))


def downgrade(owner_url: str, revision: str = "base") -> None:
    with _sqlite_lock(owner_url):
        command.downgrade(alembic_config(owner_url), revision)


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def _rev(sync_conn: Connection) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()

            return await conn.run_sync(_rev)
    finally:
        await engine.dispose()


async def _grant_app_role(owner_url: str, app_url: str) -> None:
    owner, app = make_url(owner_url), make_url(app_url)
    if not owner.drivername.startswith("postgresql") or not app.username:
        return
    if app.username == owner.username:
        return
    engine = make_engine(owner_url)
    try:
        async with engine.begin() as conn:
            role = conn.dialect.identifier_preparer.quote(app.username)
            await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
            await conn.execute(
                text(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                )
            )
            await conn.execute(
                text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
            )
            # The app never changes the schema, and never needs the version table.
            await conn.execute(
                text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}")
            )
    finally:
        await engine.dispose()
