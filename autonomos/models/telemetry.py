"""Usage telemetry of LLM and embedding calls made on a tenant's behalf.

Every call adds to an in-memory aggregate keyed by (tenant, kind, model, UTC day): a dict
update under a lock, so the call path never waits for SQL. A daemon thread with its own
event loop and a one-connection engine upserts the aggregates into ``llm_usage`` every
``AUTONOMOS_TELEMETRY_FLUSH_S`` seconds, adding to what other processes wrote. It starts
on the first record, in whichever process records (API replica, actor, job, CLI), and
flushes once more at interpreter exit.

Restrictions: a process killed without exiting (SIGKILL, OOM) loses at most one flush
interval of counts; a failed flush (database down, not yet migrated) keeps the counts in
memory and retries on the next interval.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.config import Settings, get_settings
from autonomos.store.session import TENANT_KEY, Database
from autonomos.store.telemetry_models import LLMUsage

log = logging.getLogger("autonomos.models.telemetry")

UsageKind = Literal["llm", "embedding"]
USAGE_KINDS: tuple[UsageKind, ...] = ("llm", "embedding")


@dataclass(frozen=True, slots=True)
class UsageKey:
    tenant_id: uuid.UUID
    kind: UsageKind
    model: str
    day: date


@dataclass(slots=True)
class Usage:
    calls: int = 0
    items: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    errors: int = 0

    def add(self, other: Usage) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


_COUNTERS = tuple(f.name for f in fields(Usage))


class UsageRecorder:
    """Aggregates usage in memory; writes it to ``database_url`` in the background.

    Without a ``database_url`` nothing is written by itself: call :meth:`flush_to` or
    :meth:`write_pending` with a database or session you own.
    """

    def __init__(self, database_url: str | None = None, flush_s: float = 5.0) -> None:
        self.database_url = database_url
        self.flush_s = flush_s
        self._pending: dict[UsageKey, Usage] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._db: Database | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._last_warning = 0.0

    # -- the call path ---------------------------------------------------------------

    def record(
        self,
        tenant_id: uuid.UUID,
        kind: UsageKind,
        model: str,
        *,
        items: int = 1,
        cached: int = 0,
        input_tokens: int = 0,
        output_tokens: int = 0,
        latency_ms: float = 0.0,
        error: bool = False,
        at: datetime | None = None,
    ) -> None:
        """Count one call. Cheap and non-blocking; never raises for a database problem."""
        if kind not in USAGE_KINDS:
            raise ValueError(f"unknown usage kind {kind!r}")
        if not isinstance(tenant_id, uuid.UUID):
            raise TypeError("tenant_id must be a UUID")
        key = UsageKey(
            tenant_id, kind, model[:200], (at or datetime.now(UTC)).astimezone(UTC).date()
        )
        delta = Usage(1, items, cached, input_tokens, output_tokens, latency_ms, int(error))
        with self._lock:
            current = self._pending.get(key)
            if current is None:
                self._pending[key] = delta
            else:
                current.add(delta)
        if self.database_url is not None and self._thread is None:
            self._start()

    # -- buffered state --------------------------------------------------------------

    def pending(self) -> dict[UsageKey, Usage]:
        """A copy of what has not been written yet."""
        with self._lock:
            return {
                k: Usage(**{n: getattr(v, n) for n in _COUNTERS}) for k, v in self._pending.items()
            }

    def drain(self, tenant_id: uuid.UUID | None = None) -> dict[UsageKey, Usage]:
        """Take the pending usage (of one tenant, or all) out of the buffer."""
        with self._lock:
            if tenant_id is None:
                taken, self._pending = self._pending, {}
                return taken
            taken = {k: v for k, v in self._pending.items() if k.tenant_id == tenant_id}
            for k in taken:
                del self._pending[k]
            return taken

    def restore(self, usage: Mapping[UsageKey, Usage]) -> None:
        """Put drained usage back (after a failed write), adding to anything newer."""
        with self._lock:
            for key, value in usage.items():
                current = self._pending.get(key)
                if current is None:
                    self._pending[key] = value
                else:
                    current.add(value)

    # -- writing ---------------------------------------------------------------------

    async def write_pending(self, session: AsyncSession, tenant_id: uuid.UUID) -> int:
        """Write ``tenant_id``'s pending usage inside the caller's tenant session."""
        taken = self.drain(tenant_id)
        try:
            await write_usage(session, taken)
        except BaseException:
            self.restore(taken)
            raise
        return len(taken)

    async def flush_to(self, db: Database) -> int:
        """Write all pending usage to ``db``, one tenant transaction per tenant."""
        taken = self.drain()
        by_tenant: dict[uuid.UUID, dict[UsageKey, Usage]] = {}
        for key, value in taken.items():
            by_tenant.setdefault(key.tenant_id, {})[key] = value
        written = 0
        try:
            for tenant_id, usage in list(by_tenant.items()):
                async with db.tenant_session(tenant_id) as session:
                    await write_usage(session, usage)
                del by_tenant[tenant_id]
                written += len(usage)
        except BaseException:
            for usage in by_tenant.values():
                self.restore(usage)
            raise
        return written

    def flush(self, timeout_s: float = 30.0) -> None:
        """Write everything pending now (blocking), through the background writer."""
        if self.database_url is None:
            raise RuntimeError("this recorder has no database_url; use flush_to(db)")
        if self._thread is None:
            self._start()
        self._ready.wait(timeout_s)
        assert self._loop is not None and self._db is not None
        future = asyncio.run_coroutine_threadsafe(self.flush_to(self._db), self._loop)
        future.result(timeout_s)

    def tokens_used(
        self, tenant_id: uuid.UUID, kind: UsageKind = "llm", timeout_s: float = 10.0
    ) -> int:
        """Input + output tokens ``tenant_id`` used today (UTC) for ``kind``: what this
        process has not written yet plus, with a database, what is stored there.

        With a database the pending counts are written first, on the writer's own loop, so
        nothing is counted twice. Restriction: another process's counts reach the
        database only at its next flush (``flush_s``)."""
        today = datetime.now(UTC).date()
        if self.database_url is not None:
            if self._thread is None:
                self._start()
            self._ready.wait(timeout_s)
            assert self._loop is not None and self._db is not None
            future = asyncio.run_coroutine_threadsafe(
                self._stored_tokens(tenant_id, kind, today), self._loop
            )
            try:
                stored = future.result(timeout_s)
            except Exception as e:  # the database is down: count what this process saw
                log.warning("stored LLM usage unreadable, budget counts this process: %s", e)
                stored = 0
        else:
            stored = 0
        with self._lock:
            pending = sum(
                v.input_tokens + v.output_tokens
                for k, v in self._pending.items()
                if k.tenant_id == tenant_id and k.kind == kind and k.day == today
            )
        return stored + pending

    async def _stored_tokens(self, tenant_id: uuid.UUID, kind: str, day: date) -> int:
        assert self._db is not None
        await self.flush_to(self._db)
        async with self._db.tenant_session(tenant_id) as session:
            total = await session.scalar(
                select(
                    func.coalesce(func.sum(LLMUsage.input_tokens + LLMUsage.output_tokens), 0)
                ).where(LLMUsage.day == day, LLMUsage.kind == kind)
            )
        return int(total or 0)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the background writer after a last flush."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._stopping = True
        if self._wake is not None:
            loop.call_soon_threadsafe(self._wake.set)
        thread.join(timeout_s)
        self._thread = None

    # -- the background writer --------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="autonomos-telemetry", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._writer())
        finally:
            loop.close()

    async def _writer(self) -> None:
        assert self.database_url is not None
        self._db = Database(self.database_url, **_small_pool(self.database_url))
        self._wake = asyncio.Event()
        self._ready.set()
        try:
            while not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.flush_s)
                except TimeoutError:
                    pass
                await self._flush_logged()
            await self._flush_logged()
        finally:
            await self._db.dispose()

    async def _flush_logged(self) -> None:
        assert self._db is not None
        try:
            await self.flush_to(self._db)
        except Exception as e:  # kept in memory; retried on the next interval
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("LLM usage telemetry not written yet (will retry): %s", e)


_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _small_pool(url: str) -> dict[str, Any]:
    # One writer per process: it needs one connection, not the app's pool.
    return {"pool_size": 1, "max_overflow": 1} if url.startswith("postgresql") else {}


async def write_usage(session: AsyncSession, usage: Mapping[UsageKey, Usage]) -> None:
    """Add ``usage`` to the ``llm_usage`` rows (insert, or increment on conflict)."""
    if not usage:
        return
    tenant = session.info.get(TENANT_KEY)
    if any(k.tenant_id != tenant for k in usage):
        raise ValueError("usage of another tenant given to this tenant session")
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:  # pragma: no cover - the two supported backends
        raise NotImplementedError(f"usage upsert on {dialect}")
    insert = _UPSERTS[dialect]
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": k.tenant_id,
            "day": k.day,
            "kind": k.kind,
            "model": k.model,
            **{n: getattr(v, n) for n in _COUNTERS},
            "updated_at": now,
        }
        for k, v in sorted(usage.items(), key=lambda kv: (kv[0].day, kv[0].kind, kv[0].model))
    ]
    table = LLMUsage.__table__
    stmt = insert(LLMUsage).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "day", "kind", "model"],
        set_={
            **{n: table.c[n] + stmt.excluded[n] for n in _COUNTERS},
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)


@dataclass(frozen=True, slots=True)
class UsageTotal:
    kind: str
    model: str
    first_day: date
    last_day: date
    usage: Usage


async def usage_totals(
    session: AsyncSession, since: date | None = None, until: date | None = None
) -> list[UsageTotal]:
    """The session tenant's usage per (kind, model), over UTC days ``since..until``."""
    sums = [func.sum(getattr(LLMUsage, n)) for n in _COUNTERS]
    query = (
        select(LLMUsage.kind, LLMUsage.model, func.min(LLMUsage.day), func.max(LLMUsage.day), *sums)
        .group_by(LLMUsage.kind, LLMUsage.model)
        .order_by(LLMUsage.kind, LLMUsage.model)
    )
    if since is not None:
        query = query.where(LLMUsage.day >= since)
    if until is not None:
        query = query.where(LLMUsage.day <= until)
    out = []
    for kind, model, first, last, *values in (await session.execute(query)).all():
        usage = Usage()
        for name, value in zip(_COUNTERS, values, strict=True):
            setattr(usage, name, float(value or 0) if name == "latency_ms" else int(value or 0))
        out.append(UsageTotal(kind, model, first, last, usage))
    return out


_recorders: dict[str, UsageRecorder] = {}
_recorders_lock = threading.Lock()


def get_recorder(settings: Settings | None = None) -> UsageRecorder:
    """The process-wide recorder writing to ``settings``' database."""
    settings = settings or get_settings()
    url = settings.app_database_url
    with _recorders_lock:
        recorder = _recorders.get(url)
        if recorder is None:
            recorder = _recorders[url] = UsageRecorder(url, settings.telemetry_flush_s)
        return recorder


@atexit.register
def _flush_at_exit() -> None:
    for recorder in list(_recorders.values()):
        try:
            recorder.close()
        except Exception:  # noqa: S110 - nothing useful to do at interpreter exit
            pass
