"""Producing events in tests: a numberer of the test process's own, and bursts of events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from autonomos.config import Settings
from autonomos.events.log import EventLog, install, installed, record
from autonomos.store.session import Database


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
