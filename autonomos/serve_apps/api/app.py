"""The FastAPI application; served by Ray Serve (``deployment.py``) or any ASGI server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from autonomos import __version__
from autonomos.auth.keys import build_key_ring
from autonomos.auth.passwords import Argon2Params, PasswordService
from autonomos.auth.service import AuthService
from autonomos.config import Settings, get_settings
from autonomos.serve_apps.api.errors import install_error_handlers
from autonomos.serve_apps.api.middleware import RequestContextMiddleware
from autonomos.serve_apps.api.routes import auth, health, tenant, users
from autonomos.store import migrate
from autonomos.store.session import Database


def _operation_id(route: APIRoute) -> str:
    return route.name


def build_auth_service(settings: Settings, db: Database) -> AuthService:
    passwords = PasswordService(
        Argon2Params(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        # Each hash holds ~memory_cost of RAM: bound concurrent hashes per process.
        limiter=anyio.CapacityLimiter(4),
    )
    return AuthService(
        db,
        passwords,
        build_key_ring(settings),
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        max_failures=settings.login_max_failures,
        lockout_s=settings.login_lockout_s,
    )


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
        app.state.auth = build_auth_service(settings, db)
        try:
            yield
        finally:
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
    for module in (health, auth, users, tenant):
        app.include_router(module.router)
    return app
