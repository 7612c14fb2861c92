"""Running internal agents: the core every shell calls (an API task inline, a Ray task or
actor on a cluster), and the triggers that queue runs.

:func:`execute_run` takes a queued run through ``running`` to ``succeeded`` or
``failed``: it claims the run (so a second executor does nothing), asks an
:data:`Analyzer` for the report, and records the result with its findings in one
transaction. The analyzer is the port to where the tenant's DuckDB file lives: it gets
plain data (the agent's code name and parameters) and returns plain data (the report as
JSON), so in Ray mode it is a call on the tenant's DCL actor (see
``builtin.run_analysis``), inline it is :func:`local_analyzer` over a ``DCLService``.

Each state change is announced by the run store (``agent.run.<status>``,
``agent.finding``) in the transaction that makes it: the tenant's event log has it
exactly when the change committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.agents import registry
from autonomos.agents.builtin import run_analysis
from autonomos.agents.findings import AgentReport
from autonomos.agents.run_store import (
    abandon_run,
    claim_run,
    complete_run,
    fail_run,
    get_run,
    request_run,
)
from autonomos.agents.runs import RunStatus, RunTrigger
from autonomos.store.agent_models import AgentRunRow
from autonomos.store.session import Database

if TYPE_CHECKING:
    from autonomos.dcl.service import DCLService

log = logging.getLogger("autonomos.agents.executor")

Analyzer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def local_analyzer(service: DCLService) -> Analyzer:
    """Analyses on a tenant's DCL service in this process (a read cursor each)."""

    async def analyze(code: str, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await service.read(partial(run_analysis, code=code, params=params))
        return result

    return analyze


async def execute_run(
    db: Database,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    analyze: Analyzer,
    *,
    timeout_s: float | None = None,
) -> RunStatus:
    """Run a queued run to its end; its final status (or, when another executor or a
    cancellation got there first, the status it has). AgentNotFound for an unknown run."""
    async with db.tenant_session(tenant_id) as s:
        claimed = await claim_run(s, run_id)
        if claimed is None:
            return RunStatus((await get_run(s, run_id)).status)
        run, agent = claimed
    assert agent.code is not None
    started = time.perf_counter()
    error, transient, report = None, False, None
    try:
        result = await asyncio.wait_for(analyze(agent.code, dict(run.inputs)), timeout_s)
        report = AgentReport.model_validate(result)
    except TimeoutError:
        error, transient = f"the analysis did not finish within {timeout_s:g} s", True
    except asyncio.CancelledError:
        await _cancelled(db, tenant_id, run)
        raise
    except ValidationError as exc:
        log.error("tenant %s: run %s returned an invalid report: %s", tenant_id, run_id, exc)
        error = "the agent returned an invalid report"
    except Exception as exc:
        error, transient = _describe(exc, run_id)
    duration = round((time.perf_counter() - started) * 1000, 1)
    async with db.tenant_session(tenant_id) as s:
        if report is not None:
            rows = await complete_run(s, run, report, duration_ms=duration)
            if rows is None:
                return await _current(s, run_id)
            return RunStatus.SUCCEEDED
        assert error is not None
        if not await fail_run(s, run_id, error, transient=transient, duration_ms=duration):
            return await _current(s, run_id)
        return RunStatus.FAILED


def _describe(exc: Exception, run_id: uuid.UUID) -> tuple[str, bool]:
    """(message for the run record, transient?). Errors of the platform's packages say
    what failed; anything else is logged and recorded by type only (no internals)."""
    transient = bool(getattr(exc, "transient", False) or getattr(exc, "retryable", False))
    module = type(exc).__module__
    if module.startswith("autonomos."):
        return str(exc) or type(exc).__name__, transient
    log.exception("agent run %s failed", run_id)
    return f"internal error ({type(exc).__name__}); see the logs for run {run_id}", transient


async def _cancelled(db: Database, tenant_id: uuid.UUID, run: AgentRunRow) -> None:
    """The executing task itself was cancelled: the run ends cancelled (if still running)."""
    async with db.tenant_session(tenant_id) as s:
        await abandon_run(s, run.id)


async def _current(s: AsyncSession, run_id: uuid.UUID) -> RunStatus:
    return RunStatus((await get_run(s, run_id)).status)


async def queue_after_materialize(
    db: Database, tenant_id: uuid.UUID, entities: Iterable[str]
) -> list[uuid.UUID]:
    """Queue a run of every agent that reads one of ``entities`` and asked to run after
    their materialisation; the ids of the runs to execute (an identical queued run is
    reused, so a burst of syncs does not pile up runs)."""
    wanted = set(entities)
    if not wanted:
        return []
    async with db.tenant_session(tenant_id) as s:
        await registry.ensure_builtin_agents(s)
        ids = []
        for agent in await registry.agents_reading(s, wanted):
            run, _ = await request_run(s, agent.id, trigger=RunTrigger.MATERIALIZE)
            ids.append(run.id)
        return ids


async def queue_due(db: Database, tenant_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Queue a run of every agent whose schedule is due, and move its schedule on."""
    async with db.tenant_session(tenant_id) as s:
        ids = []
        for agent in await registry.due_agents(s, now):
            run, _ = await request_run(s, agent.id, trigger=RunTrigger.SCHEDULE)
            registry.advance_schedule(agent, now)
            ids.append(run.id)
        return ids
