"""The FastAPI application; served by Ray Serve (``deployment.py``) or any ASGI server."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from autonomos import __version__
from autonomos.common.private_files import restrict_umask, secure_data_dir
from autonomos.config import Settings, get_settings
from autonomos.runtime import start_runtime
from autonomos.serve_apps.api.dashboard import mount_dashboard
from autonomos.serve_apps.api.errors import document_errors, install_error_handlers
from autonomos.serve_apps.api.middleware import RequestContextMiddleware
from autonomos.serve_apps.api.routes import (
    aam,
    aoa,
    auth,
    dcl,
    events,
    graph,
    health,
    jobs,
    nlp_kb,
    nlp_persona,
    repair,
    telemetry,
    tenant,
    uploads,
    users,
)
from autonomos.store import migrate

log = logging.getLogger("autonomos.api")


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        restrict_umask()  # before the first file: everything in the data dir is private
        secure_data_dir(settings.data_dir)
        if settings.auto_migrate:
            await anyio.to_thread.run_sync(
                migrate.upgrade, settings.owner_database_url, "head", settings.app_database_url
            )
        runtime = await start_runtime(settings)  # the composition root: every port of this process
        try:
            await runtime.db.refuse_rls_bypass()
        except BaseException:
            await runtime.close()
            raise
        app.state.runtime = runtime  # read only by serve_apps/api/deps.py
        # Everything built so far (modules, the runtime's ports) lives as long as the
        # process: move it out of the collector's sight, so that a full collection under
        # load scans only what requests allocate (they were /auth/me's p99 on uvicorn;
        # Serve's throughput preset does the same in its replicas).
        gc.freeze()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="AutonomOS API",
        version=__version__,
        description="Multi-tenant data orchestration: connectors, drift, mappings, views.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        larger_bodies={
            uploads.UPLOADS_PATH: settings.upload_max_bytes,
            # multipart framing around the largest document the knowledge base takes
            nlp_kb.UPLOAD_PATH: settings.kb_max_upload_bytes + 64 * 1024,
        },
    )
    for module in (
        health,
        auth,
        users,
        tenant,
        aam,
        uploads,
        telemetry,
        graph,
        jobs,
        repair,
        dcl,
        nlp_kb,
        nlp_persona,
        aoa,
        events,
    ):
        app.include_router(module.router)
    document_errors(app)
    mount_dashboard(app, settings.dashboard_dir)
    return app
