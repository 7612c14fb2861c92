"""Agent runs and findings in SQL (tenant sessions only), every status move through
``runs.transition``, each announced (``agent.run.<status>``, ``agent.finding``; see
``events.log.record``) in the transaction that makes it, whoever moves the run: the
executor, the API (cancel), a third-party agent's report.

Executors claim and finish runs with status-conditional updates, so two executors never
run one run twice, and a run cancelled while its analysis was going stays cancelled
(its late result is dropped, with its findings). A run's findings are written in the
same transaction as its ``succeeded``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.agents.builtin import validate_params
from autonomos.agents.errors import AgentConflict, AgentInputError, AgentNotFound
from autonomos.agents.findings import AgentReport, Finding, LLMUsage, Severity
from autonomos.agents.registry import AgentKind, get_agent
from autonomos.agents.runs import RunStatus, RunTrigger, transition
from autonomos.events.log import record
from autonomos.store.agent_models import AgentFindingRow, AgentRow, AgentRunRow
from autonomos.store.base import utcnow

MAX_PAGE = 200
MAX_FINDINGS = 1000  # per run
MAX_SUMMARY_BYTES = 256 * 1024
CLOCK_SKEW = timedelta(minutes=5)
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def request_run(
    s: AsyncSession,
    agent_id: uuid.UUID,
    *,
    trigger: RunTrigger = RunTrigger.MANUAL,
    params: dict[str, Any] | None = None,
    requested_by: uuid.UUID | None = None,
) -> tuple[AgentRunRow, bool]:
    """Queue a run of an internal agent: (the run, whether it is new).

    ``params`` override the agent's own for this run (checked by its model). A run of the
    same agent with the same inputs still queued is returned instead of a second one, so
    a burst of materialisations asks for one run.
    """
    agent = await get_agent(s, agent_id)
    if agent.kind != AgentKind.INTERNAL.value or agent.code is None:
        raise AgentConflict("a third-party agent runs elsewhere and reports its runs")
    if not agent.enabled:
        raise AgentConflict(f"agent {agent.name!r} is disabled")
    inputs = validate_params(agent.code, {**(agent.params or {}), **(params or {})})
    queued = await s.scalars(
        select(AgentRunRow).where(
            AgentRunRow.agent_id == agent.id, AgentRunRow.status == RunStatus.QUEUED.value
        )
    )
    for run in queued:
        if run.inputs == inputs:
            return run, False
    run = AgentRunRow(
        id=uuid.uuid4(),
        agent_id=agent.id,
        status=RunStatus.QUEUED.value,
        trigger=RunTrigger(trigger).value,
        inputs=inputs,
        requested_by=requested_by,
    )
    s.add(run)
    await s.flush()
    await _announce(s, run, RunStatus.QUEUED, agent=agent)
    return run, True


async def get_run(s: AsyncSession, run_id: uuid.UUID) -> AgentRunRow:
    run = await s.get(AgentRunRow, run_id)
    if run is None:
        raise AgentNotFound("run not found")
    return run


async def _move(
    s: AsyncSession, run_id: uuid.UUID, current: RunStatus, target: RunStatus, **values: Any
) -> bool:
    """``current`` -> ``target`` if the run is still ``current`` (False when it moved)."""
    transition(current, target)
    result = await s.execute(
        update(AgentRunRow)
        .where(AgentRunRow.id == run_id, AgentRunRow.status == current.value)
        .values(status=target.value, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def claim_run(s: AsyncSession, run_id: uuid.UUID) -> tuple[AgentRunRow, AgentRow] | None:
    """queued -> running for the caller only; None when the run is not queued any more."""
    if not await _move(s, run_id, RunStatus.QUEUED, RunStatus.RUNNING, started_at=utcnow()):
        return None
    run = await get_run(s, run_id)
    await s.refresh(run)
    agent = await get_agent(s, run.agent_id)
    await _announce(s, run, RunStatus.RUNNING, agent=agent)
    return run, agent


async def complete_run(
    s: AsyncSession, run: AgentRunRow, report: AgentReport, *, duration_ms: float
) -> list[AgentFindingRow] | None:
    """running -> succeeded with the report's findings (their rows); None (nothing
    written) when the run was cancelled meanwhile."""
    summary = _bounded(report.summary)
    finished = utcnow()
    done = await _move(
        s,
        run.id,
        RunStatus.RUNNING,
        RunStatus.SUCCEEDED,
        finished_at=finished,
        duration_ms=duration_ms,
        as_of=report.as_of,
        summary=summary,
        findings_count=len(report.findings),
        severity_counts=report.counts(),
        **_llm(report.llm),
    )
    if not done:
        return None
    rows = _add_findings(s, run, report.findings, finished)
    await s.flush()
    agent = await _announce(
        s, run, RunStatus.SUCCEEDED, findings=len(rows), duration_ms=duration_ms
    )
    _announce_findings(s, agent, rows)
    return rows


async def fail_run(
    s: AsyncSession,
    run_id: uuid.UUID,
    error: str,
    *,
    current: RunStatus = RunStatus.RUNNING,
    transient: bool = False,
    duration_ms: float | None = None,
) -> bool:
    """``current`` -> failed with the error; False when the run had moved on."""
    moved = await _move(
        s,
        run_id,
        current,
        RunStatus.FAILED,
        finished_at=utcnow(),
        error=error[:4000],
        error_transient=transient,
        duration_ms=duration_ms,
    )
    if moved:
        await _announce(
            s, await get_run(s, run_id), RunStatus.FAILED, error=error[:500], transient=transient
        )
    return moved


async def abandon_run(s: AsyncSession, run_id: uuid.UUID) -> bool:
    """running -> cancelled because its executor stopped (the task was cancelled)."""
    moved = await _move(s, run_id, RunStatus.RUNNING, RunStatus.CANCELLED, finished_at=utcnow())
    if moved:
        await _announce(s, await get_run(s, run_id), RunStatus.CANCELLED, by="executor")
    return moved


async def cancel_run(s: AsyncSession, run_id: uuid.UUID) -> AgentRunRow:
    """Cancel a queued or running run (InvalidRunTransition for a finished one)."""
    run = await get_run(s, run_id)
    current = RunStatus(run.status)
    moved = await _move(s, run_id, current, RunStatus.CANCELLED, finished_at=utcnow())
    if not moved:
        run = await get_run(s, run_id)  # it moved meanwhile: say from where
        await s.refresh(run)
        transition(RunStatus(run.status), RunStatus.CANCELLED)
    await s.refresh(run)
    if moved:  # (not when it moved on meanwhile: it was not cancelled)
        await _announce(s, run, RunStatus.CANCELLED, by="request")
    return run


class RunReport(BaseModel):
    """A run a third-party agent made and reports (``POST .../agents/{id}/runs``).

    ``external_id`` (the agent's own run id) makes reporting idempotent, and lets a run
    reported as ``running`` be finished by a second report.
    """

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    status: Literal["running", "succeeded", "failed", "cancelled"]
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    duration_ms: float | None = Field(None, ge=0)
    inputs: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list, max_length=MAX_FINDINGS)
    llm: LLMUsage = Field(default_factory=LLMUsage)
    error: str | None = Field(None, max_length=4000)

    def check(self) -> None:
        """The rules between fields (AgentInputError): checked when the report is
        recorded, after the agent it is about was found, so a report about another
        tenant's agent answers "not found" whatever it holds."""
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            raise AgentInputError("finished_at is before started_at")
        if self.findings and self.status != "succeeded":
            raise AgentInputError("only a succeeded run has findings")
        if self.error and self.status == "succeeded":
            raise AgentInputError("a succeeded run has no error")
        for name in ("summary", "inputs"):
            if len(json.dumps(getattr(self, name), default=str)) > MAX_SUMMARY_BYTES:
                raise AgentInputError(f"{name} is larger than {MAX_SUMMARY_BYTES} bytes")


async def report_run(
    s: AsyncSession, agent: AgentRow, report: RunReport
) -> tuple[AgentRunRow, bool]:
    """Record a third-party agent's run: (the run, whether it is new). A report with a
    known ``external_id`` finishes that run if it is running, returns it unchanged if it
    is already in the reported status, and is refused (InvalidRunTransition) otherwise."""
    if agent.kind != AgentKind.THIRD_PARTY.value:
        raise AgentConflict("internal agents are run by the platform, not reported")
    report.check()
    now = utcnow()
    for name in ("started_at", "finished_at"):
        value = getattr(report, name)
        if value is not None and value > now + CLOCK_SKEW:
            raise AgentInputError(f"{name} is in the future")
    target = RunStatus(report.status)
    run = None
    if report.external_id is not None:
        run = await s.scalar(
            select(AgentRunRow).where(
                AgentRunRow.agent_id == agent.id, AgentRunRow.external_id == report.external_id
            )
        )
    created = run is None
    if run is None:
        run = AgentRunRow(
            id=uuid.uuid4(),
            agent_id=agent.id,
            status=RunStatus.QUEUED.value,
            trigger=RunTrigger.REPORTED.value,
            external_id=report.external_id,
            inputs=report.inputs,
        )
        s.add(run)
        run.status = transition(RunStatus.QUEUED, RunStatus.RUNNING).value
        run.started_at = report.started_at or now
        await s.flush()
        await _announce(s, run, RunStatus.RUNNING, agent=agent)
    elif RunStatus(run.status) is target:
        return run, False
    if target is not RunStatus.RUNNING:
        run.status = transition(RunStatus(run.status), target).value
        run.finished_at = report.finished_at or now
        run.duration_ms = report.duration_ms
        if run.duration_ms is None and run.started_at is not None:
            run.duration_ms = max((run.finished_at - run.started_at).total_seconds(), 0) * 1000
        run.error = report.error
        run.summary = report.summary
        run.findings_count = len(report.findings)
        run.severity_counts = AgentReport(agent=agent.name, findings=report.findings).counts()
        for name, value in _llm(report.llm).items():
            setattr(run, name, value)
        await s.flush()
        rows = _add_findings(s, run, report.findings, run.finished_at)
        await s.flush()
        await _announce(
            s,
            run,
            target,
            agent=agent,
            findings=len(rows),
            duration_ms=run.duration_ms,
            error=None if run.error is None else run.error[:500],
        )
        _announce_findings(s, agent, rows)
    await s.flush()
    return run, created


async def _announce(
    s: AsyncSession,
    run: AgentRunRow,
    status: RunStatus,
    *,
    agent: AgentRow | None = None,
    **payload: Any,
) -> AgentRow:
    """Record ``agent.run.<status>`` of ``run`` in ``s``'s transaction; the run's agent."""
    agent = agent or await get_agent(s, run.agent_id)
    record(
        s,
        f"agent.run.{status.value}",
        subject={"agent_id": agent.id, "run_id": run.id},
        agent=agent.name,
        trigger=run.trigger,
        **payload,
    )
    return agent


def _announce_findings(s: AsyncSession, agent: AgentRow, rows: list[AgentFindingRow]) -> None:
    for row in rows:
        record(
            s,
            "agent.finding",
            subject={"agent_id": agent.id, "run_id": row.run_id, "finding_id": row.id},
            agent=agent.name,
            kind=row.kind,
            severity=row.severity,
            title=row.title,
        )


async def list_runs(
    s: AsyncSession,
    *,
    agent_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AgentRunRow]:
    query = select(AgentRunRow)
    if agent_id is not None:
        query = query.where(AgentRunRow.agent_id == agent_id)
    if status is not None:
        query = query.where(AgentRunRow.status == RunStatus(status).value)
    return await _page(s, query, AgentRunRow.created_at, AgentRunRow.id, limit, offset)


async def list_findings(
    s: AsyncSession,
    *,
    agent_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    min_severity: Severity | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AgentFindingRow]:
    """Findings, newest first; ``min_severity`` keeps that severity and above."""
    query = select(AgentFindingRow)
    if agent_id is not None:
        query = query.where(AgentFindingRow.agent_id == agent_id)
    if run_id is not None:
        query = query.where(AgentFindingRow.run_id == run_id)
    if min_severity is not None:
        allowed = [v.value for v in Severity.at_least(min_severity)]
        query = query.where(AgentFindingRow.severity.in_(allowed))
    if kind is not None:
        query = query.where(AgentFindingRow.kind == kind)
    if since is not None:
        query = query.where(AgentFindingRow.created_at >= since)
    return await _page(s, query, AgentFindingRow.created_at, AgentFindingRow.id, limit, offset)


async def _page(
    s: AsyncSession, query: Any, newest: Any, tiebreak: Any, limit: int, offset: int
) -> Page[Any]:
    if not 1 <= limit <= MAX_PAGE:
        raise AgentInputError(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise AgentInputError("offset cannot be negative")
    total = await s.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = await s.scalars(query.order_by(newest.desc(), tiebreak).limit(limit).offset(offset))
    return Page(list(items), int(total), limit, offset)


def _add_findings(
    s: AsyncSession, run: AgentRunRow, findings: list[Finding], at: datetime
) -> list[AgentFindingRow]:
    rows = [
        AgentFindingRow(
            id=uuid.uuid4(),
            run_id=run.id,
            agent_id=run.agent_id,
            kind=f.kind,
            severity=f.severity.value,
            title=f.title,
            summary=f.summary,
            key=f.key,
            metrics=f.metrics,
            evidence=f.evidence.model_dump(mode="json"),
            created_at=at,
        )
        for f in findings
    ]
    s.add_all(rows)
    return rows


def _llm(usage: LLMUsage) -> dict[str, Any]:
    return {
        "llm_calls": usage.calls,
        "llm_input_tokens": usage.input_tokens,
        "llm_output_tokens": usage.output_tokens,
        "llm_cost_usd": usage.cost_usd,
    }


def _bounded(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary, or a note when it would not fit the row (it never fails a run)."""
    size = len(json.dumps(summary, default=str))
    if size <= MAX_SUMMARY_BYTES:
        return summary
    return {"truncated": True, "bytes": size, "notes": summary.get("notes", [])}
