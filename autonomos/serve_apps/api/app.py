"""The FastAPI application; served by Ray Serve (``deployment.py``) or any ASGI server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from autonomos import __version__
from autonomos.aam.connections import ConnectionService, InlineSyncLauncher, SyncLauncher
from autonomos.aam.landing import LandingZone
from autonomos.aam.repair.agent import RepairService
from autonomos.aam.sync import SyncEngine, SyncStatus
from autonomos.auth.service import AuthService
from autonomos.config import Settings, get_settings
from autonomos.dcl.port import DCLPort, build_dcl, materializing
from autonomos.serve_apps.api.dashboard import mount_dashboard
from autonomos.serve_apps.api.errors import install_error_handlers
from autonomos.serve_apps.api.middleware import RequestContextMiddleware
from autonomos.serve_apps.api.routes import (
    aam,
    auth,
    dcl,
    graph,
    health,
    jobs,
    repair,
    telemetry,
    tenant,
    users,
)
from autonomos.store import migrate
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database

log = logging.getLogger("autonomos.api")


def _operation_id(route: APIRoute) -> str:
    return route.name


def repair_service(settings: Settings, db: Database, views: DCLPort) -> RepairService:
    """The repair service; without Ray, applied repairs rebuild views in this process."""
    service = RepairService.from_settings(settings, db)
    if not settings.dcl_in_ray:

        async def rematerialize(
            tenant_id: uuid.UUID, connection_id: uuid.UUID, streams: Sequence[str]
        ) -> bool:
            await views.materialize(tenant_id, connection_id, list(streams), full=True)
            return True

        service.rematerialize = rematerialize
    return service


def sync_launcher(
    settings: Settings,
    db: Database,
    views: DCLPort | None = None,
    repair: Callable[[], RepairService | None] = lambda: None,
) -> SyncLauncher:
    if settings.sync_executor == "inline":
        engine = SyncEngine(
            db, LandingZone(settings.data_dir / "landing"), SecretBox.from_settings(settings)
        )

        async def run(tenant_id: uuid.UUID, run_id: uuid.UUID) -> SyncStatus:
            status = await engine.run(tenant_id, run_id)
            service = repair()  # the app's current one (what the RepairAgent does with Ray)
            if service is not None:
                try:
                    await service.catch_up(tenant_id)
                except Exception:
                    log.exception("tenant %s: repairing after run %s failed", tenant_id, run_id)
            return status

        # each finished run then refreshes the unified views of its connection
        return InlineSyncLauncher(run if views is None else materializing(run, views, db))
    from autonomos.actors.launcher import RaySyncLauncher  # Ray only where syncs need it

    return RaySyncLauncher(settings, idle_s=settings.actor_idle_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await anyio.to_thread.run_sync(
                migrate.upgrade, settings.owner_database_url, "head", settings.app_database_url
            )
        db = Database(settings.app_database_url)
        app.state.settings = settings
        app.state.db = db
        app.state.auth = AuthService.from_settings(settings, db)
        app.state.dcl = build_dcl(settings, db)
        app.state.repair_service = repair_service(settings, db, app.state.dcl)
        app.state.connections = ConnectionService(
            SecretBox.from_settings(settings),
            sync_launcher(settings, db, app.state.dcl, lambda: app.state.repair_service),
        )
        try:
            yield
        finally:
            await app.state.dcl.close()
            await db.dispose()

    app = FastAPI(
        title="AutonomOS API",
        version=__version__,
        description="Multi-tenant data orchestration: connectors, drift, mappings, views.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    for module in (health, auth, users, tenant, aam, telemetry, graph, jobs, repair, dcl):
        app.include_router(module.router)
    mount_dashboard(app, settings.dashboard_dir)
    return app
