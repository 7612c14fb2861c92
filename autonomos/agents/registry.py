"""The agent registry: internal and third-party agents of a tenant (tenant sessions only).

An agent has a name (unique in its tenant), a kind, an owner, a schedule and what it
reads. Internal agents (``kind=internal``) name the built-in ``code`` they run (see
``builtin``) with default ``params``; each tenant gets one row per built-in agent on
first use (:func:`ensure_builtin_agents`) and may register more with other parameters.
Third-party agents run elsewhere: registering one returns its token, once (see
``tokens``), with which it reports its runs.

Schedules are 5-field cron expressions in UTC (``0 6 * * 1-5``), at most one run per
``MIN_SCHEDULE_INTERVAL_S``; ``next_run_at`` is kept on the row so a scheduler only asks
for what is due (:func:`due_agents`, then :func:`advance_schedule`).
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.agents import tokens
from autonomos.agents.builtin import BUILTIN, internal_agent, validate_params
from autonomos.agents.errors import AgentAuthError, AgentConflict, AgentInputError, AgentNotFound
from autonomos.store.agent_models import AgentRow
from autonomos.store.base import utcnow
from autonomos.store.session import TENANT_KEY, Database

MIN_SCHEDULE_INTERVAL_S = 300
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"
VIEW_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class AgentKind(enum.StrEnum):
    INTERNAL = "internal"
    THIRD_PARTY = "third_party"


class AgentSpec(BaseModel):
    """What registering (or describing) an agent takes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="Lowercase, unique in the tenant")
    kind: AgentKind = AgentKind.THIRD_PARTY
    code: str | None = Field(None, description="Internal agents: the built-in code it runs")
    owner: str = Field("", max_length=200, description="Team or person responsible")
    description: str = Field("", max_length=2000)
    schedule: str | None = Field(None, description="Cron expression (UTC), or none")
    run_on_materialize: StrictBool = Field(
        False, description="Internal agents: run after the views they read are rebuilt"
    )
    reads: list[Annotated[str, StringConstraints(pattern=VIEW_PATTERN)]] = Field(
        default_factory=list, max_length=50, description="Views it reads"
    )
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return validate_schedule(value)

    @field_validator("reads")
    @classmethod
    def _reads(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                raise ValueError(f"{name!r} is not a view name")
        return sorted(set(value))


def validate_schedule(expr: str | None) -> str | None:
    """A normalised cron expression, or None; AgentInputError saying what is wrong."""
    if expr is None or not expr.strip():
        return None
    text = " ".join(expr.split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise AgentInputError(f"schedule {expr!r} is not a 5-field cron expression")
    it = croniter(text, datetime(2026, 1, 1, tzinfo=UTC))
    first, second = it.get_next(datetime), it.get_next(datetime)
    if (second - first).total_seconds() < MIN_SCHEDULE_INTERVAL_S:
        raise AgentInputError(
            f"schedule {expr!r} runs more often than every {MIN_SCHEDULE_INTERVAL_S // 60} minutes"
        )
    return text


def next_run(schedule: str | None, after: datetime) -> datetime | None:
    if schedule is None:
        return None
    value: datetime = croniter(schedule, after.astimezone(UTC)).get_next(datetime)
    return value.astimezone(UTC)


async def ensure_builtin_agents(s: AsyncSession) -> list[AgentRow]:
    """The tenant's rows for every built-in agent, created on first use (named after
    their code, run after each materialisation of what they read, no schedule)."""
    have = {
        r.name: r
        for r in await s.scalars(select(AgentRow).where(AgentRow.name.in_(sorted(BUILTIN))))
    }
    for code, agent in BUILTIN.items():
        if code in have:
            continue
        row = AgentRow(
            name=code,
            kind=AgentKind.INTERNAL.value,
            code=code,
            description=agent.description,
            owner="autonomos",
            run_on_materialize=True,
            reads=list(agent.reads),
            params={},
        )
        try:
            async with s.begin_nested():
                s.add(row)
        except IntegrityError:  # created meanwhile by another request
            continue
        have[code] = row
    return [have[c] for c in BUILTIN if c in have]


async def register_agent(
    s: AsyncSession, spec: AgentSpec, *, created_by: uuid.UUID | None = None
) -> tuple[AgentRow, str | None]:
    """Create an agent; for a third-party agent also its token (returned once)."""
    if spec.name in BUILTIN and not (spec.kind is AgentKind.INTERNAL and spec.code == spec.name):
        raise AgentConflict(f"the name {spec.name!r} is reserved for the built-in agent")
    if spec.kind is AgentKind.INTERNAL:
        if spec.code is None:
            raise AgentInputError("an internal agent names the built-in code it runs")
        builtin = internal_agent(spec.code)
        params = validate_params(spec.code, spec.params)
        reads = list(builtin.reads)
    else:
        if spec.code is not None or spec.params or spec.run_on_materialize:
            raise AgentInputError(
                "a third-party agent runs its own code: no code, params or run_on_materialize"
            )
        params, reads = {}, spec.reads
    row = AgentRow(
        id=uuid.uuid4(),
        name=spec.name,
        kind=spec.kind.value,
        code=spec.code,
        description=spec.description,
        owner=spec.owner,
        schedule=spec.schedule,
        run_on_materialize=spec.run_on_materialize,
        reads=reads,
        params=params,
        next_run_at=next_run(spec.schedule, utcnow()),
        created_by=created_by,
    )
    token = None
    if spec.kind is AgentKind.THIRD_PARTY:
        tenant_id = s.info[TENANT_KEY]
        token = tokens.issue(tenant_id, row.id)
        row.token_hash, row.token_hint = tokens.digest(token), tokens.hint(token)
    try:
        async with s.begin_nested():
            s.add(row)
    except IntegrityError:
        raise AgentConflict(f"an agent named {spec.name!r} exists already") from None
    return row, token


async def list_agents(s: AsyncSession) -> list[AgentRow]:
    await ensure_builtin_agents(s)
    return list(await s.scalars(select(AgentRow).order_by(AgentRow.kind, AgentRow.name)))


async def get_agent(s: AsyncSession, agent_id: uuid.UUID) -> AgentRow:
    row = await s.get(AgentRow, agent_id)
    if row is None:
        raise AgentNotFound("agent not found")
    return row


async def get_agent_by_name(s: AsyncSession, name: str) -> AgentRow:
    if name in BUILTIN:
        await ensure_builtin_agents(s)
    row = await s.scalar(select(AgentRow).where(AgentRow.name == name))
    if row is None:
        raise AgentNotFound("agent not found")
    return row


class AgentPatch(BaseModel):
    """Fields of an agent that may change after registration (None: unchanged)."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    enabled: StrictBool | None = None
    schedule: str | None = Field(None, description="Cron expression; '' removes it")
    run_on_materialize: StrictBool | None = None
    params: dict[str, Any] | None = None


async def update_agent(s: AsyncSession, agent_id: uuid.UUID, patch: AgentPatch) -> AgentRow:
    row = await get_agent(s, agent_id)
    internal = row.kind == AgentKind.INTERNAL.value
    if (patch.params is not None or patch.run_on_materialize) and not internal:
        raise AgentInputError("only internal agents take params or run_on_materialize")
    if patch.params is not None and row.code is not None:
        row.params = validate_params(row.code, patch.params)
    if patch.schedule is not None:
        row.schedule = validate_schedule(patch.schedule)
        row.next_run_at = next_run(row.schedule, utcnow())
    for name in ("owner", "description", "enabled", "run_on_materialize"):
        value = getattr(patch, name)
        if value is not None:
            setattr(row, name, value)
    return row


async def rotate_token(s: AsyncSession, agent_id: uuid.UUID) -> str:
    """A new token for a third-party agent; the old one stops working at once."""
    row = await get_agent(s, agent_id)
    if row.kind != AgentKind.THIRD_PARTY.value:
        raise AgentConflict("only third-party agents have tokens")
    token = tokens.issue(row.tenant_id, row.id)
    row.token_hash, row.token_hint = tokens.digest(token), tokens.hint(token)
    return token


async def authenticate(
    db: Database, token: str, agent_id: uuid.UUID | None = None
) -> tuple[uuid.UUID, AgentRow]:
    """(tenant id, agent) of a third-party agent's token.

    AgentAuthError for a malformed, unknown, rotated or disabled agent's token (the
    message never says which); when ``agent_id`` (the agent a request is about) is not
    the token's agent: AgentNotFound if no such agent exists in the token's tenant (as a
    missing one: another tenant's agent is never revealed), AgentAuthError otherwise.
    """
    tenant_id, token_agent = tokens.parse(token)
    async with db.tenant_session(tenant_id) as s:
        row = await s.get(AgentRow, token_agent)
        if row is None or not tokens.matches(token, row.token_hash) or not row.enabled:
            raise AgentAuthError("invalid agent token")
        if agent_id is not None and agent_id != row.id:
            if await s.get(AgentRow, agent_id) is None:
                raise AgentNotFound("agent not found")
            raise AgentAuthError("the token does not belong to this agent")
        s.expunge(row)
    return tenant_id, row


async def due_agents(s: AsyncSession, now: datetime) -> list[AgentRow]:
    """Enabled internal agents whose scheduled time has come."""
    rows = await s.scalars(
        select(AgentRow)
        .where(
            AgentRow.kind == AgentKind.INTERNAL.value,
            AgentRow.enabled.is_(True),
            AgentRow.next_run_at.is_not(None),
            AgentRow.next_run_at <= now,
        )
        .order_by(AgentRow.next_run_at)
    )
    return list(rows)


def advance_schedule(row: AgentRow, now: datetime) -> None:
    """Move ``next_run_at`` past ``now`` (missed slots are not run again)."""
    row.next_run_at = next_run(row.schedule, now)


async def agents_reading(s: AsyncSession, entities: Iterable[str]) -> list[AgentRow]:
    """Enabled internal agents to run after ``entities`` were materialised."""
    wanted = set(entities)
    rows = await s.scalars(
        select(AgentRow).where(
            AgentRow.kind == AgentKind.INTERNAL.value,
            AgentRow.enabled.is_(True),
            AgentRow.run_on_materialize.is_(True),
        )
    )
    return [r for r in rows if wanted & set(r.reads or [])]
