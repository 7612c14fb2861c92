"""The durable event log: written with the change, numbered in commit order, never lost.

Runs on SQLite and on the real PostgreSQL (the ``backend`` fixture).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from autonomos.config import Settings
from autonomos.events.log import Event, EventLog, TypeFilter, install, installed, record
from autonomos.store.event_models import EventOutboxRow, EventRow
from autonomos.store.models import AuditLog
from autonomos.store.session import Database
from tests.conftest import Tenant


@pytest.fixture
async def db(settings: Settings, api: httpx.AsyncClient) -> AsyncIterator[Database]:
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


async def _tid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


@pytest.fixture
async def tid(api: httpx.AsyncClient, tenant_a: Tenant) -> uuid.UUID:
    return await _tid(api, tenant_a)


class Collected:
    def __init__(self) -> None:
        self.events: list[tuple[uuid.UUID, Event]] = []

    async def __call__(self, tenant_id: uuid.UUID, events: Sequence[Event]) -> None:
        self.events.extend((tenant_id, e) for e in events)


@pytest.fixture
async def log(db: Database) -> AsyncIterator[tuple[EventLog, Collected]]:
    fanned = Collected()
    event_log = EventLog(db, fanned, sweep_s=0)
    previous = installed()  # the API's: back in place afterwards
    install(event_log)
    yield event_log, fanned
    await event_log.close()
    install(previous)


async def test_committed_event_is_numbered_and_fanned_out(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, fanned = log
    before = await event_log.last_id(tid)
    conn = uuid.uuid4()
    async with db.tenant_session(tid) as s:
        record(s, "sync.queued", subject={"connection_id": conn, "run_id": None}, streams=["a"])
    await event_log.wait()
    events = await event_log.read(tid, after=before)
    assert [(e.id, e.type) for e in events] == [(before + 1, "sync.queued")]
    assert events[0].subject == {"connection_id": str(conn)}
    assert events[0].payload == {"streams": ["a"]}
    assert [(t, e.id) for t, e in fanned.events] == [(tid, before + 1)]
    async with db.tenant_session(tid) as s:  # the outbox is emptied
        assert await s.scalar(select(func.count()).select_from(EventOutboxRow)) == 0


async def test_rolled_back_change_reports_nothing(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, fanned = log
    before = await event_log.last_id(tid)
    with pytest.raises(RuntimeError):
        async with db.tenant_session(tid) as s:
            s.add(AuditLog(action="x", target_type="y", details={}))
            record(s, "mapping.changed", subject={"connection_id": uuid.uuid4()})
            raise RuntimeError("the change failed")
    await event_log.wait()
    assert await event_log.read(tid, after=before) == []
    assert fanned.events == []
    assert await event_log.flush(tid) == []


async def test_concurrent_producers_get_gap_free_ids(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, fanned = log
    before = await event_log.last_id(tid)

    async def produce(i: int) -> None:
        async with db.tenant_session(tid) as s:
            record(s, "job.queued", subject={"job_id": f"j{i}"}, n=i)
            record(s, "job.running", subject={"job_id": f"j{i}"}, n=i)

    await asyncio.gather(*(produce(i) for i in range(40)))
    # a second, independent numberer (another process) racing this one
    other = EventLog(db, sweep_s=0)
    await asyncio.gather(event_log.wait(), other.flush(tid), other.flush(tid))
    await event_log.wait()
    events = await event_log.read(tid, after=before, limit=500)
    assert [e.id for e in events] == list(range(before + 1, before + 81))
    by_job: dict[str, list[str]] = {}
    for e in events:  # each transaction's events keep their order
        by_job.setdefault(e.subject["job_id"], []).append(e.type)
    assert all(v == ["job.queued", "job.running"] for v in by_job.values()) and len(by_job) == 40
    # whatever this process fanned out came in order and without repeats
    ids = [e.id for _, e in fanned.events]
    assert ids == sorted(set(ids))


async def test_tenants_have_their_own_numbers_and_rows(
    api: httpx.AsyncClient,
    db: Database,
    tenant_a: Tenant,
    tenant_b: Tenant,
    log: tuple[EventLog, Collected],
) -> None:
    event_log, _ = log
    a, b = await _tid(api, tenant_a), await _tid(api, tenant_b)
    start_a, start_b = await event_log.last_id(a), await event_log.last_id(b)
    for tenant in (a, b, a):
        async with db.tenant_session(tenant) as s:
            record(s, "drift.detected", subject={"connection_id": uuid.uuid4()})
    await event_log.wait()
    assert [e.id for e in await event_log.read(a, after=start_a)] == [start_a + 1, start_a + 2]
    assert [e.id for e in await event_log.read(b, after=start_b)] == [start_b + 1]


async def test_type_filter_and_paging(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, _ = log
    before = await event_log.last_id(tid)
    async with db.tenant_session(tid) as s:
        for t in ("sync.queued", "agent.run.queued", "sync.started", "agent.finding"):
            record(s, t)
    await event_log.wait()
    sync_only = TypeFilter.parse("sync.*")
    assert [e.type for e in await event_log.read(tid, after=before, types=sync_only)] == [
        "sync.queued",
        "sync.started",
    ]
    mixed = TypeFilter.parse("agent.finding, sync.started")
    assert [e.type for e in await event_log.read(tid, after=before, types=mixed)] == [
        "sync.started",
        "agent.finding",
    ]
    page = await event_log.read(tid, after=before, limit=3)
    rest = await event_log.read(tid, after=page[-1].id)
    assert [e.id for e in page + rest] == list(range(before + 1, before + 5))
    for bad in ("nope", "sync.nope", "zzz.*"):
        with pytest.raises(ValueError):
            TypeFilter.parse(bad)
    assert TypeFilter.parse(" , ") is None


def test_record_refuses_unknown_types_and_large_payloads() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        record(None, "sync.exploded")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keys"):
        record(None, "sync.queued", **{f"k{i}": i for i in range(40)})  # type: ignore[arg-type]


async def test_retention_deletes_old_events_but_never_reuses_ids(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, _ = log
    async with db.tenant_session(tid) as s:
        record(s, "views.refreshed")
    await event_log.wait()
    last = await event_log.last_id(tid)
    later = datetime.now(UTC) + timedelta(days=31)
    assert await event_log.purge(tid, now=later) >= 1
    async with db.tenant_session(tid) as s:
        assert await s.scalar(select(func.count()).select_from(EventRow)) == 0
        record(s, "views.refreshed")
    await event_log.wait()
    assert [e.id for e in await event_log.read(tid)] == [last + 1]


async def test_sweep_numbers_what_a_dead_producer_left(
    db: Database, tid: uuid.UUID, log: tuple[EventLog, Collected]
) -> None:
    event_log, _ = log
    before = await event_log.last_id(tid)
    install(None)  # a process that committed and died before numbering
    async with db.tenant_session(tid) as s:
        record(s, "sync.failed", subject={"run_id": uuid.uuid4()})
    install(event_log)
    assert await event_log.read(tid, after=before) == []
    await event_log.sweep()
    await event_log.wait()
    assert [e.type for e in await event_log.read(tid, after=before)] == ["sync.failed"]
