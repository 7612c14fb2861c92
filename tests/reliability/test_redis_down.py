"""Redis (a private redis-server) killed while the platform runs: syncs still succeed,
their events are in the durable event log, the API keeps answering (``/readyz`` says
503 and why), and fan-out resumes by itself once Redis is back."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from autonomos.aam.connections import InlineSyncLauncher
from autonomos.aam.landing import LandingZone
from autonomos.config import Settings
from autonomos.events import tenant_topic
from autonomos.store.event_models import EventRow
from autonomos.store.session import Database
from tests.conftest import files_connection
from tests.reliability.conftest import landed_ids, new_tenant, proxied_settings, report, write_csv
from tests.reliability.faults import RedisProcess, TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis_api(
    redis_server: RedisProcess,
    pg_database: str,
    pg_proxy: TcpProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    settings: Settings = proxied_settings(
        tmp_path_factory.mktemp("data-redis"), pg_database, pg_proxy, redis_url=redis_server.url
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


async def sync(api: httpx.AsyncClient, headers: dict[str, str], cid: str) -> dict[str, object]:
    """Start a sync through the API, wait for it; the run and how long it took."""
    began = time.monotonic()
    r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=headers)
    assert r.status_code == 202, r.text
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher)
    await launcher.drain()
    run = (await api.get(f"/api/v1/aam/runs/{r.json()['run_id']}", headers=headers)).json()
    return {**run, "took_s": time.monotonic() - began}


async def test_redis_killed_events_durable_api_up(
    redis_api: httpx.AsyncClient,
    redis_server: RedisProcess,
    direct_db: Database,
    tmp_path: Path,
) -> None:
    api = redis_api
    t, tid = await new_tenant(api, "redis")
    redis = aioredis.from_url(redis_server.url, decode_responses=True)
    canonical = tenant_topic(tid, "canonical")
    write_csv(tmp_path / "a.csv", 1_000)
    cid = await files_connection(api, t, tmp_path)
    try:
        up = await sync(api, t.headers, cid)
        assert up["status"] == "succeeded"
        fanned_out = await redis.xlen(canonical)
        assert fanned_out >= 1
        assert (await api.get("/readyz")).status_code == 200

        redis_server.stop()  # SIGKILL, mid-session
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["redis"] == "unreachable"
        assert (await api.get("/api/v1/aam/connections", headers=t.headers)).status_code == 200
        write_csv(tmp_path / "b.csv", 2_500, start=1_000)
        down = await sync(api, t.headers, cid)
        assert down["status"] == "succeeded", down
        assert down["records_written"] == 1_500

        async with direct_db.tenant_session(tid) as s:
            logged = list(
                await s.scalars(
                    select(EventRow.subject).where(
                        EventRow.connection_id == uuid.UUID(cid),
                        EventRow.type == "sync.succeeded",
                    )
                )
            )
        assert sorted(str(p["run_id"]) for p in logged) == sorted([up["id"], down["id"]])
        settings = api.runtime.settings  # type: ignore[attr-defined]
        rows, ids = await landed_ids(
            direct_db, LandingZone.from_settings(settings), tid, uuid.UUID(cid)
        )
        assert rows == 2_500 and len(set(ids)) == len(ids) == 2_500

        redis_server.start()  # same port: clients reconnect on their own
        assert (await api.get("/readyz")).status_code == 200
        write_csv(tmp_path / "c.csv", 3_000, start=2_500)
        back = await sync(api, t.headers, cid)
        assert back["status"] == "succeeded"
        await redis.aclose()  # its pooled connection died with the old server
        redis = aioredis.from_url(redis_server.url, decode_responses=True)
        assert await redis.xlen(canonical) >= 1  # a fresh server: only the new events
    finally:
        await redis.aclose()
    report(
        "redis killed",
        sync_with_redis_s=up["took_s"],
        sync_without_redis_s=down["took_s"],
        sync_after_restart_s=back["took_s"],
        events_in_durable_log=len(logged),
        readyz_without_redis=ready.status_code,
    )
