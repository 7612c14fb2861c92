"""The agent registry on SQLite and Postgres: built-in agents, third-party registration
with a token shown once and stored hashed, authentication, schedules."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from autonomos.agents import registry, tokens
from autonomos.agents.errors import AgentAuthError, AgentConflict, AgentInputError, AgentNotFound
from autonomos.agents.executor import queue_due
from autonomos.agents.registry import AgentPatch, AgentSpec
from autonomos.agents.runs import RunTrigger
from autonomos.store.agent_models import AgentRow, AgentRunRow
from autonomos.store.base import utcnow
from autonomos.store.session import Database


async def third_party(
    db: Database, tenant: uuid.UUID, name: str = "churn-bot"
) -> tuple[AgentRow, str]:
    async with db.tenant_session(tenant) as s:
        row, token = await registry.register_agent(
            s, AgentSpec(name=name, owner="data-team", reads=["account", "ticket"])
        )
    assert token is not None
    return row, token


async def test_builtin_agents_exist_once_per_tenant(db: Database, tid: uuid.UUID) -> None:
    async with db.tenant_session(tid) as s:
        first = await registry.list_agents(s)
    async with db.tenant_session(tid) as s:
        again = await registry.list_agents(s)
        finops = await registry.get_agent_by_name(s, "finops")
    assert [a.name for a in first] == ["finops", "revops"] == [a.name for a in again]
    assert [a.id for a in first] == [a.id for a in again]
    assert (finops.kind, finops.code, finops.reads, finops.run_on_materialize) == (
        "internal",
        "finops",
        ["cloud_cost"],
        True,
    )
    assert finops.token_hash is None


async def test_third_party_token_is_shown_once_and_stored_hashed(
    db: Database, tid: uuid.UUID
) -> None:
    row, token = await third_party(db, tid)
    async with db.tenant_session(tid) as s:
        stored = await s.scalar(select(AgentRow).where(AgentRow.id == row.id))
    assert stored is not None
    assert stored.token_hash == tokens.digest(token) and token not in (stored.token_hint or "")
    assert (stored.kind, stored.reads, stored.owner) == (
        "third_party",
        ["account", "ticket"],
        "data-team",
    )
    tenant, agent = await registry.authenticate(db, token)
    assert (tenant, agent.id) == (tid, row.id)
    assert (await registry.authenticate(db, token, row.id))[1].id == row.id


async def test_wrong_and_foreign_tokens(db: Database, tid: uuid.UUID) -> None:
    mine, token = await third_party(db, tid)
    other_tenant = uuid.uuid4()
    theirs, their_token = await third_party(db, other_tenant, "their-bot")
    secret = token.rsplit(".", 1)[1]

    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character off
        f"aat.{tid.hex}.{uuid.uuid4().hex}.{secret}",  # an agent that does not exist
        f"aat.{other_tenant.hex}.{mine.id.hex}.{secret}",  # my agent claimed under their tenant
        "Bearer nonsense",
    ):
        with pytest.raises(AgentAuthError, match="invalid agent token"):
            await registry.authenticate(db, bad)
    # their valid token, about my agent: my agent does not exist in their tenant -> 404
    with pytest.raises(AgentNotFound):
        await registry.authenticate(db, their_token, mine.id)
    # my valid token about another of my agents -> 401, not mine to report for
    sibling, _ = await third_party(db, tid, "sibling-bot")
    with pytest.raises(AgentAuthError, match="does not belong"):
        await registry.authenticate(db, token, sibling.id)
    # an agent id that exists nowhere -> 404 like a missing one
    with pytest.raises(AgentNotFound):
        await registry.authenticate(db, token, uuid.uuid4())
    assert theirs.tenant_id == other_tenant


async def test_rotated_or_disabled_tokens_stop_working(db: Database, tid: uuid.UUID) -> None:
    row, token = await third_party(db, tid)
    async with db.tenant_session(tid) as s:
        new = await registry.rotate_token(s, row.id)
    with pytest.raises(AgentAuthError):
        await registry.authenticate(db, token)
    assert (await registry.authenticate(db, new))[1].id == row.id
    async with db.tenant_session(tid) as s:
        await registry.update_agent(s, row.id, AgentPatch(enabled=False))
    with pytest.raises(AgentAuthError):
        await registry.authenticate(db, new)
    async with db.tenant_session(tid) as s:
        finops = await registry.get_agent_by_name(s, "finops")
        with pytest.raises(AgentConflict):
            await registry.rotate_token(s, finops.id)


async def test_registration_is_validated(db: Database, tid: uuid.UUID) -> None:
    await third_party(db, tid)
    async with db.tenant_session(tid) as s:
        with pytest.raises(AgentConflict, match="exists already"):
            await registry.register_agent(s, AgentSpec(name="churn-bot"))
        with pytest.raises(AgentConflict, match="reserved"):
            await registry.register_agent(s, AgentSpec(name="finops"))
        with pytest.raises(AgentInputError, match="no code"):
            await registry.register_agent(s, AgentSpec(name="x-bot", params={"a": 1}))
        with pytest.raises(AgentInputError, match="built-in code"):
            await registry.register_agent(s, AgentSpec(name="y-bot", kind="internal"))
        with pytest.raises(AgentInputError, match="anomaly_z"):
            await registry.register_agent(
                s,
                AgentSpec(
                    name="strict-finops", kind="internal", code="finops", params={"anomaly_z": 0}
                ),
            )
        row, token = await registry.register_agent(
            s,
            AgentSpec(
                name="budget-finops",
                kind="internal",
                code="finops",
                params={"monthly_budget": 50000},
                schedule="0 6 * * 1-5",
            ),
        )
    assert token is None and row.params == {"monthly_budget": 50000.0}
    assert row.next_run_at is not None and row.next_run_at > utcnow()
    for bad in ("every day", "* * * * *", "0 6 * *", "61 * * * *"):
        with pytest.raises(ValidationError):
            AgentSpec(name="z", schedule=bad)
    with pytest.raises(ValidationError):
        AgentSpec(name="Upper Case")


async def test_due_schedules_queue_runs_and_move_on(db: Database, tid: uuid.UUID) -> None:
    async with db.tenant_session(tid) as s:
        row, _ = await registry.register_agent(
            s, AgentSpec(name="nightly", kind="internal", code="revops", schedule="0 2 * * *")
        )
        row.next_run_at = utcnow() - timedelta(minutes=1)
    now = utcnow()
    (run_id,) = await queue_due(db, tid, now)
    assert await queue_due(db, tid, now) == []  # moved on: not due twice
    async with db.tenant_session(tid) as s:
        run = await s.get(AgentRunRow, run_id)
        agent = await registry.get_agent(s, row.id)
    assert run is not None and run.trigger == RunTrigger.SCHEDULE.value
    assert agent.next_run_at is not None and agent.next_run_at > now
    assert agent.next_run_at.hour == 2 and agent.next_run_at.minute == 0


async def test_another_tenants_agent_is_not_found(db: Database, tid: uuid.UUID) -> None:
    row, _ = await third_party(db, tid)
    async with db.tenant_session(uuid.uuid4()) as s:
        with pytest.raises(AgentNotFound):
            await registry.get_agent(s, row.id)
        assert [a.name for a in await registry.list_agents(s)] == ["finops", "revops"]
