"""Internal agent runs on Ray: the API as `up` configures it hands each run to a Ray task
(``agent-run:<id>``) that asks the tenant's DCL actor for the analysis; a materialisation
triggers the agents reading its views; the cluster's scheduler singleton runs what is due.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from autonomos.actors.agents import SCHEDULER_NAME, RayAgentRunner, ensure_scheduler, run_agent
from autonomos.actors.dcl import RayDCL
from autonomos.agents import registry
from autonomos.agents.registry import AgentPatch
from autonomos.agents.run_store import get_run, request_run
from autonomos.config import Settings
from autonomos.store.agent_models import AgentRow
from autonomos.store.session import Database
from tests.conftest import files_connection, register
from tests.helpers.agents import OPPORTUNITY_MAP, pipeline
from tests.helpers.ray_api import sync, wait_for
from tests.helpers.views import map_stream

pytestmark = pytest.mark.ray
AOA = "/api/v1/aoa"


async def finished(api: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        run = (await api.get(f"{AOA}/runs/{run_id}", headers=headers)).json()
        return run if run["status"] not in ("queued", "running") else None

    run: dict[str, Any] = await wait_for(done, f"agent run {run_id}")
    return run


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

    agents = (await ray_api.get(f"{AOA}/agents", headers=t.headers)).json()["agents"]
    revops = next(a["id"] for a in agents if a["name"] == "revops")
    r = await ray_api.post(f"{AOA}/agents/{revops}/runs", headers=t.headers, json={})
    assert r.status_code == 202, r.text
    manual = await finished(ray_api, t.headers, r.json()["id"])
    assert manual["status"] == "succeeded" and manual["findings_count"] == run["findings_count"]
    # this process holds no DuckDB: only the tenant's DCL actor could have analysed
    runtime = ray_api.runtime  # type: ignore[attr-defined]
    assert isinstance(runtime.agent_runner, RayAgentRunner)
    assert isinstance(runtime.dcl, RayDCL)

    # the Ray task itself, given a queued run: executes it once
    settings: Settings = ray_api.settings  # type: ignore[attr-defined]
    tid = uuid.UUID((await ray_api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])
    db = Database(settings.app_database_url)
    try:
        async with db.tenant_session(tid) as s:
            queued, _ = await request_run(s, uuid.UUID(revops), params={"stale_days": 7})
        assert await run_agent.remote(settings, tid, queued.id) == "succeeded"
        assert await run_agent.remote(settings, tid, queued.id) == "succeeded"  # not again
        async with db.tenant_session(tid) as s:
            assert (await get_run(s, queued.id)).findings_count == run["findings_count"]
    finally:
        await db.dispose()
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
            # no cost data here: the analysis on the DCL actor finds nothing to report
            done = await finished(ray_api, t.headers, run["id"])
            assert done["status"] == "succeeded" and done["findings_count"] == 0, done
        finally:
            ray.kill(ray.get_actor(SCHEDULER_NAME, namespace=settings.ray_namespace))
    finally:
        await db.dispose()
