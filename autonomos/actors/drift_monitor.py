"""DriftMonitor: the tenant's live view of schema drift, one entry per (connection, stream).

The durable record is SQL (``drift_events``, ``schema_fingerprints``); this actor keeps
the latest drift event and the current fingerprints per stream in memory for cheap reads
and for agents that react to drift. Its state is rebuilt from those tables on first use
after every start (creation, Ray restart, re-creation after passivation), then kept up
to date by :meth:`DriftMonitor.notify` from the supervisor; :meth:`DriftMonitor.reload`
re-reads SQL (e.g. after a human accepted a pending schema).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray

from autonomos.aam.pipeline import drift_event_dict
from autonomos.actors.process import process_info

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from autonomos.config import Settings
    from autonomos.store.aam_models import DriftEventRow


class DriftEventError(ValueError):
    """A notification lacks the fields that identify it; never retryable."""


_REQUIRED = ("id", "connection_id", "stream", "detected_at")
_Key = tuple[str, str]  # (connection id, stream)


@ray.remote(num_cpus=0, max_restarts=3, max_task_retries=3)
class DriftMonitor:
    """Named ``drift:<tenant>``; created on demand and owned by the tenant's supervisor."""

    def __init__(self, settings: Settings, tenant_id: UUID) -> None:
        from autonomos.store.session import Database

        self.tenant_id = tenant_id
        self.db = Database(settings.app_database_url)
        self._latest: dict[_Key, dict[str, Any]] = {}
        self._fingerprints: dict[_Key, dict[str, Any]] = {}
        self._loaded: asyncio.Task[None] | None = None

    async def _ready(self) -> None:
        if self._loaded is None or (self._loaded.done() and self._loaded.exception()):
            self._loaded = asyncio.ensure_future(self._load())
        await asyncio.shield(self._loaded)

    async def reload(self) -> int:
        """Re-read the durable state; returns the number of streams with drift."""
        self._loaded = None
        await self._ready()
        return len(self._latest)

    async def notify(self, event: dict[str, Any]) -> bool:
        """Record ``event`` if it is newer than the stream's current one; True if kept.

        Idempotent and order-insensitive: replays and late arrivals never move the view
        back (events compare by ISO ``detected_at``, then id).
        """
        missing = [k for k in _REQUIRED if k not in event]
        if missing:
            raise DriftEventError(f"drift event lacks {', '.join(missing)}")
        await self._ready()
        if not self._keep(event):
            return False
        key = (str(event["connection_id"]), str(event["stream"]))
        fps = self._fingerprints.setdefault(key, {"fingerprint": None, "pending": []})
        new = event.get("new_fingerprint")
        if event.get("status") == "applied":
            fps["fingerprint"] = new
        elif new and new not in fps["pending"]:
            fps["pending"].append(new)
        return True

    async def latest(self, connection_id: UUID | str | None = None) -> list[dict[str, Any]]:
        """Latest drift per stream, newest first; optionally of one connection."""
        await self._ready()
        wanted = None if connection_id is None else str(connection_id)
        events = [e for (c, _), e in self._latest.items() if wanted in (None, c)]
        return sorted(events, key=_order, reverse=True)

    async def fingerprints(self, connection_id: UUID | str | None = None) -> list[dict[str, Any]]:
        """Per stream: the accepted fingerprint and the pending (awaiting a human) ones."""
        await self._ready()
        wanted = None if connection_id is None else str(connection_id)
        return [
            {"connection_id": c, "stream": s, **v}
            for (c, s), v in sorted(self._fingerprints.items())
            if wanted in (None, c)
        ]

    def ping(self) -> dict[str, Any]:
        return {"streams": len(self._latest), **process_info()}

    # -- state -----------------------------------------------------------------------

    def _keep(self, event: dict[str, Any]) -> bool:
        key = (str(event["connection_id"]), str(event["stream"]))
        current = self._latest.get(key)
        if current is not None and _order(current) >= _order(event):
            return False
        self._latest[key] = dict(event)
        return True

    async def _load(self) -> None:
        latest: dict[_Key, dict[str, Any]] = {}
        async with self.db.tenant_session(self.tenant_id) as s:
            for row in await _latest_drift_rows(s):
                event = drift_event_dict(row, await _run_of(s, row))
                key = (event["connection_id"], event["stream"])
                if key not in latest or _order(latest[key]) < _order(event):
                    latest[key] = event
            fingerprints = await _fingerprint_view(s)
        # events notified while we read are newer than or equal to what SQL showed
        for event in self._latest.values():
            key = (event["connection_id"], event["stream"])
            if key not in latest or _order(latest[key]) < _order(event):
                latest[key] = event
        self._latest, self._fingerprints = latest, fingerprints


def _order(event: dict[str, Any]) -> tuple[str, str]:
    return str(event["detected_at"]), str(event["id"])


async def _latest_drift_rows(s: AsyncSession) -> list[DriftEventRow]:
    """The newest ``drift_events`` row(s) of each (connection, stream)."""
    from sqlalchemy import and_, func, or_, select

    from autonomos.store.aam_models import DriftEventRow as D

    newest = (
        await s.execute(
            select(D.connection_id, D.stream, func.max(D.detected_at)).group_by(
                D.connection_id, D.stream
            )
        )
    ).all()
    if not newest:
        return []
    match = or_(
        *(and_(D.connection_id == c, D.stream == st, D.detected_at == at) for c, st, at in newest)
    )
    return list(await s.scalars(select(D).where(match)))


async def _run_of(s: AsyncSession, row: DriftEventRow) -> UUID | None:
    """The sync run that detected ``row``: the connection's last run started before it
    (runs of one connection are serialised by its ConnectorActor)."""
    from sqlalchemy import select

    from autonomos.store.aam_models import SyncRun

    run_id: UUID | None = await s.scalar(
        select(SyncRun.id)
        .where(SyncRun.connection_id == row.connection_id, SyncRun.started_at <= row.detected_at)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return run_id


async def _fingerprint_view(s: AsyncSession) -> dict[_Key, dict[str, Any]]:
    from sqlalchemy import select

    from autonomos.store.aam_models import SchemaFingerprint as F

    out: dict[_Key, dict[str, Any]] = {}
    rows = await s.execute(
        select(F.connection_id, F.stream, F.fingerprint, F.status, F.accepted_at)
        .where(F.status.in_(("accepted", "pending")))
        .order_by(F.first_seen_at)
    )
    best: dict[_Key, Any] = {}
    for cid, stream, fp, status, accepted_at in rows:
        key = (str(cid), stream)
        view = out.setdefault(key, {"fingerprint": None, "pending": []})
        if status == "pending":
            if fp not in view["pending"]:
                view["pending"].append(fp)
        elif accepted_at is not None and (key not in best or accepted_at >= best[key]):
            best[key], view["fingerprint"] = accepted_at, fp
    return out
