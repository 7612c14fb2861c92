"""Events in tests: reading a tenant's log once every committed event is numbered, a
numberer of the test process's own, and bursts of events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from autonomos.config import Settings
from autonomos.events.log import Event, EventLog, TypeFilter, install, installed, record
from autonomos.store.session import Database


async def numbered(
    db: Database, tenant_id: uuid.UUID, *, after: int = 0, types: str | None = None
) -> list[Event]:
    """The tenant's events with id > ``after`` (of ``types``), once every committed one is
    numbered: the process's numberer has finished, and whatever it had no chance to
    number (no numberer installed, e.g. a core test) is numbered here."""
    event_log = await _flushed(db, tenant_id)
    return await event_log.read(tenant_id, after=after, types=TypeFilter.parse(types), limit=500)


async def last_id(db: Database, tenant_id: uuid.UUID) -> int:
    """The id of the tenant's newest event, everything committed numbered first."""
    return await (await _flushed(db, tenant_id)).last_id(tenant_id)


async def _flushed(db: Database, tenant_id: uuid.UUID) -> EventLog:
    current = installed()
    if current is not None:
        await current.wait()
    event_log = EventLog(db, sweep_s=0)
    while await event_log.flush(tenant_id):
        pass
    return event_log


def brief(events: list[Event]) -> list[tuple[str, dict[str, str]]]:
    """(type, subject) of each event, for comparisons."""
    return [(e.type, e.subject) for e in events]


def one(events: list[Event], type_: str, **subject: Any) -> Event:
    """The only event of ``type_`` whose subject has ``subject``'s ids."""
    found = [
        e
        for e in events
        if e.type == type_ and all(e.subject.get(k) == str(v) for k, v in subject.items())
    ]
    assert len(found) == 1, (type_, subject, [(e.type, e.subject) for e in events])
    return found[0]


@asynccontextmanager
async def producer(settings: Settings, **overrides: Any) -> AsyncIterator[EventLog]:
    """An event log numbering this process's commits (``from_settings``, so with a
    ``redis_url`` it adds them to the Redis stream, as an actor does); the one installed
    before is installed again afterwards."""
    db = Database(settings.app_database_url)
    before = installed()
    event_log = EventLog.from_settings(settings.model_copy(update=overrides), db)
    try:
        yield event_log
    finally:
        await event_log.close()
        await db.dispose()
        install(before)


async def emit(
    event_log: EventLog,
    tenant_id: uuid.UUID,
    n: int,
    *,
    type_: str = "sync.queued",
    per_commit: int = 10,
    pad: int = 0,
    pause_s: float = 0.0,
    **payload: Any,
) -> None:
    """Commit ``n`` events for the tenant, ``per_commit`` per transaction (``pause_s``
    apart), and wait until this process numbered them. ``pad`` adds that many bytes to
    each payload."""
    extra = {"pad": "x" * pad} if pad else {}
    for start in range(0, n, per_commit):
        async with event_log.db.tenant_session(tenant_id) as s:
            for i in range(start, min(n, start + per_commit)):
                record(s, type_, subject={"job_id": f"j{i}"}, n=i, **extra, **payload)
        if pause_s:
            await asyncio.sleep(pause_s)
    await event_log.wait()
