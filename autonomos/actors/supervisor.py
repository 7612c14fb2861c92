"""TenantSupervisor: one per tenant, owning a ConnectorActor per active connection.

Supervision, as in Erlang/Orleans:

- children are created on demand (``connector:<tenant>:<connection>``) and owned by the
  supervisor, so they share its fate: if the supervisor dies, so do they, and the
  restarted supervisor resubmits the tenant's unfinished runs from the database;
- a child that Ray restarts (``max_restarts``) has its in-flight run retried by Ray; a
  child that is dead for good (killed, restarts exhausted) is noticed through the
  ``ActorDiedError`` of its tracked run (or of a periodic ping when it is idle), rebuilt,
  and given every run of its connection that the database still shows queued/running;
- a child idle for ``idle_s`` is killed (passivated); the next sync recreates it;
- when a run finishes, the drift events detected for its connection since the run
  started are forwarded to the tenant's DriftMonitor (created on first need).

All of this is safe to repeat because a sync run is resumable and idempotent: at worst a
run is submitted twice, and the connector actor runs it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray
from ray.exceptions import ActorDiedError, RayActorError

from autonomos.actors.connector import ConnectorActor
from autonomos.actors.drift_monitor import DriftMonitor
from autonomos.actors.naming import actor_name

if TYPE_CHECKING:
    from autonomos.config import Settings
    from autonomos.store.aam_models import DriftEventRow

log = logging.getLogger("autonomos.actors.supervisor")

DEFAULT_IDLE_S = 300.0  # passivate a connection's actor after this long without a run
DEFAULT_CHECK_S = 5.0  # period of the liveness / idleness check
PING_TIMEOUT_S = 10.0
MAX_CONSECUTIVE_DEATHS = 5  # a child that dies this often in a row is given up on
UNFINISHED = ("queued", "running")


@dataclass
class _Child:
    connection_id: UUID
    handle: Any
    last_active: float
    runs: dict[UUID, asyncio.Task[None]] = field(default_factory=dict)  # run -> watcher


@ray.remote(num_cpus=0, max_restarts=10, max_task_retries=1)
class TenantSupervisor:
    """Named ``supervisor:<tenant>``, detached; see :class:`RaySyncLauncher`."""

    def __init__(
        self,
        settings: Settings,
        tenant_id: UUID,
        *,
        namespace: str | None = None,
        idle_s: float = DEFAULT_IDLE_S,
        check_s: float = DEFAULT_CHECK_S,
    ) -> None:
        from autonomos.store.session import Database

        self.settings, self.tenant_id = settings, tenant_id
        # Children are named in the app's namespace, not in whatever job created us.
        self.namespace = namespace or settings.ray_namespace
        self.idle_s, self.check_s = idle_s, check_s
        self.db = Database(settings.app_database_url)
        self._children: dict[UUID, _Child] = {}
        self._deaths: dict[UUID, int] = {}  # consecutive deaths per connection
        self._restarts = 0
        self._drift: Any = None
        # Ray runs an async actor's __init__ inside its event loop.
        self._monitor = asyncio.get_running_loop().create_task(self._monitor_loop())

    # -- API -------------------------------------------------------------------------

    async def start_sync(self, connection_id: UUID, run_id: UUID) -> None:
        """Submit ``run_id`` to the connection's actor; returns once submitted."""
        self._deaths.pop(connection_id, None)  # a new request gets a fresh chance
        self._submit(connection_id, run_id)

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "tenant_id": str(self.tenant_id),
            "children": {
                str(c.connection_id): {
                    "actor": actor_name("connector", self.tenant_id, c.connection_id),
                    "runs": sorted(str(r) for r in c.runs),
                    "idle_for_s": 0.0 if c.runs else round(now - c.last_active, 3),
                }
                for c in self._children.values()
            },
            "drift_monitor": self._drift is not None,
            "child_restarts": self._restarts,
        }

    async def drift_latest(self) -> list[dict[str, Any]]:
        if self._drift is None:
            return []
        latest: list[dict[str, Any]] = await self._drift.latest.remote()
        return latest

    # -- children --------------------------------------------------------------------

    def _child(self, connection_id: UUID) -> _Child:
        child = self._children.get(connection_id)
        if child is None:
            handle = ConnectorActor.options(  # type: ignore[attr-defined]
                name=actor_name("connector", self.tenant_id, connection_id),
                namespace=self.namespace,
                get_if_exists=True,
            ).remote(self.settings, self.tenant_id, connection_id)
            child = _Child(connection_id, handle, time.monotonic())
            self._children[connection_id] = child
        return child

    def _submit(self, connection_id: UUID, run_id: UUID) -> None:
        if any(run_id in c.runs for c in self._children.values()):
            return  # already in flight
        child = self._child(connection_id)
        ref = child.handle.run_sync.remote(self.tenant_id, run_id)
        child.runs[run_id] = asyncio.create_task(self._watch(child, run_id, ref))
        child.last_active = time.monotonic()

    async def _watch(self, child: _Child, run_id: UUID, ref: Any) -> None:
        try:
            status = await ref
        except ActorDiedError:
            child.runs.pop(run_id, None)
            await self._revive(child)
            return
        except Exception:
            child.runs.pop(run_id, None)
            log.exception("tenant %s: sync run %s raised", self.tenant_id, run_id)
            return
        child.runs.pop(run_id, None)
        child.last_active = time.monotonic()
        self._deaths.pop(child.connection_id, None)
        log.info("tenant %s: sync run %s ended %s", self.tenant_id, run_id, status)
        try:
            await self._forward_drift(child.connection_id, run_id)
        except Exception:
            log.exception("tenant %s: drift forwarding for run %s failed", self.tenant_id, run_id)

    async def _revive(self, child: _Child) -> None:
        """Replace a dead child and hand the new one its connection's unfinished runs."""
        cid = child.connection_id
        if self._children.get(cid) is not child:
            return  # already replaced (several of its runs failed together)
        del self._children[cid]
        for watcher in child.runs.values():
            watcher.cancel()
        self._restarts += 1
        deaths = self._deaths[cid] = self._deaths.get(cid, 0) + 1
        if deaths > MAX_CONSECUTIVE_DEATHS:
            log.error(
                "tenant %s: connector %s died %d times in a row; not restarting it until the "
                "next sync request",
                self.tenant_id,
                cid,
                deaths,
            )
            return
        runs = await self._unfinished(cid)
        log.warning(
            "tenant %s: connector %s died; restarting it with %d run(s)",
            self.tenant_id,
            cid,
            len(runs),
        )
        for run_id, _ in runs:
            self._submit(cid, run_id)

    def _passivate(self, child: _Child) -> None:
        del self._children[child.connection_id]
        ray.kill(child.handle, no_restart=True)
        log.info("tenant %s: passivated connector %s", self.tenant_id, child.connection_id)

    async def _alive(self, child: _Child) -> bool:
        """False only when Ray says the child is dead for good; slow or restarting is alive."""
        try:
            await asyncio.wait_for(child.handle.ping.remote(), PING_TIMEOUT_S)
        except ActorDiedError:
            return False
        except (TimeoutError, RayActorError):
            pass
        return True

    # -- periodic check ----------------------------------------------------------------

    async def _monitor_loop(self) -> None:
        try:
            # After a restart our old children are gone with us: resume what they ran.
            for run_id, cid in await self._unfinished(None):
                self._submit(cid, run_id)
        except Exception:
            log.exception("tenant %s: recovering unfinished runs failed", self.tenant_id)
        while True:
            await asyncio.sleep(self.check_s)
            try:
                await self._check()
            except Exception:
                log.exception("tenant %s: supervision check failed", self.tenant_id)

    async def _check(self) -> None:
        now = time.monotonic()
        for child in list(self._children.values()):
            if not child.runs and now - child.last_active > self.idle_s:
                self._passivate(child)
        children = list(self._children.values())
        alive = await asyncio.gather(*(self._alive(c) for c in children))
        for child, ok in zip(children, alive, strict=True):
            if not ok:
                await self._revive(child)

    # -- database ----------------------------------------------------------------------

    async def _unfinished(self, connection_id: UUID | None) -> list[tuple[UUID, UUID]]:
        """(run, connection) of the tenant's queued/running runs, oldest first."""
        from sqlalchemy import select

        from autonomos.store.aam_models import SyncRun

        query = select(SyncRun.id, SyncRun.connection_id).where(SyncRun.status.in_(UNFINISHED))
        if connection_id is not None:
            query = query.where(SyncRun.connection_id == connection_id)
        async with self.db.tenant_session(self.tenant_id) as s:
            rows = (await s.execute(query.order_by(SyncRun.queued_at))).all()
        return [(r[0], r[1]) for r in rows]

    async def _forward_drift(self, connection_id: UUID, run_id: UUID) -> None:
        from sqlalchemy import select

        from autonomos.store.aam_models import DriftEventRow, SyncRun

        async with self.db.tenant_session(self.tenant_id) as s:
            run = await s.get(SyncRun, run_id)
            if run is None:
                return
            since = run.started_at or run.queued_at
            rows = list(
                await s.scalars(
                    select(DriftEventRow)
                    .where(
                        DriftEventRow.connection_id == connection_id,
                        DriftEventRow.detected_at >= since,
                    )
                    .order_by(DriftEventRow.detected_at)
                )
            )
        if not rows:
            return
        if self._drift is None:
            self._drift = DriftMonitor.options(  # type: ignore[attr-defined]
                name=actor_name("drift", self.tenant_id),
                namespace=self.namespace,
                get_if_exists=True,
            ).remote(self.tenant_id)
        await asyncio.gather(*(self._drift.notify.remote(_event(r, run_id)) for r in rows))


def _event(row: DriftEventRow, run_id: UUID) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "tenant_id": str(row.tenant_id),
        "connection_id": str(row.connection_id),
        "stream": row.stream,
        "run_id": str(run_id),
        "old_fingerprint": row.old_fingerprint,
        "new_fingerprint": row.new_fingerprint,
        "severity": row.severity,
        "status": row.status,
        "changes": row.changes,
        "decision": row.decision,
        "detected_at": row.detected_at.isoformat(),
    }
