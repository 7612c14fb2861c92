"""0014 on a database with events: 0002's unnumbered ``event_log`` rows are carried over
into the numbered log, per tenant, in the order they happened, with their counters."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from autonomos.store import migrate
from autonomos.store.base import JSONType, UTCDateTime
from autonomos.store.session import make_engine

A, B = uuid.uuid4(), uuid.uuid4()
CONN, RUN = uuid.uuid4(), uuid.uuid4()
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

OLD = sa.table(
    "event_log",
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("type", sa.String()),
    sa.column("connection_id", sa.Uuid()),
    sa.column("stream", sa.String()),
    sa.column("payload", JSONType),
    sa.column("at", UTCDateTime()),
)
NEW = sa.table(
    "event_log",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("seq", sa.BigInteger()),
    sa.column("type", sa.String()),
    sa.column("connection_id", sa.Uuid()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("subject", JSONType),
    sa.column("payload", JSONType),
)
COUNTERS = sa.table(
    "event_counters", sa.column("tenant_id", sa.Uuid()), sa.column("last_seq", sa.BigInteger())
)


async def _run(url: str, statement: Any, rows: list[dict[str, Any]] | None = None) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(statement, rows) if rows else await conn.execute(statement)
            return [dict(r) for r in result.mappings()] if result.returns_rows else []
    finally:
        await engine.dispose()


def _old(tenant: uuid.UUID, type_: str, minutes: int, **kw: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant,
        "type": type_,
        "connection_id": kw.get("connection_id"),
        "stream": kw.get("stream"),
        "payload": kw.get("payload", {}),
        "at": T0 + timedelta(minutes=minutes),
    }


def test_0014_numbers_the_old_events_per_tenant_in_time_order(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "0013_snapshots")
    rows = [  # inserted out of order: the numbers follow the times
        _old(A, "sync.failed", 5, connection_id=CONN, payload={"run_id": str(RUN), "read": 3}),
        _old(B, "sync.succeeded", 1, connection_id=CONN),
        _old(A, "drift.detected", 2, connection_id=CONN, stream="accounts", payload={"n": 1}),
        _old(A, "sync.succeeded", 9),
        _old(B, "drift.detected", 0, stream="x"),
    ]
    asyncio.run(_run(fresh_url, OLD.insert(), rows))

    migrate.upgrade(fresh_url)
    got = asyncio.run(_run(fresh_url, sa.select(NEW).order_by(NEW.c.tenant_id, NEW.c.seq)))
    by_tenant = {t: [r for r in got if r["tenant_id"] == t] for t in (A, B)}
    assert [(r["seq"], r["type"]) for r in by_tenant[A]] == [
        (1, "drift.detected"),
        (2, "sync.failed"),
        (3, "sync.succeeded"),
    ]
    assert [(r["seq"], r["type"]) for r in by_tenant[B]] == [
        (1, "drift.detected"),
        (2, "sync.succeeded"),
    ]
    drift, failed, last = by_tenant[A]
    assert drift["subject"] == {"connection_id": str(CONN), "stream": "accounts"}
    assert drift["payload"] == {"n": 1} and drift["connection_id"] == CONN
    assert failed["subject"] == {"connection_id": str(CONN), "run_id": str(RUN)}
    assert failed["payload"] == {"run_id": str(RUN), "read": 3}
    assert failed["occurred_at"] == T0 + timedelta(minutes=5)
    assert last["subject"] == {} and last["connection_id"] is None
    assert by_tenant[B][0]["subject"] == {"stream": "x"}
    counters = asyncio.run(_run(fresh_url, sa.select(COUNTERS)))
    assert {c["tenant_id"]: c["last_seq"] for c in counters} == {A: 3, B: 2}

    # down again: the old table is back (empty: numbered events have no way back), and up
    migrate.downgrade(fresh_url, "0013_snapshots")
    assert asyncio.run(_run(fresh_url, sa.select(sa.func.count()).select_from(OLD))) == [
        {"count_1": 0}
    ]
    migrate.upgrade(fresh_url)
