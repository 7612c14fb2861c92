"""The tenant event log: every platform event, durable, numbered, then fanned out.

Producers call :func:`record` inside the transaction of the change they report: the event
is an outbox row of that transaction, so it exists exactly when the change does. Once the
transaction commits, the process's :class:`EventLog` (installed by the composition root
or the actor that produces) numbers the tenant's committed outbox rows in a short
transaction of its own (``seq``: 1, 2, 3, ... per tenant, never reused), moves them into
the log, and hands them to the fan-out (in-process subscribers, Redis Streams for every
replica). An event whose process died between its commit and the numbering is picked up
by the next sweep of any process running :meth:`EventLog.start`.

Why number at flush and not at insert: a counter locked by producers would be held until
each producer's commit, so one transaction that reports an event while waiting on another
that reports one could deadlock, and ids would become visible out of order. Here the lock
lives only in the numbering transaction, which touches nothing else, and an id is handed
out only after every smaller id of the tenant has committed: a reader that has seen id
``n`` and reads ``after=n`` never misses one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.config import Settings
from autonomos.store.event_models import EventCounterRow, EventOutboxRow, EventRow
from autonomos.store.models import Tenant
from autonomos.store.session import Database, on_commit, session_tenant

if TYPE_CHECKING:
    from autonomos.events.stream import RedisEventStream

log = logging.getLogger("autonomos.events.log")

__all__ = [
    "EVENT_TYPES",
    "Event",
    "EventLog",
    "Fanout",
    "TypeFilter",
    "install",
    "installed",
    "record",
]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "sync.queued",
        "sync.started",
        "sync.succeeded",
        "sync.failed",
        "sync.cancelled",
        "drift.detected",
        "repair.proposed",
        "repair.applied",
        "repair.approved",
        "repair.rejected",
        "repair.rolled_back",
        "mapping.changed",
        "views.refreshed",
        "views.refresh_failed",
        "job.queued",
        "job.running",
        "job.succeeded",
        "job.failed",
        "job.stopped",
        "agent.run.queued",
        "agent.run.running",
        "agent.run.succeeded",
        "agent.run.failed",
        "agent.run.cancelled",
        "agent.finding",
    }
)

MAX_PAYLOAD_KEYS = 32
BATCH = 500  # outbox rows numbered per transaction


class Event(BaseModel):
    """One event of a tenant's log, as the API and the fan-out carry it."""

    id: int
    type: str
    occurred_at: datetime
    subject: dict[str, str]
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> Event:
        return cls(
            id=row.seq,
            type=row.type,
            occurred_at=row.occurred_at,
            subject=dict(row.subject or {}),
            payload=dict(row.payload or {}),
        )


@dataclass(frozen=True)
class TypeFilter:
    """``types=`` of the event routes: exact types and ``prefix.*`` wildcards."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | Iterable[str] | None) -> TypeFilter | None:
        """None for "every type"; ``ValueError`` naming an entry that matches no type."""
        if raw is None:
            return None
        entries = raw.split(",") if isinstance(raw, str) else list(raw)
        exact: set[str] = set()
        prefixes: list[str] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            if entry.endswith(".*"):
                prefix = entry[:-1]
                if not any(t.startswith(prefix) for t in EVENT_TYPES):
                    raise ValueError(f"no event type starts with {prefix!r}")
                prefixes.append(prefix)
            elif entry in EVENT_TYPES:
                exact.add(entry)
            else:
                raise ValueError(
                    f"unknown event type {entry!r}; known: {', '.join(sorted(EVENT_TYPES))} "
                    "(or a prefix such as 'sync.*')"
                )
        if not exact and not prefixes:
            return None
        return cls(frozenset(exact), tuple(prefixes))

    def matches(self, type_: str) -> bool:
        return type_ in self.exact or any(type_.startswith(p) for p in self.prefixes)

    def clause(self) -> Any:
        return or_(
            EventRow.type.in_(sorted(self.exact)),
            *(EventRow.type.startswith(p, autoescape=True) for p in self.prefixes),
        )


def record(
    session: AsyncSession,
    type_: str,
    *,
    subject: Mapping[str, Any] | None = None,
    **payload: Any,
) -> None:
    """Write event ``type_`` into ``session``'s transaction (a tenant session).

    ``subject`` holds the ids of what it is about (``connection_id``, ``run_id``, ...);
    ``payload`` a few small JSON values. The event is numbered and fanned out once the
    transaction commits, and never if it rolls back.
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    if len(payload) > MAX_PAYLOAD_KEYS:
        raise ValueError(f"event payload has {len(payload)} keys (at most {MAX_PAYLOAD_KEYS})")
    tenant_id = session_tenant(session)
    session.add(
        EventOutboxRow(
            tenant_id=tenant_id,
            type=type_,
            occurred_at=datetime.now(UTC),
            subject={k: str(v) for k, v in (subject or {}).items() if v is not None},
            payload=_jsonable(payload),
        )
    )
    key = "autonomos.events.kick"
    if session.info.get(key) is None:  # one kick per transaction
        session.info[key] = True

        def kick() -> None:
            session.info.pop(key, None)
            current = _installed
            if current is not None:
                current.kick(tenant_id)

        on_commit(session, kick)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # uuids, enums, dates, decimals


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return None if value is None else uuid.UUID(str(value))
    except ValueError:
        return None


