"""Reading a tenant's event log in tests: every committed event numbered, then read."""

from __future__ import annotations

import uuid
from typing import Any

from autonomos.events.log import Event, EventLog, TypeFilter, installed
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
