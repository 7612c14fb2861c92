"""Usage written to ``llm_usage`` on SQLite and Postgres: upserts add up, per tenant."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from autonomos.config import Settings
from autonomos.models.telemetry import UsageRecorder, usage_totals, write_usage
from autonomos.store.session import Database
from autonomos.store.telemetry_models import LLMUsage


@pytest.fixture
async def db(api: httpx.AsyncClient, settings: Settings):  # type: ignore[no-untyped-def]
    """The migrated test database (the ``api`` fixture migrated it)."""
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


async def totals(db: Database, tenant: uuid.UUID, **kw: object) -> dict[tuple[str, str], object]:
    async with db.tenant_session(tenant) as s:
        return {(t.kind, t.model): t.usage for t in await usage_totals(s, **kw)}  # type: ignore[arg-type]


async def test_flushes_add_up_per_tenant(db: Database) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    rec = UsageRecorder()
    rec.record(a, "llm", "m", input_tokens=10, output_tokens=2, latency_ms=1.5)
    rec.record(a, "embedding", "minilm", items=64, cached=4, input_tokens=900, latency_ms=30)
    rec.record(b, "llm", "m", input_tokens=1)
    assert await rec.flush_to(db) == 3
    assert rec.pending() == {}
    rec.record(a, "llm", "m", input_tokens=5, output_tokens=1, latency_ms=0.5, error=True)
    assert await rec.flush_to(db) == 1

    mine = await totals(db, a)
    assert set(mine) == {("embedding", "minilm"), ("llm", "m")}
    llm = mine[("llm", "m")]
    assert (llm.calls, llm.input_tokens, llm.output_tokens, llm.errors) == (2, 15, 3, 1)  # type: ignore[attr-defined]
    assert llm.latency_ms == pytest.approx(2.0)  # type: ignore[attr-defined]
    emb = mine[("embedding", "minilm")]
    assert (emb.items, emb.cached, emb.input_tokens) == (64, 4, 900)  # type: ignore[attr-defined]
    theirs = await totals(db, b)
    assert list(theirs) == [("llm", "m")] and theirs[("llm", "m")].input_tokens == 1  # type: ignore[attr-defined]


async def test_days_and_range(db: Database) -> None:
    t = uuid.uuid4()
    today = datetime.now(UTC)
    rec = UsageRecorder()
    rec.record(t, "llm", "m", input_tokens=1, at=today - timedelta(days=3))
    rec.record(t, "llm", "m", input_tokens=10, at=today)
    await rec.flush_to(db)
    async with db.tenant_session(t) as s:
        rows = (await s.scalars(select(LLMUsage).order_by(LLMUsage.day))).all()
    assert [r.day for r in rows] == [(today - timedelta(days=3)).date(), today.date()]
    assert (await totals(db, t))[("llm", "m")].input_tokens == 11  # type: ignore[attr-defined]
    recent = await totals(db, t, since=today.date())
    assert recent[("llm", "m")].input_tokens == 10  # type: ignore[attr-defined]
    old = await totals(db, t, until=(today - timedelta(days=1)).date())
    assert old[("llm", "m")].input_tokens == 1  # type: ignore[attr-defined]


async def test_a_session_cannot_write_another_tenants_usage(db: Database) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    rec = UsageRecorder()
    rec.record(b, "llm", "m")
    async with db.tenant_session(a) as s:
        with pytest.raises(ValueError, match="another tenant"):
            await write_usage(s, rec.pending())


async def test_failed_flush_keeps_the_counts(tmp_path: Path) -> None:
    unmigrated = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    rec = UsageRecorder()
    t = uuid.uuid4()
    rec.record(t, "llm", "m", input_tokens=3)
    try:
        with pytest.raises(Exception, match="llm_usage"):
            await rec.flush_to(unmigrated)
    finally:
        await unmigrated.dispose()
    [usage] = rec.pending().values()
    assert usage.input_tokens == 3


async def test_background_writer(db: Database, settings: Settings) -> None:
    rec = UsageRecorder(settings.app_database_url, flush_s=0.2)
    t = uuid.uuid4()
    rec.record(t, "embedding", "minilm", items=3)  # starts the writer thread
    try:
        for _ in range(100):  # written within a few intervals, without being asked
            if await totals(db, t):
                break
            await asyncio.sleep(0.1)
        assert (await totals(db, t))[("embedding", "minilm")].items == 3  # type: ignore[attr-defined]
        rec.record(t, "embedding", "minilm", items=2)
        await asyncio.to_thread(rec.flush)  # and on demand
        assert (await totals(db, t))[("embedding", "minilm")].items == 5  # type: ignore[attr-defined]
    finally:
        await asyncio.to_thread(rec.close)
