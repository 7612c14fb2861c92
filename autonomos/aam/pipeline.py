"""What happens after every sync run, in one place: drift -> repair -> materialise ->
resolution.

Both shells call :class:`AfterSync`: the in-process launcher after each run it executes
(``sync_executor=inline``) and the tenant's supervisor actor after each run its connector
actor finishes (``ray``). What differs between them is only the ports they hand in:

- ``drift_handlers``: who receives the run's drift events, by name — the repair agent
  (the :class:`~autonomos.aam.repair.agent.RepairService` in-process, or the tenant's
  ``RepairAgent`` actor) and, with Ray, the ``DriftMonitor``. Each must be idempotent
  (a resubmitted run forwards its events again). Repairs they apply refresh their own
  streams through the same :class:`~autonomos.dcl.refresh.ViewRefresher`;
- ``refresher``: brings the connection's views up to date with what the run landed, and
  with the batches its complete snapshots superseded (their rows leave the views; see
  :mod:`autonomos.aam.snapshots`) — entity resolution runs inside the DCL after a
  materialisation that touched accounts or contacts — with the outcome recorded in
  ``view_refreshes``.

The platform events of these steps are recorded by the steps themselves, in the
transactions that make their changes (``events.log.record``): ``sync.<status>`` by the
engine, ``drift.detected`` by schema resolution, ``repair.*`` by the repair agent,
``views.refreshed`` / ``views.refresh_failed`` with the refresh's outcome.

A failing step is logged and reported in the outcome; it never changes the run's status
nor stops the next step.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from autonomos.aam.snapshots import superseded_by_run
from autonomos.aam.sync_runs import SyncStatus
from autonomos.dcl.refresh import RefreshReason, RefreshStatus
from autonomos.store.aam_models import DriftEventRow, SyncRun

if TYPE_CHECKING:
    from autonomos.dcl.refresh import ViewRefresher
    from autonomos.store.session import Database

__all__ = ["AfterSync", "DriftHandler", "PipelineOutcome", "drift_event_dict"]

log = logging.getLogger("autonomos.aam.pipeline")

# (tenant, the run's drift events) -> None; see ``drift_event_dict`` for an event's shape
DriftHandler = Callable[[uuid.UUID, list[dict[str, Any]]], Awaitable[Any]]


def drift_event_dict(row: DriftEventRow, run_id: uuid.UUID | None) -> dict[str, Any]:
    """A ``drift_events`` row as handlers receive it (JSON-safe; receivers trust only its
    ``id`` and re-read the rest from SQL)."""
    return {
        "id": str(row.id),
        "tenant_id": str(row.tenant_id),
        "connection_id": str(row.connection_id),
        "stream": row.stream,
        "run_id": None if run_id is None else str(run_id),
        "old_fingerprint": row.old_fingerprint,
        "new_fingerprint": row.new_fingerprint,
        "severity": row.severity,
        "status": row.status,
        "changes": row.changes,
        "decision": row.decision,
        "detected_at": row.detected_at.isoformat(),
    }


@dataclass
class PipelineOutcome:
    run_id: str
    status: str  # the run's own status
    drift_events: int = 0
    handlers: dict[str, str] = field(default_factory=dict)  # name -> "ok" | the error
    refresh: dict[str, Any] | None = None  # the view refresh's outcome, when one ran

    @property
    def ok(self) -> bool:
        failed = self.refresh is not None and self.refresh["status"] == RefreshStatus.FAILED
        return not failed and all(v == "ok" for v in self.handlers.values())


class AfterSync:
    def __init__(
        self,
        db: Database,
        refresher: ViewRefresher,
        *,
        drift_handlers: Mapping[str, DriftHandler] | None = None,
    ) -> None:
        self.db, self.refresher = db, refresher
        self.drift_handlers = dict(drift_handlers or {})

    async def __call__(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> PipelineOutcome:
        async with self.db.tenant_session(tenant_id) as s:
            run = await s.get(SyncRun, run_id)
            if run is None:
                return PipelineOutcome(str(run_id), "missing")
            status = SyncStatus(run.status)
            connection_id, written = run.connection_id, run.records_written
            streams = list(run.streams) if run.streams else None
            events = [drift_event_dict(r, run_id) for r in await self._drift(s, run)]
            superseded = await superseded_by_run(s, run_id)
        outcome = PipelineOutcome(str(run_id), status.value, drift_events=len(events))
        if not status.finished:
            return outcome  # not ours yet: the run's own executor calls us when it ends
        if events:
            for name, handler in self.drift_handlers.items():
                try:
                    await handler(tenant_id, events)
                    outcome.handlers[name] = "ok"
                except Exception as exc:
                    log.exception("tenant %s: %s failed on run %s's drift", tenant_id, name, run_id)
                    outcome.handlers[name] = f"{type(exc).__name__}: {exc}"
        # committed batches are the truth, whatever the run's final status; a snapshot that
        # superseded batches (a succeeded run's only) removes rows even when nothing new landed
        if written or superseded:
            try:
                done = await self.refresher.refresh(
                    tenant_id,
                    connection_id,
                    streams,
                    full=False,
                    reason=RefreshReason.SYNC,
                    subject_id=run_id,
                )
                outcome.refresh = done.to_dict()
            except Exception as exc:
                log.exception("tenant %s: refreshing views after run %s failed", tenant_id, run_id)
                outcome.refresh = {"status": RefreshStatus.FAILED, "error": str(exc)}
        return outcome

    @staticmethod
    async def _drift(s: Any, run: SyncRun) -> list[DriftEventRow]:
        # the run's own window: a later run's drift is that run's to forward
        query = select(DriftEventRow).where(
            DriftEventRow.connection_id == run.connection_id,
            DriftEventRow.detected_at >= (run.started_at or run.queued_at),
        )
        if run.finished_at is not None:
            query = query.where(DriftEventRow.detected_at <= run.finished_at)
        return list(await s.scalars(query.order_by(DriftEventRow.detected_at)))