# (tenant, its newly numbered events in id order) -> None
Fanout = Callable[[uuid.UUID, Sequence[Event]], Awaitable[None]]

_installed: EventLog | None = None


def install(event_log: EventLog | None) -> None:
    """Make ``event_log`` the one this process numbers its committed events with."""
    global _installed
    _installed = event_log


def installed() -> EventLog | None:
    return _installed


class EventLog:
    """Numbers committed outbox rows, fans them out, reads and trims the log."""

    def __init__(
        self,
        db: Database,
        fanout: Fanout | None = None,
        *,
        retention_days: float = 30.0,
        sweep_s: float = 30.0,
    ) -> None:
        self.db = db
        self.fanouts: list[Fanout] = [] if fanout is None else [fanout]
        self.stream: RedisEventStream | None = None  # from_settings, with Redis
        self.retention = timedelta(days=retention_days)
        self.sweep_s = sweep_s
        self._draining: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._again: set[uuid.UUID] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._replaced: EventLog | None = None
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> EventLog:
        """This process's numberer, as ``settings`` describe it, installed: every
        committed :func:`record` of the process is numbered and fanned out at once (to
        the Redis stream every API process reads, with ``AUTONOMOS_REDIS_URL``; an API
        process adds its :class:`~autonomos.events.hub.EventHub`). Every process that
        records events (API, actors, tasks) builds one."""
        event_log = cls(
            db, retention_days=settings.event_retention_days, sweep_s=settings.event_sweep_s
        )
        event_log._replaced = installed()  # back in place when this one closes
        if settings.redis_url:  # every API process on every node reads them from there
            from autonomos.events.stream import RedisEventStream

            event_log.stream = RedisEventStream(
                settings.redis_url, key=settings.event_stream, maxlen=settings.event_stream_maxlen
            )
            event_log.listen(event_log.stream.publish)
        install(event_log)
        return event_log

    def listen(self, fanout: Fanout, *, first: bool = False) -> None:
        """Hand every batch this process numbers to ``fanout`` too: after the fan-outs
        before it, or ``first`` (in-process subscribers before a network hop)."""
        self.fanouts.insert(0 if first else len(self.fanouts), fanout)

    # -- numbering -------------------------------------------------------------------

    def kick(self, tenant_id: uuid.UUID) -> None:
        """Number ``tenant_id``'s committed events soon (one drain per tenant at a time)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a commit outside any event loop: the sweep will pick it up
            return
        if tenant_id in self._draining:
            self._again.add(tenant_id)
            return
        task = loop.create_task(self._drain(tenant_id))
        self._draining[tenant_id] = task
        task.add_done_callback(self._drained)

    def _drained(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("numbering events failed: %r", task.exception())

    async def _drain(self, tenant_id: uuid.UUID) -> None:
        try:
            while True:
                self._again.discard(tenant_id)
                events = await self.flush(tenant_id)
                if len(events) < BATCH and tenant_id not in self._again:
                    return
        finally:
            self._draining.pop(tenant_id, None)

    async def wait(self) -> None:
        """Until every drain this process started has finished (tests, shutdown)."""
        while self._draining:
            await asyncio.gather(*self._draining.values(), return_exceptions=True)

    async def flush(self, tenant_id: uuid.UUID) -> list[Event]:
        """Number up to :data:`BATCH` committed outbox rows of the tenant, then fan them
        out; returns them (empty when there was nothing to number)."""
        async with self.db.tenant_session(tenant_id) as s:
            # a write first: on Postgres it locks the tenant's counter row, on SQLite it
            # takes the write lock before anything is read (no lock-upgrade deadlock)
            lock = update(EventCounterRow).values(last_seq=EventCounterRow.last_seq)
            if not (await s.execute(lock)).rowcount:  # type: ignore[attr-defined]
                # the tenant's first event: create the counter (a racing numberer may too)
                pg = self.db.engine.dialect.name == "postgresql"
                dialect = postgresql if pg else sqlite
                await s.execute(
                    dialect.insert(EventCounterRow)
                    .values(tenant_id=tenant_id, last_seq=0)
                    .on_conflict_do_nothing(index_elements=["tenant_id"])
                )
                await s.execute(lock)
            counter = await s.scalar(select(EventCounterRow))
            assert counter is not None
            rows = list(
                await s.scalars(select(EventOutboxRow).order_by(EventOutboxRow.id).limit(BATCH))
            )
            if not rows:
                return []
            events: list[Event] = []
            seq = counter.last_seq
            for row in rows:
                seq += 1
                s.add(
                    EventRow(
                        seq=seq,
                        connection_id=_uuid_or_none((row.subject or {}).get("connection_id")),
                        type=row.type,
                        occurred_at=row.occurred_at,
                        subject=row.subject,
                        payload=row.payload,
                    )
                )
                events.append(
                    Event(
                        id=seq,
                        type=row.type,
                        occurred_at=row.occurred_at,
                        subject=dict(row.subject or {}),
                        payload=dict(row.payload or {}),
                    )
                )
            counter.last_seq = seq
            await s.execute(
                delete(EventOutboxRow).where(EventOutboxRow.id.in_([r.id for r in rows]))
            )
        for fanout in self.fanouts:
            try:
                await fanout(tenant_id, events)
            except Exception as e:  # readers catch up from the log; the events are durable
                log.warning(
                    "tenant %s: fanning out events %d..%d failed: %r",
                    tenant_id,
                    events[0].id,
                    events[-1].id,
                    e,
                )
        return events

    # -- reading ---------------------------------------------------------------------

    async def read(
        self,
        tenant_id: uuid.UUID,
        *,
        after: int | None = None,
        types: TypeFilter | None = None,
        limit: int = 100,
        upto: int | None = None,
    ) -> list[Event]:
        """The tenant's events with ``after < id (<= upto)``, ascending, at most ``limit``."""
        query = select(EventRow).order_by(EventRow.seq).limit(limit)
        if after is not None:
            query = query.where(EventRow.seq > after)
        if upto is not None:
            query = query.where(EventRow.seq <= upto)
        if types is not None:
            query = query.where(types.clause())
        async with self.db.tenant_session(tenant_id) as s:
            return [Event.of(row) for row in await s.scalars(query)]

    async def last_id(self, tenant_id: uuid.UUID) -> int:
        """The id of the tenant's newest numbered event (0 before the first)."""
        async with self.db.tenant_session(tenant_id) as s:
            return int(await s.scalar(select(EventCounterRow.last_seq)) or 0)

    # -- housekeeping ----------------------------------------------------------------

    async def purge(self, tenant_id: uuid.UUID, *, now: datetime | None = None) -> int:
        """Delete the tenant's events older than the retention; returns how many."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        async with self.db.tenant_session(tenant_id) as s:
            result = await s.execute(delete(EventRow).where(EventRow.occurred_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def sweep(self) -> None:
        """Number what no process numbered (its producer died after committing) and
        apply the retention, for every tenant."""
        async with self.db.global_session() as s:
            tenants = list(await s.scalars(select(Tenant.id)))
        for tenant_id in tenants:
            async with self.db.tenant_session(tenant_id) as s:
                pending = await s.scalar(select(EventOutboxRow.id).limit(1))
            if pending is not None and tenant_id not in self._draining:
                self.kick(tenant_id)
            await self.purge(tenant_id)

    def start(self) -> None:
        """Sweep every ``sweep_s`` seconds in the background (API processes)."""
        if self._sweeper is None and self.sweep_s > 0:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event log sweep failed")
            await asyncio.sleep(self.sweep_s)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.wait()
        self._closed = True
        if self.stream is not None:
            await self.stream.close()
        if _installed is self:
            previous = self._replaced
            while previous is not None and previous._closed:
                previous = previous._replaced
            install(previous)
