"""Events recorded inside Ray actors are numbered by those actors, at once.

The API runs syncs in the tenant's connector actor and the after-sync pipeline in its
supervisor (``sync_executor=ray``). Each actor installs its own numberer, so the run's
``sync.started`` / ``sync.succeeded`` (connector) and ``views.refreshed`` (supervisor)
reach the numbered log within seconds — with the API's sweep, the fallback for a
producer that died before numbering, an hour away.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from autonomos.config import Settings
from autonomos.events.log import EventLog
from autonomos.store.event_models import EventOutboxRow
from autonomos.store.session import Database
from tests.conftest import register
from tests.helpers.ray_api import sync, wait_for
from tests.helpers.views import MOCK, connect

pytestmark = pytest.mark.ray

SWEEP_S = 3600.0


@pytest.fixture
async def ray_api(
    ray_cluster: None, settings: Settings, api: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with syncs in actors (``api`` has migrated the database; its own sweep is
    off in tests, and this one's an hour away)."""
    from autonomos.serve_apps.api.app import create_app

    ray_settings = settings.model_copy(
        update={
            "sync_executor": "ray",
            "dcl_executor": None,
            "ray_namespace": f"events-{uuid.uuid4().hex[:8]}",
            "auto_migrate": False,
            "event_sweep_s": SWEEP_S,
        }
    )
    app = create_app(ray_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.settings = ray_settings  # type: ignore[attr-defined]
            yield client


async def test_events_of_actors_are_numbered_without_the_sweep(
    ray_api: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    api = ray_api
    t = await register(api, "events-ray")
    tid = uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])
    src = tmp_path / "crm"
    src.mkdir()
    (src / "salesforce_accounts.csv").write_text((MOCK / "salesforce_accounts.csv").read_text())
    cid = await connect(api, t, src)
    await sync(api, t.headers, cid)  # polls the run and its refresh: records nothing
    finished = time.monotonic()

    db = Database(settings.app_database_url)
    reader = EventLog(db, sweep_s=0)  # reads only: numbers nothing
    try:

        async def numbered() -> list[str] | None:
            types = [e.type for e in await reader.read(tid)]
            return types if "views.refreshed" in types else None

        types = await wait_for(numbered, "the actors' events to be numbered")
        took = time.monotonic() - finished
        assert types == ["sync.queued", "sync.started", "sync.succeeded", "views.refreshed"]
        assert took < 30 < SWEEP_S, took
        async with db.tenant_session(tid) as s:
            assert await s.scalar(select(func.count()).select_from(EventOutboxRow)) == 0
        events = await reader.read(tid)
        assert {e.subject["connection_id"] for e in events} == {cid}
        assert len({e.subject["run_id"] for e in events}) == 1
    finally:
        await db.dispose()
