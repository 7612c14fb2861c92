"""The one path from a change to the unified views: request a refresh, carry it out, record it.

Whatever changes what a connection's views should hold — a finished sync, an approved,
edited or rolled-back repair, a mapping set / retired / restored by hand, a batch-mapping
run — goes through :class:`ViewRefresher`, in both deployment modes:

1. :meth:`ViewRefresher.request` adds a ``view_refreshes`` row (``queued``) inside the
   transaction of the change itself, so a committed change always has its refresh on
   record (an outbox: a crash right after the commit loses nothing);
2. after the commit, :meth:`ViewRefresher.settle` carries the requests out through the
   tenant's DCL port (its ``dcl:<tenant>`` actor, or in-process) and records the outcome
   — ``succeeded`` with the DCL's report, or ``failed`` with the reason, and, in the same
   transaction, its ``views.refreshed`` / ``views.refresh_failed`` event — waiting a bounded
   time: a refresh still running past it goes on, tracked, and its row tells how it ended;
3. :meth:`ViewRefresher.recover` re-runs requests left ``queued``/``running`` by a process
   that died (called when a DCL port starts serving a tenant).

After a refresh that rebuilt views, ``on_materialized(tenant, entities)`` is called with
the entities whose views changed (the agents that read them run next; see
``autonomos.agents.runner.after_materialize``); its failure is logged, never the refresh's.

No Ray here: the DCL port is given (see ``autonomos/runtime.py``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.common.states import StateMachine
from autonomos.events.log import record
from autonomos.store.aam_models import Connection
from autonomos.store.base import utcnow
from autonomos.store.dcl_models import ViewRefresh
from autonomos.store.errors import NotFound

if TYPE_CHECKING:
    from autonomos.store.session import Database

__all__ = [
    "REFRESHES",
    "Materializer",
    "RefreshOutcome",
    "RefreshReason",
    "RefreshStatus",
    "ViewRefresher",
]

log = logging.getLogger("autonomos.dcl.refresh")

DEFAULT_WAIT_S = 30.0  # how long a caller waits for its refresh before answering "running"
STALE_AFTER = timedelta(minutes=10)  # a "running" refresh this old was lost with its process
MAX_ERROR_CHARS = 2000


class Materializer(Protocol):
    """The part of the DCL port a refresh needs (``DCLPort`` has it, as do the actors'
    adapters)."""

    async def materialize(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]: ...


class RefreshStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefreshReason(enum.StrEnum):
    SYNC = "sync"  # a sync run landed new data
    REPAIR = "repair"  # a repair was applied (by Safe Mode or a person) or rolled back
    MAPPING = "mapping"  # a mapping was set, retired or restored by hand
    BATCH_MAP = "batch_map"  # a batch-mapping job changed mappings
    MANUAL = "manual"  # someone asked (POST /dcl/materialize)


REFRESHES: StateMachine[RefreshStatus] = StateMachine(
    "view refresh",
    {
        RefreshStatus.QUEUED: {RefreshStatus.RUNNING, RefreshStatus.FAILED},
        # back to queued: recovered after its process died mid-way
        RefreshStatus.RUNNING: {
            RefreshStatus.SUCCEEDED,
            RefreshStatus.FAILED,
            RefreshStatus.QUEUED,
        },
        RefreshStatus.SUCCEEDED: (),
        RefreshStatus.FAILED: (),
    },
)


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did, as the API shows it."""

    id: uuid.UUID
    connection_id: uuid.UUID
    status: RefreshStatus
    reason: str
    streams: list[str] | None
    full: bool
    error: str | None = None
    report: dict[str, Any] | None = None  # the DCL's report (slices, resolution, timing)

    @classmethod
    def of(cls, row: ViewRefresh) -> RefreshOutcome:
        return cls(
            id=row.id,
            connection_id=row.connection_id,
            status=RefreshStatus(row.status),
            reason=row.reason,
            streams=row.streams,
            full=row.full,
            error=row.error,
            report=row.result,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# a refresh's ``subject_id`` in its event's subject: the id of what caused it (a repair's
# is its proposal when a person decided, its drift event when Safe Mode applied it)
_CAUSE = {
    RefreshReason.SYNC.value: "run_id",
    RefreshReason.MAPPING.value: "mapping_id",
    RefreshReason.MANUAL.value: "user_id",
}

CHANGED_MODES = frozenset({"full", "incremental", "dropped"})
# (tenant, entities whose views were rebuilt) -> None
OnMaterialized = Callable[[uuid.UUID, Collection[str]], Awaitable[None]]


def changed_entities(report: dict[str, Any] | None) -> set[str]:
    """The entities whose views a DCL report says changed."""
    return {
        str(s["entity"])
        for s in (report or {}).get("slices", ())
        if s.get("mode") in CHANGED_MODES and s.get("entity")
    }


def _failed_slices(report: dict[str, Any]) -> str | None:
    bad = [s for s in report.get("slices", ()) if s.get("mode") == "failed"]
    if not bad:
        return None
    return "; ".join(
        f"{s.get('entity')} from {s.get('stream')}: {s.get('error') or 'failed'}" for s in bad
    )


class ViewRefresher:
    def __init__(
        self,
        db: Database,
        dcl: Materializer,
        *,
        wait_s: float = DEFAULT_WAIT_S,
        on_materialized: OnMaterialized | None = None,
    ) -> None:
        self.db, self.dcl, self.wait_s = db, dcl, wait_s
        self.on_materialized = on_materialized
        self._running: dict[uuid.UUID, asyncio.Task[RefreshOutcome]] = {}

    # -- 1. inside the change's transaction ------------------------------------------

    @staticmethod
    async def request(
        session: AsyncSession,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None,
        *,
        full: bool,
        reason: RefreshReason,
        subject_id: str | uuid.UUID | None = None,
    ) -> ViewRefresh:
        """Record that ``connection_id``'s views (of ``streams``; None: all) need a refresh;
        NotFound when the connection is not the tenant's."""
        if await session.get(Connection, connection_id) is None:
            raise NotFound("connection not found")
        row = ViewRefresh(
            connection_id=connection_id,
            streams=None if streams is None else sorted(set(streams)),
            full=full,
            reason=RefreshReason(reason).value,
            subject_id=None if subject_id is None else str(subject_id),
            status=RefreshStatus.QUEUED.value,
            attempts=0,
        )
        session.add(row)
        await session.flush()
        return row

    # -- 2. after the commit ---------------------------------------------------------

    async def settle(
        self, tenant_id: uuid.UUID, refresh_ids: Sequence[uuid.UUID], *, wait_s: float | None = None
    ) -> list[RefreshOutcome]:
        """Carry out the requests (in order, one after another) and wait for them at most
        ``wait_s``; one still going past it is answered as ``running`` and finishes on its
        own (its row says how)."""
        if not refresh_ids:
            return []
        work = asyncio.ensure_future(self._run_all(tenant_id, list(refresh_ids)))
        try:
            return await asyncio.wait_for(
                asyncio.shield(work), self.wait_s if wait_s is None else wait_s
            )
        except TimeoutError:
            self._keep(work)
            async with self.db.tenant_session(tenant_id) as s:
                rows = await s.scalars(select(ViewRefresh).where(ViewRefresh.id.in_(refresh_ids)))
                by_id = {r.id: RefreshOutcome.of(r) for r in rows}
            return [by_id[i] for i in refresh_ids if i in by_id]

    async def refresh(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None,
        *,
        full: bool,
        reason: RefreshReason,
        subject_id: str | uuid.UUID | None = None,
        wait_s: float | None = None,
    ) -> RefreshOutcome:
        """Request and settle in one go (when there is no other change to commit with)."""
        async with self.db.tenant_session(tenant_id) as s:
            row = await self.request(
                s, connection_id, streams, full=full, reason=reason, subject_id=subject_id
            )
        (outcome,) = await self.settle(tenant_id, [row.id], wait_s=wait_s)
        return outcome

    async def get(self, tenant_id: uuid.UUID, refresh_id: uuid.UUID) -> RefreshOutcome:
        async with self.db.tenant_session(tenant_id) as s:
            row = await s.get(ViewRefresh, refresh_id)
            if row is None:
                raise NotFound("view refresh not found")
            return RefreshOutcome.of(row)

    async def find(
        self,
        tenant_id: uuid.UUID,
        *,
        connection_id: uuid.UUID | None = None,
        status: RefreshStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[RefreshOutcome]:
        query = select(ViewRefresh)
        if connection_id is not None:
            query = query.where(ViewRefresh.connection_id == connection_id)
        if status is not None:
            query = query.where(ViewRefresh.status == status.value)
        query = query.order_by(ViewRefresh.requested_at.desc(), ViewRefresh.id)
        async with self.db.tenant_session(tenant_id) as s:
            rows = await s.scalars(query.limit(limit).offset(offset))
            return [RefreshOutcome.of(r) for r in rows]

    # -- 3. recovery -----------------------------------------------------------------

    async def recover(self, tenant_id: uuid.UUID) -> list[RefreshOutcome]:
        """Re-run the tenant's refreshes that a dead process left unfinished."""
        stale = utcnow() - STALE_AFTER
        async with self.db.tenant_session(tenant_id) as s:
            rows = list(
                await s.scalars(
                    select(ViewRefresh)
                    .where(
                        (ViewRefresh.status == RefreshStatus.QUEUED.value)
                        | (
                            (ViewRefresh.status == RefreshStatus.RUNNING.value)
                            & (ViewRefresh.started_at < stale)
                        )
                    )
                    .order_by(ViewRefresh.requested_at)
                )
            )
            ids = [r.id for r in rows if r.id not in self._running]
            for row in rows:
                if row.status == RefreshStatus.RUNNING.value and row.id in ids:
                    row.status = REFRESHES.transition(
                        RefreshStatus.RUNNING, RefreshStatus.QUEUED
                    ).value
        return await self._run_all(tenant_id, ids)

    async def close(self) -> None:
        """Wait for the refreshes still going (they are short; their rows must be final)."""
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    # -- carrying one out --------------------------------------------------------------

    def _keep(self, work: asyncio.Future[Any]) -> None:
        def report(f: asyncio.Future[Any]) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.error("view refresh ended with %r", f.exception())

        work.add_done_callback(report)

    async def _run_all(self, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> list[RefreshOutcome]:
        return [await self._run_once(tenant_id, i) for i in ids]

    async def _run_once(self, tenant_id: uuid.UUID, refresh_id: uuid.UUID) -> RefreshOutcome:
        task = self._running.get(refresh_id)
        if task is None:
            task = asyncio.ensure_future(self._run(tenant_id, refresh_id))
            self._running[refresh_id] = task
            task.add_done_callback(lambda _: self._running.pop(refresh_id, None))
        return await asyncio.shield(task)

    async def _run(self, tenant_id: uuid.UUID, refresh_id: uuid.UUID) -> RefreshOutcome:
        outcome, mine = await self._carry_out(tenant_id, refresh_id)
        entities = changed_entities(outcome.report) if mine else set()
        if self.on_materialized is not None and entities:
            try:
                await self.on_materialized(tenant_id, entities)
            except Exception:
                log.exception("tenant %s: after refresh %s: hook failed", tenant_id, refresh_id)
        return outcome

    async def _carry_out(
        self, tenant_id: uuid.UUID, refresh_id: uuid.UUID
    ) -> tuple[RefreshOutcome, bool]:
        """(the outcome, whether this call carried the refresh out)."""
        async with self.db.tenant_session(tenant_id) as s:
            row = await s.get(ViewRefresh, refresh_id, with_for_update=True)
            if row is None:
                raise NotFound("view refresh not found")
            if row.status != RefreshStatus.QUEUED.value:
                return RefreshOutcome.of(row), False  # carried out already (or being so)
            row.status = REFRESHES.transition(RefreshStatus.QUEUED, RefreshStatus.RUNNING).value
            row.started_at, row.attempts = utcnow(), row.attempts + 1
            connection_id, streams, full = row.connection_id, row.streams, row.full
        report: dict[str, Any] | None = None
        try:
            report = to_jsonable_python(
                await self.dcl.materialize(tenant_id, connection_id, streams, full=full)
            )
            error = _failed_slices(report)
        except Exception as exc:  # the outcome is recorded, whatever it was
            log.warning("tenant %s: view refresh %s failed: %s", tenant_id, refresh_id, exc)
            error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
        async with self.db.tenant_session(tenant_id) as s:
            row = await s.get(ViewRefresh, refresh_id, with_for_update=True)
            if row is None:  # the connection was deleted meanwhile (cascade)
                gone = RefreshOutcome(
                    refresh_id,
                    connection_id,
                    RefreshStatus.FAILED,
                    "",
                    streams,
                    full,
                    "the connection was deleted",
                    report,
                )
                return gone, False
            target = RefreshStatus.FAILED if error else RefreshStatus.SUCCEEDED
            row.status = REFRESHES.transition(RefreshStatus(row.status), target).value
            row.error = error[:MAX_ERROR_CHARS] if error else None
            row.result = report
            row.finished_at = utcnow()
            record(
                s,
                "views.refresh_failed" if error else "views.refreshed",
                subject={
                    "connection_id": connection_id,
                    "refresh_id": refresh_id,
                    _CAUSE.get(row.reason, "cause_id"): row.subject_id,
                },
                reason=row.reason,
                streams=streams,
                full=full,
                entities=sorted(changed_entities(report)),
                error=row.error,
            )
            return RefreshOutcome.of(row), True
