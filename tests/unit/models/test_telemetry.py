"""The usage recorder's in-memory aggregation (writing to SQL: tests/integration/models)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from autonomos.models.telemetry import Usage, UsageKey, UsageRecorder


def test_calls_aggregate_per_tenant_kind_model_and_day() -> None:
    rec = UsageRecorder()
    a, b = uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    rec.record(a, "llm", "m1", input_tokens=10, output_tokens=3, latency_ms=5, at=now)
    rec.record(a, "llm", "m1", input_tokens=7, output_tokens=1, latency_ms=2.5, error=True, at=now)
    rec.record(a, "llm", "m2", at=now)
    rec.record(a, "llm", "m1", at=now + timedelta(minutes=2))  # next UTC day
    rec.record(b, "embedding", "m1", items=64, cached=60, input_tokens=300, at=now)
    pending = rec.pending()
    assert len(pending) == 4
    day = now.date()
    assert pending[UsageKey(a, "llm", "m1", day)] == Usage(
        calls=2, items=2, cached=0, input_tokens=17, output_tokens=4, latency_ms=7.5, errors=1
    )
    assert pending[UsageKey(a, "llm", "m1", day + timedelta(days=1))].calls == 1
    assert pending[UsageKey(b, "embedding", "m1", day)].cached == 60


def test_drain_one_tenant_and_restore() -> None:
    rec = UsageRecorder()
    a, b = uuid.uuid4(), uuid.uuid4()
    rec.record(a, "llm", "m", input_tokens=1)
    rec.record(b, "llm", "m", input_tokens=2)
    taken = rec.drain(a)
    assert [k.tenant_id for k in taken] == [a]
    assert [k.tenant_id for k in rec.pending()] == [b]
    rec.record(a, "llm", "m", input_tokens=10)  # arrives while the write is failing
    rec.restore(taken)
    [usage] = [v for k, v in rec.pending().items() if k.tenant_id == a]
    assert (usage.calls, usage.input_tokens) == (2, 11)
    assert len(rec.drain()) == 2 and rec.pending() == {}


def test_pending_is_a_copy() -> None:
    rec = UsageRecorder()
    t = uuid.uuid4()
    rec.record(t, "embedding", "m")
    snapshot = rec.pending()
    rec.record(t, "embedding", "m")
    assert next(iter(snapshot.values())).calls == 1


def test_bad_records_are_refused() -> None:
    rec = UsageRecorder()
    with pytest.raises(ValueError, match="kind"):
        rec.record(uuid.uuid4(), "chat", "m")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rec.record(str(uuid.uuid4()), "llm", "m")  # type: ignore[arg-type]


def test_flush_needs_a_database() -> None:
    with pytest.raises(RuntimeError, match="flush_to"):
        UsageRecorder().flush()
