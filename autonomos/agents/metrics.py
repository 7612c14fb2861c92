"""xAO metrics: how every agent of a tenant is doing, internal and third-party together.

Per agent and for the tenant as a whole, over runs created in a time window: runs (by
status), success rate, p50/p95 duration, findings (by severity), LLM calls, tokens and
cost. Definitions:

- *success rate* = succeeded / (succeeded + failed): a cancelled run is someone's
  decision, not the agent's failure; None when no run has finished either way;
- *duration percentiles* over finished runs that have a duration (linear interpolation
  between closest ranks, as Postgres' ``percentile_cont``); the tenant's percentiles are
  over all its agents' runs together, never an average of per-agent percentiles;
- *findings* are counted by when they were found (inside the window).

Counts and sums are SQL aggregates; the percentiles are computed here from the window's
durations (one float per finished run: SQLite has no percentile function), which the
window bounds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.agents.findings import Severity
from autonomos.agents.registry import list_agents
from autonomos.agents.runs import RunStatus
from autonomos.store.agent_models import AgentFindingRow, AgentRunRow
from autonomos.store.base import utcnow

DEFAULT_WINDOW = timedelta(days=30)


@dataclass
class Metrics:
    runs: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in RunStatus})
    success_rate: float | None = None
    p50_duration_ms: float | None = None
    p95_duration_ms: float | None = None
    findings: int = 0
    findings_by_severity: dict[str, int] = field(
        default_factory=lambda: {s.value: 0 for s in Severity}
    )
    llm_calls: int = 0
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_cost_usd: float = 0.0
    last_run_at: datetime | None = None


@dataclass
class AgentMetrics:
    agent_id: uuid.UUID
    name: str
    kind: str
    owner: str
    metrics: Metrics


@dataclass
class TenantMetrics:
    since: datetime
    until: datetime
    agents: list[AgentMetrics]
    total: Metrics


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation; None for no values."""
    if not values:
        return None
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 3)


async def agent_metrics(
    s: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> TenantMetrics:
    until = until or utcnow()
    since = since or until - DEFAULT_WINDOW
    agents = await list_agents(s)
    in_window = (AgentRunRow.created_at >= since, AgentRunRow.created_at < until)
    per: dict[uuid.UUID, Metrics] = defaultdict(Metrics)
    total = Metrics()
    rows = await s.execute(
        select(
            AgentRunRow.agent_id,
            AgentRunRow.status,
            func.count(),
            func.coalesce(func.sum(AgentRunRow.llm_calls), 0),
            func.coalesce(func.sum(AgentRunRow.llm_input_tokens), 0),
            func.coalesce(func.sum(AgentRunRow.llm_output_tokens), 0),
            func.coalesce(func.sum(AgentRunRow.llm_cost_usd), 0.0),
            func.max(AgentRunRow.created_at),
        )
        .where(*in_window)
        .group_by(AgentRunRow.agent_id, AgentRunRow.status)
    )
    for agent_id, status, n, calls, tin, tout, cost, last in rows:
        for m in (per[agent_id], total):
            m.runs += n
            m.by_status[status] = m.by_status.get(status, 0) + n
            m.llm_calls += int(calls)
            m.llm_input_tokens += int(tin)
            m.llm_output_tokens += int(tout)
            m.llm_cost_usd = round(m.llm_cost_usd + float(cost), 6)
            if last is not None and (m.last_run_at is None or last > m.last_run_at):
                m.last_run_at = last
    durations: dict[uuid.UUID, list[float]] = defaultdict(list)
    finished = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value)
    for agent_id, ms in await s.execute(
        select(AgentRunRow.agent_id, AgentRunRow.duration_ms).where(
            *in_window,
            AgentRunRow.status.in_(finished),
            AgentRunRow.duration_ms.is_not(None),
        )
    ):
        durations[agent_id].append(float(ms or 0.0))
    findings = await s.execute(
        select(AgentFindingRow.agent_id, AgentFindingRow.severity, func.count())
        .where(AgentFindingRow.created_at >= since, AgentFindingRow.created_at < until)
        .group_by(AgentFindingRow.agent_id, AgentFindingRow.severity)
    )
    for agent_id, severity, n in findings:
        for m in (per[agent_id], total):
            m.findings += n
            m.findings_by_severity[severity] = m.findings_by_severity.get(severity, 0) + n
    for agent_id, m in per.items():
        _finish(m, durations.get(agent_id, []))
    _finish(total, [d for ds in durations.values() for d in ds])
    return TenantMetrics(
        since=since,
        until=until,
        agents=[AgentMetrics(a.id, a.name, a.kind, a.owner, per[a.id]) for a in agents],
        total=total,
    )


def _finish(m: Metrics, durations: list[float]) -> None:
    ok, failed = m.by_status[RunStatus.SUCCEEDED.value], m.by_status[RunStatus.FAILED.value]
    m.success_rate = round(ok / (ok + failed), 4) if ok + failed else None
    m.p50_duration_ms = percentile(durations, 50)
    m.p95_duration_ms = percentile(durations, 95)
