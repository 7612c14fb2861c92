"""Making sure a tenant's built-in agents have run, and waiting for runs to end.

What ``autonomos up`` does for the demo tenant once its views are built: the
materialisation has queued the FinOps and RevOps agents already (their views changed);
an agent that has never succeeded and has nothing queued (``up`` run again over views
that did not change, say) is queued here. The caller gives the runner, so this works in
both deployment modes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from autonomos.agents import registry
from autonomos.agents.run_store import request_run
from autonomos.agents.runner import AgentRunner
from autonomos.agents.runs import ACTIVE, RunStatus, RunTrigger
from autonomos.store.agent_models import AgentFindingRow, AgentRunRow
from autonomos.store.session import Database


@dataclass(frozen=True)
class AgentOutcome:
    name: str
    last_status: str | None  # of its newest run
    findings: int  # of its newest succeeded run
    high: int


async def ensure_builtin_runs(db: Database, tenant_id: uuid.UUID, runner: AgentRunner) -> None:
    """Queue and hand over a run of each built-in agent that has never succeeded and has
    no run queued or running."""
    async with db.tenant_session(tenant_id) as s:
        wanted = []
        for agent in await registry.ensure_builtin_agents(s):
            statuses = set(
                await s.scalars(
                    select(AgentRunRow.status).where(AgentRunRow.agent_id == agent.id).distinct()
                )
            )
            if RunStatus.SUCCEEDED.value in statuses or statuses & {a.value for a in ACTIVE}:
                continue
            run, _ = await request_run(s, agent.id, trigger=RunTrigger.MANUAL)
            wanted.append(run.id)
    if wanted:
        await runner.submit(tenant_id, wanted)


async def wait_for_runs(
    db: Database, tenant_id: uuid.UUID, *, timeout_s: float, poll_s: float = 0.5
) -> bool:
    """Wait until the tenant has no queued or running run; False on timeout."""
    deadline = time.monotonic() + timeout_s
    active = [s.value for s in ACTIVE]
    while True:
        async with db.tenant_session(tenant_id) as s:
            left = await s.scalar(
                select(func.count()).select_from(AgentRunRow).where(AgentRunRow.status.in_(active))
            )
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll_s)


async def builtin_outcomes(db: Database, tenant_id: uuid.UUID) -> list[AgentOutcome]:
    """Each built-in agent's newest run status and its newest succeeded run's findings."""
    out = []
    async with db.tenant_session(tenant_id) as s:
        for agent in await registry.ensure_builtin_agents(s):
            newest = await s.scalar(
                select(AgentRunRow.status)
                .where(AgentRunRow.agent_id == agent.id)
                .order_by(AgentRunRow.created_at.desc())
                .limit(1)
            )
            ok = await s.scalar(
                select(AgentRunRow.id)
                .where(
                    AgentRunRow.agent_id == agent.id,
                    AgentRunRow.status == RunStatus.SUCCEEDED.value,
                )
                .order_by(AgentRunRow.finished_at.desc())
                .limit(1)
            )
            counts: dict[str, int] = {}
            if ok is not None:
                rows = await s.execute(
                    select(AgentFindingRow.severity, func.count())
                    .where(AgentFindingRow.run_id == ok)
                    .group_by(AgentFindingRow.severity)
                )
                counts = {sev: int(n) for sev, n in rows}
            out.append(
                AgentOutcome(agent.name, newest, sum(counts.values()), counts.get("high", 0))
            )
    return out
