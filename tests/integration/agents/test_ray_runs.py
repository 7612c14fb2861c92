"""Internal agent runs on Ray: the API as `up` configures it hands each run to a Ray task
(``agent-run:<id>``) that asks the tenant's DCL actor for the analysis; a materialisation
triggers the agents reading its views; the cluster's scheduler singleton runs what is due.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from autonomos.actors.agents import SCHEDULER_NAME, ensure_scheduler
from autonomos.agents import registry
from autonomos.agents.registry import AgentPatch
from autonomos.config import Settings
from autonomos.store.agent_models import AgentRow
from autonomos.store.session import Database
from tests.conftest import files_connection, register
from tests.integration.actors.test_pipeline_ray import sync, wait_for
from tests.integration.agents.test_demo import OPPORTUNITY_MAP
from tests.integration.api.test_aoa_routes import pipeline
from tests.integration.dcl.test_views_api import map_stream

pytestmark = pytest.mark.ray
AOA = "/api/v1/aoa"


@pytest.fixture
async def ray_api(ray_cluster: None, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with syncs, the DCL and agent runs on Ray, in a namespace of its own."""
    from autonomos.serve_apps.api.app import create_app

    ray_settings = settings.model_copy(
        update={
            "sync_executor": "ray",
            "dcl_executor": None,
            "ray_namespace": f"agents-{uuid.uuid4().hex[:8]}",
            "auto_migrate": False,
        }
    )
    app = create_app(ray_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.settings = ray_settings  # type: ignore[attr-defined]
            yield client


async def finished(api: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        run = (await api.get(f"{AOA}/runs/{run_id}", headers=headers)).json()
        return run if run["status"] not in ("queued", "running") else None

    run: dict[str, Any] = await wait_for(done, f"agent run {run_id}")
    return run


def ran_as_ray_task(run_id: str) -> bool:
    from ray.util.state import list_tasks

    tasks = list_tasks(filters=[("name", "=", f"agent-run:{run_id}")], detail=True)
    return any(t.state == "FINISHED" for t in tasks)


async def test_runs_execute_as_ray_tasks_on_the_tenants_dcl_actor(
    ray_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    t = await register(ray_api, "ray-agents")
    cid = await files_connection(ray_api, t, pipeline(tmp_path / "crm"))
    await sync(ray_api, t.headers, cid)
    await map_stream(ray_api, t, cid, "opportunities", "opportunity", OPPORTUNITY_MAP)
    r = await ray_api.post(
        "/api/v1/dcl/materialize", headers=t.headers, json={"connection_id": cid, "full": True}
    )
    assert r.status_code == 200, r.text

    async def triggered() -> list[dict[str, Any]]:
        runs = (await ray_api.get(f"{AOA}/runs?agent=revops", headers=t.headers)).json()
        return list(runs["runs"])

    (run,) = await wait_for(triggered, "the run the materialisation triggers")
    assert run["trigger"] == "materialize"
    run = await finished(ray_api, t.headers, run["id"])
    assert run["status"] == "succeeded", run
    assert await asyncio.to_thread(ran_as_ray_task, run["id"])

    agents = (await ray_api.get(f"{AOA}/agents", headers=t.headers)).json()["agents"]
    revops = next(a["id"] for a in agents if a["name"] == "revops")
    r = await ray_api.post(f"{AOA}/agents/{revops}/runs", headers=t.headers, json={})
    assert r.status_code == 202, r.text
    manual = await finished(ray_api, t.headers, r.json()["id"])
    assert manual["status"] == "succeeded" and manual["findings_count"] == run["findings_count"]
    assert await asyncio.to_thread(ran_as_ray_task, manual["id"])
    findings = (
        await ray_api.get(f"{AOA}/findings?agent=revops&severity=high", headers=t.headers)
    ).json()
    assert "slipped_deals" in {f["kind"] for f in findings["findings"]}


async def test_the_scheduler_singleton_runs_due_agents(
    ray_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings: Settings = ray_api.settings  # type: ignore[attr-defined]
    t = await register(ray_api, "ray-schedule")
    tid = uuid.UUID((await ray_api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])
    db = Database(settings.app_database_url)
    try:
        async with db.tenant_session(tid) as s:
            finops = await registry.get_agent_by_name(s, "finops")
            await registry.update_agent(s, finops.id, AgentPatch(schedule="0 6 * * *"))
            row = await s.get(AgentRow, finops.id)
            assert row is not None and row.next_run_at is not None
            row.next_run_at -= timedelta(days=2)  # came due while nobody was looking
        scheduler = await asyncio.to_thread(
            ensure_scheduler, settings.model_copy(update={"agent_scheduler_s": 3600})
        )
        try:
            assert await scheduler.ping.remote()

            async def queued() -> list[dict[str, Any]]:  # its first tick is at its start
                runs = (await ray_api.get(f"{AOA}/runs?agent=finops", headers=t.headers)).json()
                return list(runs["runs"])

            (run,) = await wait_for(queued, "the scheduled run")
            assert run["trigger"] == "schedule"
            # no views here: the run fails on the DCL actor and says why
            done = await finished(ray_api, t.headers, run["id"])
            assert done["status"] == "failed" and "cloud_cost" in done["error"], done
            assert await asyncio.to_thread(ran_as_ray_task, run["id"])
        finally:
            ray.kill(ray.get_actor(SCHEDULER_NAME, namespace=settings.ray_namespace))
    finally:
        await db.dispose()
