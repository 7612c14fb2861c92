"""Liveness, readiness (database at head; Redis when configured, against the real server)."""

from __future__ import annotations

import os

import httpx
import pytest
import redis

from autonomos.config import Settings
from autonomos.serve_apps.api.app import create_app
from tests.conftest import IN_CI

REDIS_URL = os.environ.get("AUTONOMOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail(f"Redis not reachable at {REDIS_URL} (CI=true: tests never skip)")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


async def test_healthz_and_readyz(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    r = await api.get("/readyz")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    assert r.json()["revision"] == r.json()["head"]


async def _ready(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://h"
        ) as c:
            return await c.get("/readyz")


async def test_readyz_checks_redis(settings: Settings, redis_url: str) -> None:
    ok = await _ready(settings.model_copy(update={"redis_url": redis_url}))
    assert ok.status_code == 200 and ok.json()["redis"] == "ok"
    down = await _ready(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    assert down.status_code == 503 and down.json()["redis"] == "unreachable"


async def test_readyz_reports_pending_migrations(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = settings.model_copy(
        update={
            "auto_migrate": False,
            "data_dir": tmp_path,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
            "migration_database_url": None,
        }
    )
    r = await _ready(fresh)
    assert r.status_code == 503 and r.json()["database"] == "migrations pending"
