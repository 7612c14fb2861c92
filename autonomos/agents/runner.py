"""Where queued runs of internal agents go to be executed, and the triggers that queue them.

:class:`AgentRunner` is the port: ``submit`` hands over runs already committed as
``queued``, ``cancel`` stops one being executed. The composition root picks the adapter
(``autonomos/runtime.py``): :class:`InlineAgentRunner` here, an asyncio task per run in
this process over the in-process DCL; ``autonomos.actors.agents.RayAgentRunner`` a Ray task
per run that asks the tenant's DCL actor for the analysis.

Triggers (on demand is the API's ``POST /api/v1/aoa/agents/{id}/runs``):

- :func:`after_materialize`: the hook a :class:`~autonomos.dcl.refresh.ViewRefresher`
  calls with the entities a refresh rebuilt; queues the agents that read them;
- :class:`AgentScheduler`: a loop that queues every tenant's due scheduled runs
  (:func:`~autonomos.agents.executor.queue_due`) and hands over runs left queued (a
  process that queued them died before submitting them).

No Ray here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select

from autonomos.agents.executor import (
    Analyzer,
    execute_run,
    queue_after_materialize,
    queue_due,
)
from autonomos.agents.run_store import fail_run
from autonomos.agents.runs import RunStatus
from autonomos.store.agent_models import AgentRunRow
from autonomos.store.base import utcnow
from autonomos.store.models import Tenant
from autonomos.store.session import Database

log = logging.getLogger("autonomos.agents.runner")

__all__ = [
    "AgentRunner",
    "AgentScheduler",
    "AnalyzerFor",
    "InlineAgentRunner",
    "MaterializedHook",
    "after_materialize",
]

# (tenant) -> the analyzer of that tenant's views
AnalyzerFor = Callable[[uuid.UUID], Awaitable[Analyzer]]
# (tenant, entities whose views were rebuilt) -> None
MaterializedHook = Callable[[uuid.UUID, Collection[str]], Awaitable[None]]

ORPHAN_AFTER = timedelta(minutes=2)  # a run queued this long was never handed over


class AgentRunner(Protocol):
    async def submit(self, tenant_id: uuid.UUID, run_ids: Sequence[uuid.UUID]) -> None:
        """Start executing runs committed as ``queued``; returns without waiting."""

    async def cancel(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None:
        """Stop executing ``run_id`` if this runner is (its status is the store's job)."""

    async def close(self) -> None: ...


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("agent run task failed: %r", task.exception())


class InlineAgentRunner:
    """An asyncio task per run in this process (``dcl_executor=inline``)."""

    def __init__(
        self, db: Database, analyzer_for: AnalyzerFor, *, timeout_s: float | None = None
    ) -> None:
        self.db, self.analyzer_for, self.timeout_s = db, analyzer_for, timeout_s
        self._tasks: dict[uuid.UUID, asyncio.Task[RunStatus]] = {}

    async def submit(self, tenant_id: uuid.UUID, run_ids: Sequence[uuid.UUID]) -> None:
        for run_id in run_ids:
            if run_id in self._tasks:
                continue  # already being executed
            task = asyncio.ensure_future(self._execute(tenant_id, run_id))
            self._tasks[run_id] = task
            task.add_done_callback(partial(self._done, run_id))

    async def _execute(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> RunStatus:
        analyze = await self.analyzer_for(tenant_id)
        return await execute_run(self.db, tenant_id, run_id, analyze, timeout_s=self.timeout_s)

    def _done(self, run_id: uuid.UUID, task: asyncio.Task[RunStatus]) -> None:
        self._tasks.pop(run_id, None)
        _log_failure(task)

    async def cancel(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()

    async def drain(self) -> None:
        """Wait until no run is being executed (tests, orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()  # the executor records them cancelled
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def after_materialize(db: Database, runner: AgentRunner) -> MaterializedHook:
    """The view refresher's hook: run the agents that read what was just rebuilt."""

    async def hook(tenant_id: uuid.UUID, entities: Collection[str]) -> None:
        run_ids = await queue_after_materialize(db, tenant_id, entities)
        if run_ids:
            await runner.submit(tenant_id, run_ids)

    return hook


async def tenant_ids(db: Database) -> list[uuid.UUID]:
    async with db.global_session() as s:
        return list(await s.scalars(select(Tenant.id).order_by(Tenant.id)))


async def orphaned_runs(db: Database, tenant_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Runs queued longer than ``ORPHAN_AFTER`` (whoever queued them never handed them
    over, or died first): the scheduler hands them over again."""
    async with db.tenant_session(tenant_id) as s:
        rows = await s.scalars(
            select(AgentRunRow.id)
            .where(
                AgentRunRow.status == RunStatus.QUEUED.value,
                AgentRunRow.created_at < now - ORPHAN_AFTER,
            )
            .order_by(AgentRunRow.created_at)
        )
        return list(rows)


STALL_GRACE = timedelta(minutes=1)


async def fail_stalled_runs(
    db: Database, tenant_id: uuid.UUID, now: datetime, run_timeout: timedelta
) -> list[uuid.UUID]:
    """Fail runs still ``running`` a grace period past the run timeout: an executor would
    have ended them by then, so it died (its process, or the Ray task's owner, went away)."""
    async with db.tenant_session(tenant_id) as s:
        stalled = list(
            await s.scalars(
                select(AgentRunRow.id).where(
                    AgentRunRow.status == RunStatus.RUNNING.value,
                    AgentRunRow.started_at < now - run_timeout - STALL_GRACE,
                )
            )
        )
        failed = []
        for run_id in stalled:
            error = (
                "its executor stopped before finishing (no result "
                f"{(run_timeout + STALL_GRACE).total_seconds():g} s after it started)"
            )
            if await fail_run(s, run_id, error, transient=True):
                failed.append(run_id)
    for run_id in failed:
        log.warning("tenant %s: agent run %s stalled; marked failed", tenant_id, run_id)
    return failed


class AgentScheduler:
    """Every ``interval_s``: each tenant's due scheduled runs, and its orphaned queued
    runs, handed to ``runner``; its stalled running runs failed (see
    :func:`fail_stalled_runs`).

    Restriction: a tick asks every tenant (one small indexed query each); a very large
    number of tenants wants the due time kept in a global index instead.
    """

    def __init__(
        self,
        db: Database,
        runner: AgentRunner,
        *,
        interval_s: float,
        run_timeout_s: float = 900.0,
    ) -> None:
        self.db, self.runner, self.interval_s = db, runner, interval_s
        self.run_timeout = timedelta(seconds=run_timeout_s)
        self._task: asyncio.Task[None] | None = None

    async def tick(
        self, now: datetime | None = None, tenants: Collection[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """One pass over ``tenants`` (default: all); the runs handed over, per tenant."""
        now = now or utcnow()
        handed: dict[uuid.UUID, list[uuid.UUID]] = {}
        for tenant_id in await tenant_ids(self.db) if tenants is None else tenants:
            try:
                await fail_stalled_runs(self.db, tenant_id, now, self.run_timeout)
                due = await queue_due(self.db, tenant_id, now)
                orphans = await orphaned_runs(self.db, tenant_id, now)
            except Exception:
                log.exception("tenant %s: scheduling agent runs failed", tenant_id)
                continue
            runs = list(dict.fromkeys([*due, *orphans]))
            if runs:
                await self.runner.submit(tenant_id, runs)
                handed[tenant_id] = runs
        return handed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("agent scheduler tick failed")
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
