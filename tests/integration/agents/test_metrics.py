"""xAO metrics on runs the test records (SQLite and Postgres)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from autonomos.agents import registry
from autonomos.agents.metrics import agent_metrics
from autonomos.agents.registry import AgentSpec
from autonomos.agents.run_store import RunReport, claim_run, fail_run, report_run, request_run
from autonomos.store.agent_models import AgentRunRow
from autonomos.store.session import Database

FINDING = {
    "kind": "k",
    "severity": "high",
    "title": "t",
    "summary": "s",
    "key": "k:1",
    "evidence": {"view": "account", "query": "SELECT 1"},
}


async def test_metrics_per_agent_and_per_tenant(db: Database, tid: uuid.UUID) -> None:
    now = datetime.now(UTC)
    durations = [100.0 * (n + 1) for n in range(10)]  # 100 .. 1,000 ms
    async with db.tenant_session(tid) as s:
        bot, _ = await registry.register_agent(s, AgentSpec(name="bot"))
        for n, ms in enumerate(durations):
            status = "failed" if n in (3, 7) else "succeeded"
            await report_run(
                s,
                bot,
                RunReport.model_validate(
                    {
                        "external_id": f"run-{n}",
                        "status": status,
                        "started_at": (now - timedelta(minutes=5)).isoformat(),
                        "duration_ms": ms,
                        "findings": [FINDING] * (n % 3) if status == "succeeded" else [],
                        "llm": {
                            "calls": 1,
                            "input_tokens": 100,
                            "output_tokens": 10,
                            "cost_usd": 0.5,
                        },
                    }
                ),
            )
        await report_run(s, bot, RunReport(external_id="cancelled", status="cancelled"))
        await report_run(s, bot, RunReport(external_id="still-going", status="running"))
        revops = await registry.get_agent_by_name(s, "revops")
        queued, _ = await request_run(s, revops.id)
        internal, _ = await request_run(s, revops.id, params={"stale_days": 5})
        assert await claim_run(s, internal.id) is not None
        assert await fail_run(s, internal.id, "boom", duration_ms=5000.0)
        old, _ = await report_run(
            s, bot, RunReport(external_id="old", status="succeeded", duration_ms=9e6)
        )
        old.created_at = now - timedelta(days=40)  # outside the default 30-day window

    async with db.tenant_session(tid) as s:
        metrics = await agent_metrics(s)
    by_name = {a.name: a.metrics for a in metrics.agents}
    assert set(by_name) == {"bot", "finops", "revops"}
    m = by_name["bot"]
    assert m.runs == 12
    assert m.by_status == {"queued": 0, "running": 1, "succeeded": 8, "failed": 2, "cancelled": 1}
    assert m.success_rate == 0.8
    assert m.p50_duration_ms == pytest.approx(np.percentile(durations, 50))  # 550
    assert m.p95_duration_ms == pytest.approx(np.percentile(durations, 95))  # 955
    succeeded = [n for n in range(10) if n not in (3, 7)]
    assert m.findings == sum(n % 3 for n in succeeded) == m.findings_by_severity["high"]
    assert (m.llm_calls, m.llm_input_tokens, m.llm_output_tokens) == (10, 1000, 100)
    assert m.llm_cost_usd == pytest.approx(5.0)
    r = by_name["revops"]
    assert (r.runs, r.by_status["queued"], r.by_status["failed"], r.success_rate) == (2, 1, 1, 0.0)
    assert r.p50_duration_ms == 5000.0
    assert by_name["finops"].runs == 0 and by_name["finops"].success_rate is None
    total = metrics.total
    assert total.runs == 14 and total.success_rate == pytest.approx(8 / 11, abs=1e-4)
    assert total.p95_duration_ms == pytest.approx(np.percentile([*durations, 5000.0], 95))
    assert total.findings == m.findings and total.llm_calls == 10
    assert queued.status == "queued"

    # a window that holds the old run only
    async with db.tenant_session(tid) as s:
        past = await agent_metrics(
            s, since=now - timedelta(days=41), until=now - timedelta(days=39)
        )
    assert past.total.runs == 1 and past.total.p50_duration_ms == 9e6

    # another tenant sees none of it
    async with db.tenant_session(uuid.uuid4()) as s:
        theirs = await agent_metrics(s)
    assert theirs.total.runs == 0 and {a.name for a in theirs.agents} == {"finops", "revops"}
    async with db.tenant_session(tid) as s:
        assert await s.get(AgentRunRow, internal.id) is not None
