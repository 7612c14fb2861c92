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
agent runs         :class:`InlineAgentRunner` (asyncio tasks)  ``actors.agents.RayAgent…``
agent scheduler    :class:`AgentScheduler` task here           ``agent-scheduler`` actor
job follower       :class:`JobFollower` task here              a task of each API process
=================  ==========================================  ===========================

Agent runs follow the DCL (they read its views): in Ray when ``dcl_executor`` is ``ray``.
The view refresher triggers the agents that read the views it rebuilt.

The view refresher, the repair service, the event bus, the event log (numbering, and
with ``AUTONOMOS_REDIS_URL`` its Redis stream), the live-event hub (fed by that stream, or
by polling the log without Redis), the embedder and the LLM are built here from
:class:`~autonomos.config.Settings` for both. Ray actors build the core services they
wrap with the same ``from_settings`` constructors (which take the ports as arguments and
choose nothing), handing in the Ray adapters that only ``autonomos/actors`` may import.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autonomos.aam.admission import AdmissionLimits, FairAdmission
from autonomos.aam.connections import ConnectionService, InlineSyncLauncher, SyncLauncher
from autonomos.aam.edge import EdgePolicies
from autonomos.aam.landing import LandingZone
from autonomos.aam.pipeline import AfterSync, DriftHandler
from autonomos.aam.repair.agent import RepairService
from autonomos.aam.sync import SyncEngine
from autonomos.agents.executor import local_analyzer
from autonomos.agents.runner import (
    AgentRunner,
    AgentScheduler,
    InlineAgentRunner,
    after_materialize,
)
from autonomos.auth.service import AuthService
from autonomos.config import Settings
from autonomos.dcl.changes import MappingChanges
from autonomos.dcl.graph import AgentPersona
from autonomos.dcl.port import DCLPort, LocalDCL
from autonomos.dcl.refresh import ViewRefresher
from autonomos.events import EventBus, bus_from_url
from autonomos.events.hub import EventHub
from autonomos.events.log import EventLog
from autonomos.jobs.follow import JobFollower
from autonomos.jobs.server import RayJobServer
from autonomos.jobs.service import JobService
from autonomos.nlp.kb import KnowledgeBase
from autonomos.nlp.kb.build import build_knowledge_base
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database

if TYPE_CHECKING:
    from autonomos.models.embedder import CachedEmbedder
    from autonomos.models.llm import LLM
    from autonomos.nlp.personas import PersonaService, Router

log = logging.getLogger("autonomos.runtime")

__all__ = ["Runtime", "build_runtime", "start_runtime", "views"]


