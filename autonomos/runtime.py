"""The composition root: the one place that reads the deployment mode and builds the ports.

Everything else receives what it needs — as constructor arguments, FastAPI dependencies
(``serve_apps/api/deps.py`` hands out the fields of :class:`Runtime`) or actor
construction — and never chooses an adapter itself:

=================  ==========================================  ===========================
port               ``inline`` (one process, no Ray)            ``ray``
=================  ==========================================  ===========================
DCL (views)        :class:`~autonomos.dcl.port.LocalDCL`        ``actors.dcl.RayDCL``
sync launcher      in-process tasks + :class:`AfterSync`       ``actors.launcher.RaySync…``
after-sync         here, after each run                        the tenant's supervisor
repair agent       :class:`RepairService` in-process           ``RepairAgent`` actors
=================  ==========================================  ===========================

The view refresher, the repair service, the event bus, the embedder and the LLM are
built here from :class:`~autonomos.config.Settings` for both. Ray actors build the core
services they wrap with the same ``from_settings`` constructors (which take the ports as
arguments and choose nothing), handing in the Ray adapters that only ``autonomos/actors``
may import.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autonomos.aam.connections import ConnectionService, InlineSyncLauncher, SyncLauncher
from autonomos.aam.edge import EdgePolicies
from autonomos.aam.landing import LandingZone
from autonomos.aam.pipeline import AfterSync, DriftHandler
from autonomos.aam.repair.agent import RepairService
from autonomos.aam.sync import SyncEngine
from autonomos.auth.service import AuthService
from autonomos.config import Settings
from autonomos.dcl.changes import MappingChanges
from autonomos.dcl.graph import AgentPersona
from autonomos.dcl.port import DCLPort, LocalDCL
from autonomos.dcl.refresh import ViewRefresher
from autonomos.events import EventBus, bus_from_url, event_publisher
from autonomos.jobs.server import RayJobServer
from autonomos.jobs.service import JobService
from autonomos.nlp.kb import KnowledgeBase
from autonomos.nlp.kb.build import build_knowledge_base
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database

if TYPE_CHECKING:
    from autonomos.models.embedder import CachedEmbedder
    from autonomos.models.llm import LLM

log = logging.getLogger("autonomos.runtime")

__all__ = ["Runtime", "build_runtime", "start_runtime", "views"]


@dataclass
class Runtime:
    """Every port of one API process, built once at start-up."""

    settings: Settings
    db: Database
    bus: EventBus
    auth: AuthService
    dcl: DCLPort
    refresher: ViewRefresher
    mappings: MappingChanges
    repair: RepairService
    launcher: SyncLauncher
    connections: ConnectionService
    jobs: JobService
    kb: KnowledgeBase | None = None  # built by start_runtime (it asks the database)
    agents: tuple[AgentPersona, ...] = ()  # the agents the data graph shows
    _llm: Any = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        return self.settings.sync_executor

    def embedder(self) -> CachedEmbedder:
        """The process's embedder (local model or the Serve app, as configured); built on
        first use because loading a model takes seconds."""
        from autonomos.serve_apps.embedder.client import get_embedder

        return get_embedder(self.settings)

    def llm(self) -> LLM | None:
        from autonomos.models.llm import get_llm

        if self._llm is None:
            self._llm = get_llm(self.settings) or False
        return self._llm or None

    async def close(self) -> None:
        drain = getattr(self.launcher, "drain", None)
        if drain is not None:
            await drain()
        await self.refresher.close()
        await self.dcl.close()
        await self.bus.close()
        await self.db.dispose()


def views(settings: Settings, db: Database) -> tuple[DCLPort, ViewRefresher]:
    """The DCL port ``settings`` ask for (the tenants' ``dcl:<tenant>`` actors, the single
    writers of their DuckDB files, when the DCL runs in Ray; else this process) and the
    view refresher over it. With Ray, the caller has connected to the cluster."""
    if settings.dcl_in_ray:
        from autonomos.actors.dcl import RayDCL  # the DCL actors finish their own leftovers

        ray_dcl = RayDCL(settings)
        return ray_dcl, ViewRefresher(db, ray_dcl)
    refresher: ViewRefresher | None = None

    async def recover(tenant_id: uuid.UUID) -> None:
        assert refresher is not None
        await refresher.recover(tenant_id)

    local = LocalDCL(settings, db, LandingZone.from_settings(settings), on_open=recover)
    refresher = ViewRefresher(db, local)
    return local, refresher


def _launcher(
    settings: Settings,
    db: Database,
    bus: EventBus,
    box: SecretBox,
    edges: EdgePolicies,
    refresher: ViewRefresher,
    repair: RepairService,
) -> SyncLauncher:
    if settings.sync_executor == "ray":
        from autonomos.actors.launcher import RaySyncLauncher  # the supervisor runs AfterSync

        return RaySyncLauncher(settings, idle_s=settings.actor_idle_s)

    async def repair_drift(tenant_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        for event in events:
            await repair.handle(tenant_id, uuid.UUID(event["id"]))

    handlers: dict[str, DriftHandler] = {"repair": repair_drift}
    after_sync = AfterSync(db, refresher, drift_handlers=handlers, publish=event_publisher(bus))

    async def run(tenant_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        # one engine per run: its publishers are bound to the run's tenant
        engine = SyncEngine.from_settings(settings, db, bus, tenant_id, box, edges)
        status = await engine.run(tenant_id, run_id)
        await after_sync(tenant_id, run_id)
        return status

    return InlineSyncLauncher(run)


async def start_runtime(settings: Settings) -> Runtime:
    """:func:`build_runtime`, then the ports that must ask the database how to build
    themselves (the knowledge base's vector store: pgvector or FAISS)."""
    runtime = build_runtime(settings)
    try:
        runtime.kb = await build_knowledge_base(settings, runtime.db, runtime.embedder())
    except BaseException:
        await runtime.close()
        raise
    return runtime


def build_runtime(settings: Settings) -> Runtime:
    """The ports of an API process, as ``settings`` describe the deployment."""
    db = Database(settings.app_database_url)
    bus = bus_from_url(settings.redis_url)
    dcl, refresher = views(settings, db)
    repair = RepairService.from_settings(settings, db, refresher)
    box = SecretBox.from_settings(settings)
    edges = EdgePolicies(settings)
    launcher = _launcher(settings, db, bus, box, edges, refresher, repair)
    return Runtime(
        settings=settings,
        db=db,
        bus=bus,
        auth=AuthService.from_settings(settings, db),
        dcl=dcl,
        refresher=refresher,
        mappings=MappingChanges(db, refresher),
        repair=repair,
        launcher=launcher,
        connections=ConnectionService(box, launcher, edges),
        jobs=JobService(db, RayJobServer(settings.job_server_url), settings),
    )
