"""Agent runs on SQLite and Postgres: executed internal runs end to end on a real DCL,
cancellation, failures, reported third-party runs, findings queries, tenant isolation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from autonomos.agents import registry
from autonomos.agents.errors import (
    AgentConflict,
    AgentInputError,
    AgentNotFound,
    InvalidRunTransition,
)
from autonomos.agents.executor import execute_run, local_analyzer, queue_after_materialize
from autonomos.agents.findings import Severity
from autonomos.agents.registry import AgentSpec
from autonomos.agents.run_store import (
    RunReport,
    cancel_run,
    get_run,
    list_findings,
    list_runs,
    report_run,
    request_run,
)
from autonomos.agents.runs import RunStatus, RunTrigger
from autonomos.dcl.service import DCLService
from autonomos.store.session import Database
from tests.helpers.agents import slipped_pipeline
from tests.helpers.events import brief, last_id, numbered
from tests.integration.agents.conftest import Load


async def revops_id(db: Database, tid: uuid.UUID) -> uuid.UUID:
    async with db.tenant_session(tid) as s:
        return (await registry.get_agent_by_name(s, "revops")).id


async def test_an_internal_run_end_to_end(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, load = dcl
    load("opportunity", slipped_pipeline())
    before = await last_id(db, tid)
    (run_id,) = await queue_after_materialize(db, tid, {"opportunity"})
    assert await queue_after_materialize(db, tid, {"opportunity"}) == [run_id]  # one queued run
    assert await queue_after_materialize(db, tid, {"ticket"}) == []
    status = await execute_run(db, tid, run_id, local_analyzer(service))
    assert status is RunStatus.SUCCEEDED
    # a second executor of the same run does nothing
    assert await execute_run(db, tid, run_id, local_analyzer(service)) is RunStatus.SUCCEEDED

    async with db.tenant_session(tid) as s:
        run = await get_run(s, run_id)
        findings = (await list_findings(s, run_id=run_id)).items
    assert (run.status, run.trigger, run.as_of) == ("succeeded", "materialize", date(2025, 12, 31))
    assert run.started_at and run.finished_at and run.duration_ms and run.duration_ms > 0
    assert run.findings_count == len(findings) == 1
    assert run.severity_counts == {"info": 0, "low": 0, "medium": 0, "high": 1}
    (finding,) = findings
    assert (finding.kind, finding.severity) == ("slipped_deals", "high")  # 9k of 29k open
    assert finding.metrics["amount"] == 9000.0 and finding.evidence["row_keys"] == ["late"]
    assert run.summary["pipeline"]["USD"]["open_deals"] == 21
    # every state change and the finding are in the tenant's event log, in order, once
    events = await numbered(db, tid, after=before)
    ids = {"agent_id": str(run.agent_id), "run_id": str(run_id)}
    assert brief(events) == [
        ("agent.run.queued", ids),
        ("agent.run.running", ids),
        ("agent.run.succeeded", ids),
        ("agent.finding", {**ids, "finding_id": str(finding.id)}),
    ]
    assert events[0].payload == {"agent": "revops", "trigger": "materialize"}
    assert events[2].payload["findings"] == 1 and events[2].payload["duration_ms"] > 0
    assert events[3].payload == {
        "agent": "revops",
        "kind": "slipped_deals",
        "severity": "high",
        "title": finding.title,
    }


async def test_manual_runs_take_validated_params(db: Database, tid: uuid.UUID) -> None:
    agent_id = await revops_id(db, tid)
    async with db.tenant_session(tid) as s:
        run, new = await request_run(s, agent_id, params={"stale_days": 10})
        again, new_again = await request_run(s, agent_id, params={"stale_days": 10})
        other, new_other = await request_run(s, agent_id)
        with pytest.raises(AgentInputError, match="stale_days"):
            await request_run(s, agent_id, params={"stale_days": "soon"})
    assert new and not new_again and again.id == run.id and new_other and other.id != run.id
    assert run.inputs == {"stale_days": 10} and run.trigger == "manual"


async def test_a_cancelled_run_keeps_no_result(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, load = dcl
    load("opportunity", slipped_pipeline())
    agent_id = await revops_id(db, tid)
    before = await last_id(db, tid)
    async with db.tenant_session(tid) as s:
        run, _ = await request_run(s, agent_id)
    release, started = asyncio.Event(), asyncio.Event()
    analyze = local_analyzer(service)

    async def slow(code: str, params: dict[str, Any]) -> dict[str, Any]:
        started.set()
        await release.wait()
        return await analyze(code, params)

    task = asyncio.create_task(execute_run(db, tid, run.id, slow))
    await asyncio.wait_for(started.wait(), 10)
    async with db.tenant_session(tid) as s:
        assert (await get_run(s, run.id)).status == "running"
        assert (await cancel_run(s, run.id)).status == "cancelled"
    release.set()
    assert await task is RunStatus.CANCELLED
    async with db.tenant_session(tid) as s:
        done = await get_run(s, run.id)
        assert (await list_findings(s, run_id=run.id)).total == 0
        with pytest.raises(
            InvalidRunTransition, match="a cancelled agent run cannot become cancelled"
        ):
            await cancel_run(s, run.id)
    assert done.findings_count == 0 and done.summary == {}
    # the cancel request is announced; the late result is not
    events = await numbered(db, tid, after=before)
    assert [e.type for e in events] == [
        "agent.run.queued",
        "agent.run.running",
        "agent.run.cancelled",
    ]
    assert events[2].payload["by"] == "request"


async def test_a_failed_analysis_is_recorded(
    db: Database, tid: uuid.UUID, dcl: tuple[DCLService, Load]
) -> None:
    service, _ = dcl
    agent_id = await revops_id(db, tid)
    async with db.tenant_session(tid) as s:
        run, _ = await request_run(s, agent_id)
    service.store.close()  # the tenant's DuckDB went away under the analysis
    assert await execute_run(db, tid, run.id, local_analyzer(service)) is RunStatus.FAILED
    async with db.tenant_session(tid) as s:
        failed = await get_run(s, run.id)
    assert failed.error and "internal error" in failed.error and str(run.id) in failed.error
    assert failed.finished_at is not None and failed.duration_ms is not None


async def test_third_party_runs_are_reported(db: Database, tid: uuid.UUID) -> None:
    before = await last_id(db, tid)
    async with db.tenant_session(tid) as s:
        agent, _ = await registry.register_agent(s, AgentSpec(name="churn-bot"))
        started = datetime.now(UTC) - timedelta(seconds=30)
        run, new = await report_run(
            s, agent, RunReport(external_id="job-1", status="running", started_at=started)
        )
        finding = {
            "kind": "churn_risk",
            "severity": "medium",
            "title": "Acme may churn",
            "summary": "Tickets up 3x",
            "key": "churn_risk:acme",
            "metrics": {"tickets": 12},
            "evidence": {"view": "ticket", "query": "SELECT 1", "row_keys": ["t1"]},
        }
        report = RunReport.model_validate(
            {
                "external_id": "job-1",
                "status": "succeeded",
                "findings": [finding],
                "llm": {"calls": 3, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.02},
                "summary": {"accounts_scored": 200},
            }
        )
        finished, new_again = await report_run(s, agent, report)
        replay, _ = await report_run(s, agent, report)
        with pytest.raises(InvalidRunTransition):
            await report_run(s, agent, RunReport(external_id="job-1", status="failed", error="x"))
        with pytest.raises(AgentInputError, match="future"):
            await report_run(
                s,
                agent,
                RunReport(status="running", started_at=datetime.now(UTC) + timedelta(hours=1)),
            )
        with pytest.raises(AgentConflict):
            await report_run(s, await registry.get_agent_by_name(s, "finops"), report)
        with pytest.raises(AgentConflict, match="reports its runs"):
            await request_run(s, agent.id)
        page = await list_findings(s, agent_id=agent.id, min_severity=Severity.MEDIUM)
        assert (await list_findings(s, min_severity=Severity.HIGH)).total == 0
    assert new and not new_again and finished.id == run.id == replay.id
    assert (
        finished.status == "succeeded" and finished.duration_ms and finished.duration_ms >= 30_000
    )
    assert (finished.llm_calls, finished.llm_input_tokens, finished.llm_cost_usd) == (3, 1200, 0.02)
    assert finished.trigger == RunTrigger.REPORTED.value and finished.findings_count == 1
    assert [f.title for f in page.items] == ["Acme may churn"]
    events = await numbered(db, tid, after=before)  # reported runs are announced too
    ids = {"agent_id": str(agent.id), "run_id": str(run.id)}
    assert brief(events) == [
        ("agent.run.running", ids),
        ("agent.run.succeeded", ids),
        ("agent.finding", {**ids, "finding_id": str(page.items[0].id)}),
    ]
    assert events[1].payload["trigger"] == "reported" and events[1].payload["findings"] == 1
    for incoherent in (
        {"status": "failed", "findings": [finding]},
        {"status": "succeeded", "error": "boom"},
        {
            "status": "succeeded",
            "started_at": "2025-01-02T00:00:00Z",
            "finished_at": "2025-01-01T00:00:00Z",
        },
        {"status": "succeeded", "inputs": {"blob": "x" * 300_000}},
    ):
        with pytest.raises(AgentInputError):
            RunReport.model_validate(incoherent).check()
    for bad in (
        {"status": "succeeded", "started_at": "2025-01-01T00:00:00"},
        {"status": "done"},
        {"status": "succeeded", "findings": [finding | {"kind": "k" * 51}]},
        {"status": "succeeded", "findings": [finding | {"kind": "Not A Kind"}]},
        {"status": "succeeded", "findings": [finding | {"severity": "critical"}]},
    ):
        with pytest.raises(ValidationError):
            RunReport.model_validate(bad)


async def test_runs_and_findings_are_listed_newest_first_per_tenant(
    db: Database, tid: uuid.UUID
) -> None:
    async with db.tenant_session(tid) as s:
        agent, _ = await registry.register_agent(s, AgentSpec(name="lister"))
        ids = []
        for n in range(3):
            run, _ = await report_run(s, agent, RunReport(external_id=f"r{n}", status="succeeded"))
            run.created_at = datetime.now(UTC) + timedelta(seconds=n)
            ids.append(run.id)
        page = await list_runs(s, agent_id=agent.id, limit=2)
        with pytest.raises(AgentInputError):
            await list_runs(s, limit=0)
    assert page.total == 3 and [r.id for r in page.items] == ids[::-1][:2]
    async with db.tenant_session(uuid.uuid4()) as s:
        assert (await list_runs(s)).total == 0 and (await list_findings(s)).total == 0
        with pytest.raises(AgentNotFound):
            await get_run(s, ids[0])
        with pytest.raises(AgentNotFound):
            await cancel_run(s, ids[0])


async def test_an_analysis_past_the_run_timeout_fails(db: Database, tid: uuid.UUID) -> None:
    agent_id = await revops_id(db, tid)
    async with db.tenant_session(tid) as s:
        run, _ = await request_run(s, agent_id)

    async def hangs(code: str, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(60)
        raise AssertionError("never reached")

    status = await execute_run(db, tid, run.id, hangs, timeout_s=0.2)
    assert status is RunStatus.FAILED
    async with db.tenant_session(tid) as s:
        failed = await get_run(s, run.id)
    assert failed.error == "the analysis did not finish within 0.2 s" and failed.error_transient


async def test_the_scheduler_fails_a_run_whose_executor_died(db: Database, tid: uuid.UUID) -> None:
    """A run left ``running`` by a dead executor (its process, or a Ray task's owner, went
    away) is failed once it is a minute past the run timeout; a younger one is left alone."""
    from autonomos.agents.run_store import claim_run
    from autonomos.agents.runner import AgentScheduler
    from autonomos.store.agent_models import AgentRunRow

    agent_id = await revops_id(db, tid)
    ids = []
    for minutes_ago in (20, 5):
        async with db.tenant_session(tid) as s:
            run, _ = await request_run(s, agent_id)
            assert await claim_run(s, run.id) is not None  # an executor took it, then died
            row = await s.get(AgentRunRow, run.id)
            assert row is not None
            row.started_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        ids.append(run.id)

    class RecordingRunner:  # the runner port, recording what it is handed
        def __init__(self) -> None:
            self.submitted: list[uuid.UUID] = []

        async def submit(self, tenant_id: uuid.UUID, run_ids: Any) -> None:
            self.submitted.extend(run_ids)

        async def cancel(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None: ...

        async def close(self) -> None: ...

    runner = RecordingRunner()
    scheduler = AgentScheduler(db, runner, interval_s=60, run_timeout_s=600)
    await scheduler.tick(tenants=[tid])
    assert not set(ids) & set(runner.submitted)  # a failed run is not handed over again
    async with db.tenant_session(tid) as s:
        old, young = await get_run(s, ids[0]), await get_run(s, ids[1])
    assert old.status == RunStatus.FAILED.value and old.error_transient
    assert old.error is not None and "executor stopped" in old.error
    assert young.status == RunStatus.RUNNING.value
    async with db.tenant_session(tid) as s:  # leave nothing running for other tests
        assert await cancel_run(s, ids[1])
