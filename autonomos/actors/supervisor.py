"""TenantSupervisor: one per tenant, owning the tenant's child actors.

Supervision, as in Erlang/Orleans (virtual actors):

- children are created lazily by :meth:`TenantSupervisor.ensure_child` (kind, id) from
  the registry in :mod:`autonomos.actors.children` and named ``<kind>:<tenant>[:<id>]``.
  They are owned by the supervisor, so they share its fate: if it dies, so do they, and
  the restarted supervisor resubmits the tenant's unfinished runs from the database;
- a ``ConnectorActor`` per connection runs sync runs. One that Ray restarts
  (``max_restarts``) has its in-flight run retried by Ray; one that is dead for good
  (killed, restarts exhausted) is noticed through the ``ActorDiedError`` of its tracked
  run (or of the periodic ``ping``), rebuilt, and given every run of its connection that
  the database still shows queued/running;
- any other dead child is dropped and rebuilt on its next ``ensure_child`` (its state is
  in SQL);
- after every finished run it runs the platform's one after-sync pipeline
  (:class:`~autonomos.aam.pipeline.AfterSync`: drift -> repair -> materialise ->
  resolution -> events), with its children as the ports: every kind registered with
  ``on_drift`` (the ``DriftMonitor``, the ``RepairAgent``) receives the run's drift
  events, and the ``dcl`` child brings the views up to date (the outcome is recorded in
  ``view_refreshes``);
- a child idle for ``idle_s`` (no run in flight, no ``ensure_child``/``touch``, not
  ``busy``) is killed (passivated); the next use recreates it;
- the supervisor itself exits once it has no children and has been idle for ``idle_s``:
  an idle tenant costs no process. :class:`RaySyncLauncher` recreates it on demand.

Adding a child kind (e.g. the RepairAgent or the DCL actor): add a ``ChildSpec`` to
``CHILD_KINDS`` in ``autonomos/actors/children.py`` (see its docstring for the contract:
constructor ``(settings, tenant_id[, child_id])``, a ``ping()`` method, optional ``busy``
and ``on_drift`` methods), or pass ``kinds={...}`` to the launcher / supervisor. The
RepairAgent, for instance, registers as
``"repair": ChildSpec("autonomos.actors.repair_agent:RepairAgent", busy="busy",
on_drift="handle_drift")``. Callers then get its handle with
``await supervisor.ensure_child.remote("repair")`` (or ``("dcl")``, or a keyed kind with
an id) and may call ``supervisor.touch.remote(kind, id)`` when they use a child directly
for a long time.

All of this is safe to repeat because a sync run is resumable and idempotent: at worst a
run is submitted twice, and the connector actor runs it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray
from ray.exceptions import ActorDiedError, RayActorError

from autonomos.actors.children import CHILD_KINDS, ChildSpec, check_kinds, create_child
from autonomos.actors.naming import actor_name
from autonomos.actors.process import process_info

if TYPE_CHECKING:
    from autonomos.aam.pipeline import AfterSync, DriftHandler
    from autonomos.config import Settings
    from autonomos.events.log import EventLog
    from autonomos.store.session import Database

log = logging.getLogger("autonomos.actors.supervisor")

DEFAULT_IDLE_S = 300.0  # passivate a child (and then the supervisor) after this long idle
DEFAULT_CHECK_S = 5.0  # period of the liveness / idleness check
PING_TIMEOUT_S = 10.0
MAX_CONSECUTIVE_DEATHS = 5  # a connector that dies this often in a row is given up on
UNFINISHED = ("queued", "running")

_Key = tuple[str, str | None]  # (kind, child id)


def _import_deps() -> None:
    """What :meth:`TenantSupervisor._set_up` builds on, and what the supervisor imports
    inside its methods (SQLAlchemy, the run model), imported off the event loop: an
    import on the loop (~0.5 s of SQLAlchemy and the store models) delays every call."""
    import sqlalchemy  # noqa: F401

    import autonomos.aam.pipeline
    import autonomos.actors.agents
    import autonomos.agents.runner
    import autonomos.dcl.refresh
    import autonomos.events.log
    import autonomos.store.aam_models
    import autonomos.store.session  # noqa: F401


@dataclass(frozen=True)
class _Deps:
    db: Database
    events: EventLog
    after_sync: AfterSync


class SupervisorExiting(RuntimeError):
    """This supervisor is passivating: the caller should look the name up again."""


@dataclass
class _Child:
    kind: str
    child_id: str | None
    handle: Any
    last_active: float
    runs: dict[UUID, asyncio.Task[None]] = field(default_factory=dict)  # run -> watcher
    ready: bool = False  # has answered a ping: its idle time counts from then

    @property
    def key(self) -> _Key:
        return self.kind, self.child_id


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
        kinds: Mapping[str, ChildSpec] | None = None,
    ) -> None:
        self.settings, self.tenant_id = settings, tenant_id
        # Children are named in the app's namespace, not in whatever job created us.
        self.namespace = namespace or settings.ray_namespace
        self.idle_s, self.check_s = idle_s, check_s
        self.kinds = {**CHILD_KINDS, **(kinds or {})}
        check_kinds(self.kinds)
        self._children: dict[_Key, _Child] = {}
        self._deaths: dict[str, int] = {}  # consecutive deaths per connection
        self._restarts = 0
        self._last_active = time.monotonic()
        self._exiting = False  # a passivation check is on its way
        self._exited = False  # passivated: calls already dispatched are refused
        # Ray runs an async actor's __init__ inside its event loop. The database, the
        # event log and the after-sync pipeline (SQLAlchemy, the store models, the
        # ontology, the agents' registry: seconds of imports) are built in the
        # background: the tenant's first call (activation) needs none of them, and
        # what does (a finished run, a revived connector, passivation) awaits them.
        loop = asyncio.get_running_loop()
        self._deps: asyncio.Task[_Deps] = loop.create_task(self._set_up())
        self._monitor = loop.create_task(self._monitor_loop())

    # -- API -------------------------------------------------------------------------

    async def start_sync(self, connection_id: UUID, run_id: UUID) -> None:
        """Submit ``run_id`` to the connection's actor; returns once submitted."""
        self._refuse_if_exited()
        self._deaths.pop(str(connection_id), None)  # a new request gets a fresh chance
        self._submit(connection_id, run_id)

    def ensure_child(self, kind: str, child_id: UUID | str | None = None) -> Any:
        """The handle of the child ``kind`` (``child_id`` for keyed kinds), created if
        needed; counts as activity (postpones its passivation)."""
        self._refuse_if_exited()
        return self._ensure(kind, child_id).handle

    def touch(self, kind: str, child_id: UUID | str | None = None) -> bool:
        """Mark a child as in use; False if it does not exist (nothing is created)."""
        self._refuse_if_exited()
        child = self._children.get((kind, None if child_id is None else str(child_id)))
        self._last_active = time.monotonic()
        if child is not None:
            child.last_active = self._last_active
        return child is not None

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "tenant_id": str(self.tenant_id),
            "children": {
                actor_name(c.kind, self.tenant_id, c.child_id): {
                    "kind": c.kind,
                    "id": c.child_id,
                    "runs": sorted(str(r) for r in c.runs),
                    "idle_for_s": 0.0 if c.runs else round(now - c.last_active, 3),
                }
                for c in self._children.values()
            },
            "child_restarts": self._restarts,
            "idle_for_s": round(now - self._last_active, 3),
            "set_up": self._deps.done(),  # database, event log and pipeline built
            "process": process_info(),
        }

    async def drift_latest(self, connection_id: UUID | str | None = None) -> list[dict[str, Any]]:
        """The DriftMonitor's latest drift per stream (it rebuilds itself from SQL)."""
        self._refuse_if_exited()
        latest: list[dict[str, Any]] = await self._call_single(
            "drift", "latest", None if connection_id is None else str(connection_id)
        )
        return latest

    async def passivate_if_idle(self) -> bool:
        """Exit this actor if it has no children and has been idle for ``idle_s``.

        Runs on the event loop with no await between the check and marking itself exited
        (then it waits for its last events to be numbered). Calls that Ray had already
        dispatched to the loop still run after it: they are refused with
        :class:`SupervisorExiting`; later ones fail with ``ActorDiedError``. The launcher
        retries both on a new supervisor.
        """
        if self._children or time.monotonic() - self._last_active <= self.idle_s:
            self._exiting = False
            return False
        log.info("tenant %s: supervisor idle, passivating", self.tenant_id)
        self._exited = True
        self._monitor.cancel()
        # calls that come meanwhile are refused (``_exited``)
        if not self._deps.done():
            self._deps.cancel()  # still importing: nothing to close
        elif not self._deps.cancelled() and self._deps.exception() is None:
            await self._deps.result().events.close()
        ray.actor.exit_actor()
        return True  # not reached

    def _refuse_if_exited(self) -> None:
        if self._exited:
            raise SupervisorExiting(f"supervisor of tenant {self.tenant_id} is passivating")

    # -- children --------------------------------------------------------------------

    def _ensure(self, kind: str, child_id: UUID | str | None) -> _Child:
        cid = None if child_id is None else str(child_id)
        spec = self.kinds.get(kind)
        if spec is None:
            raise ValueError(f"unknown child kind {kind!r}; registered: {sorted(self.kinds)}")
        now = self._last_active = time.monotonic()
        child = self._children.get((kind, cid))
        if child is None:
            handle = create_child(spec, kind, self.settings, self.tenant_id, cid, self.namespace)
            child = self._children[(kind, cid)] = _Child(kind, cid, handle, now)
        child.last_active = now
        return child

    async def _call_single(self, kind: str, method: str, *args: Any) -> Any:
        """Call a one-per-tenant child, rebuilding it once if it turns out dead."""
        for attempt in (1, 2):
            child = self._ensure(kind, None)
            try:
                return await getattr(child.handle, method).remote(*args)
            except ActorDiedError:
                if attempt == 2:
                    raise
                await self._revive(child)
        raise AssertionError("unreachable")

    def _submit(self, connection_id: UUID, run_id: UUID) -> None:
        if any(run_id in c.runs for c in self._children.values()):
            return  # already in flight
        child = self._ensure("connector", connection_id)
        ref = child.handle.run_sync.remote(self.tenant_id, run_id)
        child.runs[run_id] = asyncio.create_task(self._watch(child, run_id, ref))

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
        child.last_active = self._last_active = time.monotonic()
        self._deaths.pop(str(child.child_id), None)
        log.info("tenant %s: sync run %s ended %s", self.tenant_id, run_id, status)
        try:
            outcome = await (await self._ready()).after_sync(self.tenant_id, run_id)
            if not outcome.ok:
                log.warning("tenant %s: after run %s: %s", self.tenant_id, run_id, outcome)
        except Exception:
            log.exception(
                "tenant %s: the after-sync pipeline of run %s failed", self.tenant_id, run_id
            )

    async def _revive(self, child: _Child) -> None:
        """Replace a dead child; a connector gets its connection's unfinished runs."""
        if self._children.get(child.key) is not child:
            return  # already replaced (several of its runs failed together)
        del self._children[child.key]
        for watcher in child.runs.values():
            watcher.cancel()
        self._restarts += 1
        if child.kind != "connector":
            log.warning("tenant %s: %s died; rebuilt on next use", self.tenant_id, child.key)
            return
        cid = str(child.child_id)
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
        runs = await self._unfinished(UUID(cid))
        log.warning(
            "tenant %s: connector %s died; restarting it with %d run(s)",
            self.tenant_id,
            cid,
            len(runs),
        )
        for run_id, _ in runs:
            self._submit(UUID(cid), run_id)

    async def _passivate(self, child: _Child) -> None:
        busy = self.kinds[child.kind].busy
        if busy is not None:
            try:
                in_use = await asyncio.wait_for(
                    getattr(child.handle, busy).remote(), PING_TIMEOUT_S
                )
            except (TimeoutError, RayActorError):
                in_use = False  # dead or hung: the liveness check deals with it
            if in_use:
                child.last_active = time.monotonic()
                return
        if self._children.get(child.key) is not child or child.runs:
            return  # replaced or given work while we asked
        del self._children[child.key]
        ray.kill(child.handle, no_restart=True)
        log.info("tenant %s: passivated %s", self.tenant_id, child.key)

    async def _alive(self, child: _Child) -> bool:
        """False only when Ray says the child is dead for good; slow or restarting is alive."""
        try:
            await asyncio.wait_for(child.handle.ping.remote(), PING_TIMEOUT_S)
        except ActorDiedError:
            return False
        except (TimeoutError, RayActorError):
            return True
        if not child.ready:  # starting a process can take seconds: that is not idleness
            child.ready, child.last_active = True, max(child.last_active, time.monotonic())
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
            if child.ready and not child.runs and now - child.last_active > self.idle_s:
                await self._passivate(child)
        children = list(self._children.values())
        alive = await asyncio.gather(*(self._alive(c) for c in children))
        for child, ok in zip(children, alive, strict=True):
            if not ok:
                await self._revive(child)
        idle = time.monotonic() - self._last_active > self.idle_s
        if idle and not self._children and not self._exiting:
            # exit_actor must run inside an actor task, not in this background loop; and
            # a retry of a task we own would keep us from exiting: none.
            self._exiting = True
            me = ray.get_runtime_context().current_actor
            me.passivate_if_idle.options(max_task_retries=0).remote()

    # -- database ----------------------------------------------------------------------

    async def _unfinished(self, connection_id: UUID | None) -> list[tuple[UUID, UUID]]:
        """(run, connection) of the tenant's queued/running runs, oldest first."""
        db = (await self._ready()).db  # first: the imports below are then loaded already
        from sqlalchemy import select

        from autonomos.store.aam_models import SyncRun

        query = select(SyncRun.id, SyncRun.connection_id).where(SyncRun.status.in_(UNFINISHED))
        if connection_id is not None:
            query = query.where(SyncRun.connection_id == connection_id)
        async with db.tenant_session(self.tenant_id) as s:
            rows = (await s.execute(query.order_by(SyncRun.queued_at))).all()
        return [(r[0], r[1]) for r in rows]

    # -- set-up in the background -------------------------------------------------------

    async def _set_up(self) -> _Deps:
        # The imports run in a thread, so that the event loop answers calls meanwhile.
        await asyncio.to_thread(_import_deps)
        from autonomos.events.log import EventLog
        from autonomos.store.session import Database

        db = Database(self.settings.app_database_url)
        events = EventLog.from_settings(self.settings, db)  # views.* of its refreshes
        return _Deps(db, events, self._pipeline(db))

    async def _ready(self) -> _Deps:
        """The database, event log and pipeline, once built (shielded: a caller that is
        cancelled does not cancel the set-up that others await too)."""
        return await asyncio.shield(self._deps)

    # -- the after-sync pipeline, with the children as its ports --------------------------

    def _pipeline(self, db: Database) -> AfterSync:
        from autonomos.aam.pipeline import AfterSync
        from autonomos.dcl.refresh import ViewRefresher

        handlers: dict[str, DriftHandler] = {
            kind: self._drift_handler(kind, spec.on_drift)
            for kind, spec in self.kinds.items()
            if spec.on_drift is not None
        }
        from autonomos.actors.agents import RayAgentRunner
        from autonomos.agents.runner import after_materialize

        # the agents that read the views a sync rebuilt run next, as Ray tasks
        agents = after_materialize(db, RayAgentRunner(self.settings))
        return AfterSync(
            db,
            ViewRefresher(db, _ChildDCL(self), on_materialized=agents),
            drift_handlers=handlers,
        )

    def _drift_handler(self, kind: str, method: str) -> DriftHandler:
        async def forward(tenant_id: UUID, events: list[dict[str, Any]]) -> None:
            for event in events:
                await self._call_single(kind, method, event)

        return forward


class _ChildDCL:
    """The view refresher's way to the tenant's DCL: the supervisor's own ``dcl`` child
    (rebuilt once if it turns out dead)."""

    def __init__(self, supervisor: TenantSupervisor) -> None:
        self.supervisor = supervisor

    async def materialize(
        self,
        tenant_id: UUID,
        connection_id: UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        if "dcl" not in self.supervisor.kinds:
            raise RuntimeError("this supervisor has no dcl child kind registered")
        wanted = None if streams is None else list(streams)
        report: dict[str, Any] = await self.supervisor._call_single(
            "dcl", "materialize", connection_id, wanted, full
        )
        return report
