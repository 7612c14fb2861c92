"""0008 on a database with data: nothing is lost on the way up or down.

On SQLite it rebuilds ``tenants``, whose implicit delete cascades to the login directory
unless the migration puts those rows back; this pins that it does.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from autonomos.store import migrate
from autonomos.store.session import make_engine

TENANT, USER = uuid.uuid4(), uuid.uuid4()


async def _run(url: str, *statements: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows: list[tuple] = []
            for sql in statements:
                result = await conn.execute(text(sql))
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


def _uuid(url: str, value: uuid.UUID) -> str:
    return value.hex if url.startswith("sqlite") else str(value)


def test_0008_keeps_tenants_users_and_logins(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "0007_llm_usage")
    t, u = _uuid(fresh_url, TENANT), _uuid(fresh_url, USER)
    asyncio.run(
        _run(
            fresh_url,
            f"INSERT INTO tenants (id, name, created_at) VALUES ('{t}', 'Acme', '2026-01-01')",
            "INSERT INTO login_directory (email, tenant_id, user_id) "
            f"VALUES ('a@x.io', '{t}', '{u}')",
        )
    )
    migrate.upgrade(fresh_url)
    logins = "SELECT email FROM login_directory"
    assert asyncio.run(_run(fresh_url, logins)) == [("a@x.io",)]
    # a second tenant may now share the name
    other = _uuid(fresh_url, uuid.uuid4())
    asyncio.run(
        _run(
            fresh_url,
            f"INSERT INTO tenants (id, name, created_at) VALUES ('{other}', 'Acme', '2026-01-02')",
        )
    )
    assert asyncio.run(_run(fresh_url, "SELECT count(*) FROM tenants WHERE name = 'Acme'")) == [
        (2,)
    ]
    asyncio.run(_run(fresh_url, f"DELETE FROM tenants WHERE id = '{other}'"))
    migrate.downgrade(fresh_url, "0007_llm_usage")
    assert asyncio.run(_run(fresh_url, logins)) == [("a@x.io",)]