@dataclass
class Runtime:
    """Every port of one API process, built once at start-up."""

    settings: Settings
    db: Database
    bus: EventBus
    events: EventLog
    live: EventHub  # the events of every process, to this process's SSE / WebSocket clients
    auth: AuthService
    dcl: DCLPort
    refresher: ViewRefresher
    mappings: MappingChanges
    repair: RepairService
    launcher: SyncLauncher
    connections: ConnectionService
    jobs: JobService
    agent_runner: AgentRunner
    job_follower: JobFollower | None = None  # started by start_runtime
    kb: KnowledgeBase | None = None  # built by start_runtime (it asks the database)
    agents: tuple[AgentPersona, ...] = ()  # the agents the data graph shows
    agent_scheduler: AgentScheduler | None = None  # inline mode; started by start_runtime
    _llm: Any = field(default=None, repr=False)
    _router: Any = field(default=None, repr=False)
    _personas: Any = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        return self.settings.sync_executor

    def embedder(self) -> CachedEmbedder:
        """The process's embedder (local model or the Serve app, as configured); built on
        first use because loading a model takes seconds."""
        from autonomos.serve_apps.embedder.client import get_embedder

        return get_embedder(self.settings)

    def llm(self) -> LLM | None:
        """The configured LLM behind its guard (the tenant's token budget, retries with
        backoff, PII redaction of what leaves for a remote model); None when turned off."""
        from autonomos.models.guard import build_llm
        from autonomos.nlp.pii import Redactor

        if self._llm is None:
            redactor = Redactor()
            self._llm = build_llm(self.settings, redact=lambda t: redactor.redact(t).redacted)
            self._llm = self._llm or False
        return self._llm or None

    def persona_router(self) -> Router:
        """The question router ``AUTONOMOS_PERSONA_ROUTER`` names, trained on first use
        on the labelled questions shipped with the package (embedding: ~1 s)."""
        from autonomos.nlp.personas import EmbeddingRouter, LexicalRouter, load_examples

        if self._router is None:
            examples = load_examples()
            if self.settings.persona_router == "lexical":
                self._router = LexicalRouter(examples)
            else:
                embedder = self.embedder()
                self._router = EmbeddingRouter(examples, lambda texts: embedder.encode(texts))
        router: Router = self._router
        return router

    def personas(self) -> PersonaService:
        """Persona summaries and questions over this runtime's views, findings, KB and LLM."""
        from autonomos.nlp.personas import PersonaService

        if self._personas is None:
            self._personas = PersonaService(
                self.db,
                self.dcl,
                self.kb,
                llm=self.llm,
                router=self.persona_router,
                demo_mode=self.settings.demo_mode,
            )
        service: PersonaService = self._personas
        return service

    async def close(self) -> None:
        if self.job_follower is not None:
            await self.job_follower.stop()
        if self.agent_scheduler is not None:
            await self.agent_scheduler.stop()
        drain = getattr(self.launcher, "drain", None)
        if drain is not None:
            await drain()
        await self.refresher.close()
        await self.agent_runner.close()
        await self.dcl.close()
        await self.live.close()
        await self.events.close()
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
    after_sync = AfterSync(db, refresher, drift_handlers=handlers)

    async def run(tenant_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        # one engine per run: its publishers are bound to the run's tenant
        engine = SyncEngine.from_settings(settings, db, bus, tenant_id, box, edges)
        status = await engine.run(tenant_id, run_id)
        await after_sync(tenant_id, run_id)
        return status

    limits = AdmissionLimits(settings.sync_max_concurrency, settings.sync_tenant_max_concurrency)
    return InlineSyncLauncher(run, FairAdmission(limits))


def _agent_runner(settings: Settings, db: Database, dcl: DCLPort) -> AgentRunner:
    """Where internal agent runs execute: beside the tenant's DuckDB owner."""
    if settings.dcl_in_ray:
        from autonomos.actors.agents import RayAgentRunner  # a Ray task per run

        return RayAgentRunner(settings)
    assert isinstance(dcl, LocalDCL)

    async def analyzer_for(tenant_id: uuid.UUID) -> Any:
        return local_analyzer(await dcl.service(tenant_id))

    return InlineAgentRunner(db, analyzer_for, timeout_s=settings.agent_run_timeout_s)


async def _start_agent_scheduler(runtime: Runtime) -> None:
    """The agent scheduler: a task of this process inline, the cluster's singleton actor
    with Ray (every replica gets-or-creates the same one)."""
    settings = runtime.settings
    if settings.agent_scheduler_s <= 0:
        return
    if settings.dcl_in_ray:
        import asyncio

        from autonomos.actors.agents import ensure_scheduler

        await asyncio.to_thread(ensure_scheduler, settings)
        return
    runtime.agent_scheduler = AgentScheduler(
        runtime.db,
        runtime.agent_runner,
        interval_s=settings.agent_scheduler_s,
        run_timeout_s=settings.agent_run_timeout_s,
    )
    runtime.agent_scheduler.start()


async def start_runtime(settings: Settings) -> Runtime:
    """:func:`build_runtime`, then the ports that must ask the database how to build
    themselves (the knowledge base's vector store: pgvector or FAISS)."""
    runtime = build_runtime(settings)
    try:
        runtime.kb = await build_knowledge_base(settings, runtime.db, runtime.embedder())
        runtime.events.start()
        runtime.job_follower = JobFollower(
            runtime.db, runtime.jobs, interval_s=settings.job_follow_s
        )
        runtime.job_follower.start()
        runtime.live.start()
        # With Ray and the scheduler on, this connects the process (its first actor call);
        # a process not connected yet has no node to fill, and its pool stays empty.
        await _start_agent_scheduler(runtime)
        warm = getattr(runtime.launcher, "warm", None)  # Ray: the node's warm worker pool
        if warm is not None:
            warm()
    except BaseException:
        await runtime.close()
        raise
    return runtime


def build_runtime(settings: Settings) -> Runtime:
    """The ports of an API process, as ``settings`` describe the deployment."""
    db = Database(settings.app_database_url)
    bus = bus_from_url(settings.redis_url)
    events = EventLog.from_settings(settings, db)
    live = EventHub.from_settings(settings, events)
    dcl, refresher = views(settings, db)
    repair = RepairService.from_settings(settings, db, refresher)
    box = SecretBox.from_settings(settings)
    edges = EdgePolicies(settings)
    launcher = _launcher(settings, db, bus, box, edges, refresher, repair)
    agent_runner = _agent_runner(settings, db, dcl)
    refresher.on_materialized = after_materialize(db, agent_runner)
    return Runtime(
        settings=settings,
        db=db,
        bus=bus,
        events=events,
        live=live,
        auth=AuthService.from_settings(settings, db),
        dcl=dcl,
        refresher=refresher,
        mappings=MappingChanges(db, refresher),
        repair=repair,
        launcher=launcher,
        connections=ConnectionService(box, launcher, edges),
        jobs=JobService(db, RayJobServer(settings.job_server_url), settings),
        agent_runner=agent_runner,
    )
