"""The same migrations go up, down and up again on SQLite and Postgres."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from autonomos.store import aam_models, migrate  # noqa: F401  (aam_models: all tables)
from autonomos.store.base import tenant_owned_tables
from autonomos.store.session import make_engine

EXPECTED = {"tenants", "login_directory", *tenant_owned_tables()}


async def _tables(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def _read(c):  # type: ignore[no-untyped-def]
                insp = inspect(c)
                return {
                    t: {ix["name"] for ix in insp.get_indexes(t)}
                    for t in insp.get_table_names()
                    if t != "alembic_version"
                }

            return await conn.run_sync(_read)
    finally:
        await engine.dispose()


def test_up_down_up(fresh_url: str) -> None:
    migrate.upgrade(fresh_url)
    assert asyncio.run(migrate.current_revision(fresh_url)) == migrate.head_revision()
    tables = asyncio.run(_tables(fresh_url))
    assert EXPECTED <= set(tables)
    for table in tenant_owned_tables():
        assert f"ix_{table}_tenant_id" in tables[table], table
    migrate.downgrade(fresh_url, "base")
    assert asyncio.run(migrate.current_revision(fresh_url)) is None
    assert asyncio.run(_tables(fresh_url)) == {}
    migrate.upgrade(fresh_url)
    assert EXPECTED <= set(asyncio.run(_tables(fresh_url)))


def test_models_match_migrations(fresh_url: str) -> None:
    """Autogenerate finds nothing to do: the ORM models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from autonomos.store.base import Base

    migrate.upgrade(fresh_url)

    async def _diff() -> list:
        engine = make_engine(fresh_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
                )
        finally:
            await engine.dispose()

    diff = [
        d
        for d in asyncio.run(_diff())
        if not (isinstance(d, tuple) and d[0] in ("add_constraint", "remove_constraint"))
    ]
    assert diff == []
