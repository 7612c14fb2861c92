"""Agent triggers in-process, on SQLite and Postgres: the scheduler's tick runs what is
due (and hands over runs left queued), and a view refresh runs the agents that read what
it rebuilt — each through the inline runner on the tenant's real DCL service."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from autonomos.agents import registry
from autonomos.agents.executor import local_analyzer
from autonomos.agents.registry import AgentPatch
from autonomos.agents.run_store import get_run, list_findings, list_runs, request_run
from autonomos.agents.runner import (
    AgentScheduler,
    InlineAgentRunner,
    after_materialize,
)
from autonomos.agents.runs import RunStatus
from autonomos.dcl.refresh import RefreshReason, RefreshStatus, ViewRefresher, changed_entities
from autonomos.dcl.service import DCLService
from autonomos.store.agent_models import AgentRunRow
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.agents import slipped_pipeline
from tests.helpers.events import last_id, numbered
from tests.integration.agents.conftest import Load


@pytest.fixture
async def tid(api: httpx.AsyncClient, tenant_a: Tenant) -> uuid.UUID:
    """A registered tenant (the scheduler walks the tenants table)."""
    me = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()
    return uuid.UUID(me["tenant_id"])


def runner_on(db: Database, service: DCLService) -> InlineAgentRunner:
    async def analyzer_for(tenant_id: uuid.UUID) -> Any:
        assert tenant_id == service.tenant_id
        return local_analyzer(service)

    return InlineAgentRunner(db, analyzer_for)


async def test_a_due_schedule_runs_once_and_moves_on(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, load = dcl
    load("opportunity", slipped_pipeline())
    runner = runner_on(db, service)
    scheduler = AgentScheduler(db, runner, interval_s=3600)
    async with db.tenant_session(tid) as s:
        revops = await registry.get_agent_by_name(s, "revops")
        await registry.update_agent(s, revops.id, AgentPatch(schedule="0 6 * * *"))
        first_due = revops.next_run_at
    assert first_due is not None

    assert tid not in await scheduler.tick(first_due - timedelta(minutes=1), [tid])  # not yet
    handed = await scheduler.tick(first_due + timedelta(seconds=1), [tid])
    (run_id,) = handed[tid]
    await runner.drain()
    async with db.tenant_session(tid) as s:
        run = await get_run(s, run_id)
        assert (run.trigger, run.status) == ("schedule", RunStatus.SUCCEEDED.value)
        findings = await list_findings(s, run_id=run_id)
        assert "slipped_deals" in {f.kind for f in findings.items}
        agent = await registry.get_agent(s, revops.id)
        assert agent.next_run_at == first_due + timedelta(days=1)
    # the same moment again: nothing is due any more
    assert tid not in await scheduler.tick(first_due + timedelta(seconds=2), [tid])


async def test_runs_left_queued_are_handed_over(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, load = dcl
    load("opportunity", slipped_pipeline())
    runner = runner_on(db, service)
    async with db.tenant_session(tid) as s:
        revops = await registry.get_agent_by_name(s, "revops")
        fresh, _ = await request_run(s, revops.id, params={"stale_days": 40})
        old, _ = await request_run(s, revops.id, params={"stale_days": 50})
        await s.execute(
            update(AgentRunRow)
            .where(AgentRunRow.id == old.id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    handed = await AgentScheduler(db, runner, interval_s=3600).tick(tenants=[tid])
    assert handed[tid] == [old.id]  # a run queued a moment ago is its requester's to hand over
    await runner.drain()
    async with db.tenant_session(tid) as s:
        assert (await get_run(s, old.id)).status == RunStatus.SUCCEEDED.value
        assert (await get_run(s, fresh.id)).status == RunStatus.QUEUED.value


async def test_a_refresh_runs_the_agents_reading_its_views(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, load = dcl
    load("opportunity", slipped_pipeline())
    runner = runner_on(db, service)
    calls: list[set[str]] = []

    class Views:  # the DCL port: reports what a materialisation of the connection rebuilt
        async def materialize(
            self, tenant_id: uuid.UUID, connection_id: uuid.UUID, *_: Any, **__: Any
        ) -> dict[str, Any]:
            return {
                "slices": [
                    {"entity": "opportunity", "mode": "full"},
                    {"entity": "cloud_cost", "mode": "unchanged"},
                ]
            }

    hook = after_materialize(db, runner)

    async def spy(tenant_id: uuid.UUID, entities: Collection[str]) -> None:
        calls.append(set(entities))
        await hook(tenant_id, entities)

    refresher = ViewRefresher(db, Views(), on_materialized=spy)
    connection_id = await _connection(db, tid)
    outcome = await refresher.refresh(
        tid, connection_id, None, full=True, reason=RefreshReason.MANUAL
    )
    assert outcome.status == RefreshStatus.SUCCEEDED
    assert calls == [{"opportunity"}]  # unchanged slices trigger nothing
    await runner.drain()
    async with db.tenant_session(tid) as s:
        runs = (await list_runs(s)).items
        assert [(r.trigger, r.status) for r in runs] == [("materialize", "succeeded")]
        revops = await registry.get_agent_by_name(s, "revops")
        assert runs[0].agent_id == revops.id  # FinOps reads cloud_cost: not run

    # a refresh that is asked again once carried out triggers nothing more
    await refresher.settle(tid, [outcome.id])
    assert len(calls) == 1


def test_changed_entities_ignores_unchanged_and_failed_slices() -> None:
    report = {
        "slices": [
            {"entity": "account", "mode": "incremental"},
            {"entity": "contact", "mode": "unchanged"},
            {"entity": "invoice", "mode": "failed"},
            {"entity": "ticket", "mode": "dropped"},
        ]
    }
    assert changed_entities(report) == {"account", "ticket"}
    assert changed_entities(None) == set()


async def _connection(db: Database, tenant_id: uuid.UUID) -> uuid.UUID:
    from autonomos.store.aam_models import Connection

    async with db.tenant_session(tenant_id) as s:
        row = Connection(
            name=f"c-{uuid.uuid4().hex[:6]}", source_type="files", config={}, status="active"
        )
        s.add(row)
        await s.flush()
        return row.id


async def test_run_events_are_recorded_with_the_change_only(db: Database, tid: uuid.UUID) -> None:
    before = await last_id(db, tid)
    with pytest.raises(RuntimeError):
        async with db.tenant_session(tid) as s:
            await registry.ensure_builtin_agents(s)
            agent = await registry.get_agent_by_name(s, "finops")
            await request_run(s, agent.id)
            raise RuntimeError("the transaction rolls back")
    assert await numbered(db, tid, after=before) == []  # a rolled-back run was never queued
    async with db.tenant_session(tid) as s:
        await registry.ensure_builtin_agents(s)
        agent = await registry.get_agent_by_name(s, "finops")
        run, _ = await request_run(s, agent.id)
    (event,) = await numbered(db, tid, after=before)
    assert (event.type, event.subject) == (
        "agent.run.queued",
        {"agent_id": str(agent.id), "run_id": str(run.id)},
    )
    assert event.payload == {"agent": "finops", "trigger": "manual"}
