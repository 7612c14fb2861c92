"""Alembic environment: async engines, one transaction, serialised on Postgres."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from autonomos.store import aam_models, dcl_models, models  # noqa: F401  (registers the tables)
from autonomos.store.base import Base
from autonomos.store.session import make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two replicas starting at once must not both migrate.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('autonomos-migrate'))"))
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run `autonomos migrate`")
asyncio.run(_run_async())
