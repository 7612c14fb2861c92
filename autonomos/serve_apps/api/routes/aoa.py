"""/api/v1/aoa: agent orchestration — agents, their runs and findings, xAO metrics.

Reading needs the viewer role; starting or cancelling a run, or changing an agent, the
operator role; registering a third-party agent (which issues a credential) the admin
role. ``POST /agents/{id}/runs`` takes two kinds of caller: a user (an internal agent's
run, queued and handed to the runtime's agent runner once committed) and a third-party
agent with its own token (``aat.…`` as the Bearer token), reporting a run it made. An
agent token authenticates nothing else, and a token of another tenant's agent finds no
agent here (404).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.agents import registry, run_store, tokens
from autonomos.agents.errors import AgentInputError
from autonomos.agents.findings import Severity
from autonomos.agents.metrics import agent_metrics
from autonomos.agents.registry import AgentPatch, AgentSpec
from autonomos.agents.run_store import RunReport
from autonomos.agents.runs import RunStatus, RunTrigger
from autonomos.serve_apps.api.deps import (
    Admin,
    AgentRunnerDep,
    BearerToken,
    DbDep,
    Operator,
    TenantSession,
    Viewer,
    authenticate,
)
from autonomos.serve_apps.api.errors import ApiError
from autonomos.serve_apps.api.schemas_aoa import (
    AgentCreated,
    AgentList,
    AgentOut,
    FindingList,
    FindingOut,
    IsoDateTime,
    RunList,
    RunOut,
    RunSummary,
    StartRunIn,
    TenantMetricsOut,
)
from autonomos.store.models import Role

router = APIRouter(prefix="/api/v1/aoa", tags=["aoa"])

Limit = Annotated[int, Query(ge=1, le=run_store.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
AgentRef = Annotated[
    str | None,
    Query(max_length=100, description="The agent's id or name"),
]


async def _agent_id(s: AsyncSession, ref: str | None) -> uuid.UUID | None:
    """The id of the agent ``ref`` names (an id or a name); AgentNotFound if none."""
    if ref is None:
        return None
    try:
        return (await registry.get_agent(s, uuid.UUID(ref))).id
    except ValueError:
        return (await registry.get_agent_by_name(s, ref)).id


@router.get("/agents", operation_id="listAgents")
async def list_agents(_: Viewer, session: TenantSession) -> AgentList:
    """Every agent of the tenant: the built-in FinOps and RevOps agents (created on first
    use) and the agents registered here."""
    return AgentList(
        agents=[AgentOut.model_validate(a) for a in await registry.list_agents(session)]
    )


@router.post("/agents", status_code=201, operation_id="registerAgent")
async def register_agent(admin: Admin, session: TenantSession, body: AgentSpec) -> AgentCreated:
    """Register an agent: a third-party one (its token is in this answer, and only here)
    or an internal one running a built-in analysis with its own parameters."""
    row, token = await registry.register_agent(session, body, created_by=admin.user_id)
    await session.flush()
    await session.refresh(row)
    return AgentCreated.model_validate(row).model_copy(update={"token": token})


@router.get("/agents/{agent_id}", operation_id="getAgent")
async def get_agent(agent_id: uuid.UUID, _: Viewer, session: TenantSession) -> AgentOut:
    return AgentOut.model_validate(await registry.get_agent(session, agent_id))


@router.patch("/agents/{agent_id}", operation_id="updateAgent")
async def update_agent(
    agent_id: uuid.UUID, _: Operator, session: TenantSession, body: AgentPatch
) -> AgentOut:
    """Change an agent's owner, description, schedule (cron, UTC; '' removes it), whether
    it runs after materialisations, its parameters, or disable it."""
    row = await registry.update_agent(session, agent_id, body)
    await session.flush()
    await session.refresh(row)
    return AgentOut.model_validate(row)


@router.post(
    "/agents/{agent_id}/runs",
    status_code=202,
    operation_id="startAgentRun",
    responses={
        201: {"model": RunOut, "description": "A third-party agent's new run was recorded."}
    },
)
async def start_run(
    agent_id: uuid.UUID,
    token: BearerToken,
    request: Request,
    db: DbDep,
    runner: AgentRunnerDep,
    response: Response,
    body: Annotated[StartRunIn | RunReport | None, Body()] = None,
) -> RunOut:
    """A user (operator role) starts a run of an internal agent: 202, queued, executed
    right after. A third-party agent, with its own token as the Bearer token, reports a
    run it made (a ``RunReport``): 201 when new, 200 when the report repeats one
    (same ``external_id``)."""
    # who is asking and whether the agent is theirs come first: a body of the wrong kind
    # for another tenant's agent answers 404 like any request about it
    if token is not None and token.startswith(f"{tokens.PREFIX}."):
        tenant_id, agent = await registry.authenticate(db, token, agent_id)
        if not isinstance(body, RunReport):
            raise AgentInputError("an agent reports its run: the body is a run report")
        async with db.tenant_session(tenant_id) as s:
            run, created = await run_store.report_run(s, agent, body)
            await s.flush()
            await s.refresh(run)
            out = RunOut.model_validate(run)
        response.status_code = 201 if created else 200
        return out
    principal = await authenticate(request, token)
    if not principal.role.allows(Role.OPERATOR):
        raise ApiError(403, "forbidden", "this action needs the operator role")
    async with db.tenant_session(principal.tenant_id) as s:
        await registry.get_agent(s, agent_id)
        if isinstance(body, RunReport):
            raise AgentInputError("run reports come from the agent itself, with its own token")
        params = body.params if body is not None else {}
        run, _ = await run_store.request_run(
            s,
            agent_id,
            trigger=RunTrigger.MANUAL,
            params=params,
            requested_by=principal.user_id,
        )
        await s.refresh(run)
        out = RunOut.model_validate(run)
    await runner.submit(principal.tenant_id, [out.id])  # committed: it can be claimed
    return out


@router.get("/runs", operation_id="listAgentRuns")
async def list_runs(
    _: Viewer,
    session: TenantSession,
    agent: AgentRef = None,
    status: RunStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RunList:
    """Runs, newest first; filter by ``agent`` (id or name) and ``status``."""
    page = await run_store.list_runs(
        session,
        agent_id=await _agent_id(session, agent),
        status=status,
        limit=limit,
        offset=offset,
    )
    return RunList(
        runs=[RunSummary.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/runs/{agent_run_id}", operation_id="getAgentRun")
async def get_run(agent_run_id: uuid.UUID, _: Viewer, session: TenantSession) -> RunOut:
    """One run with its inputs, analytics summary, duration, LLM usage and error."""
    return RunOut.model_validate(await run_store.get_run(session, agent_run_id))


@router.post("/runs/{agent_run_id}/cancel", operation_id="cancelAgentRun")
async def cancel_run(
    agent_run_id: uuid.UUID, op: Operator, db: DbDep, runner: AgentRunnerDep
) -> RunOut:
    """Cancel a queued or running run (409 for a finished one); a running analysis is
    stopped where the runner can, and its late result is dropped in any case."""
    async with db.tenant_session(op.tenant_id) as s:
        run = await run_store.cancel_run(s, agent_run_id)
        out = RunOut.model_validate(run)
    await runner.cancel(op.tenant_id, agent_run_id)
    return out


@router.get("/findings", operation_id="listAgentFindings")
async def list_findings(
    _: Viewer,
    session: TenantSession,
    agent: AgentRef = None,
    severity: Annotated[Severity | None, Query(description="This severity and above")] = None,
    since: Annotated[IsoDateTime | None, Query(description="Found at or after")] = None,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    agent_run_id: Annotated[uuid.UUID | None, Query(description="One run's findings")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> FindingList:
    """Findings of every agent, newest first."""
    page = await run_store.list_findings(
        session,
        agent_id=await _agent_id(session, agent),
        run_id=agent_run_id,
        min_severity=severity,
        kind=kind,
        since=since,
        limit=limit,
        offset=offset,
    )
    return FindingList(
        findings=[FindingOut.model_validate(f) for f in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/metrics", operation_id="getAgentMetrics")
async def get_metrics(
    _: Viewer,
    session: TenantSession,
    since: Annotated[IsoDateTime | None, Query(description="Default: 30 days before until")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Default: now")] = None,
) -> TenantMetricsOut:
    """xAO: per agent (internal and third-party) and for the tenant — runs by status,
    success rate, p50/p95 duration, findings by severity, LLM calls, tokens and cost."""
    if since is not None and until is not None and since >= until:
        raise AgentInputError("since must be before until")
    return TenantMetricsOut.of(await agent_metrics(session, since=since, until=until))
