"""Internal agent runs on Ray: a task per run, and the one scheduler of the cluster.

:func:`run_agent` is a Ray task (``num_cpus=0``: it only waits, on SQL and on the tenant's
``dcl:<tenant>`` actor, which runs the analysis on its own read cursor because it owns
the DuckDB file). It takes a run already committed as ``queued`` through the core's
:func:`~autonomos.agents.executor.execute_run`, which claims it first: a run handed over
twice (the scheduler re-submits runs left queued) is executed once.

:class:`RayAgentRunner` is the :class:`~autonomos.agents.runner.AgentRunner` the
composition root picks when the DCL lives in Ray. :class:`AgentSchedulerActor` is a
detached singleton (``agent-scheduler`` in the AutonomOS namespace) running
:class:`~autonomos.agents.runner.AgentScheduler`; every API replica gets-or-creates it at
start-up (:func:`ensure_scheduler`), so there is one however many replicas run.

A run task is owned by the process that submitted it; if that process dies while the
run is ``running``, Ray ends the task with it and the scheduler fails the run once it is
``AUTONOMOS_AGENT_RUN_TIMEOUT_S`` plus a minute old (a live executor would have ended it
by then).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import uuid
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import ray

if TYPE_CHECKING:
    from autonomos.config import Settings

log = logging.getLogger("autonomos.actors.agents")

SCHEDULER_NAME = "agent-scheduler"


async def _execute(settings: Settings, tenant_id: uuid.UUID, run_id: uuid.UUID) -> str:
    from autonomos.actors.dcl import RayDCL
    from autonomos.agents.executor import execute_run
    from autonomos.events.log import EventLog
    from autonomos.store.session import Database

    db = Database(settings.app_database_url)
    # this task's run events are numbered (and fanned out) before it returns
    events = EventLog.from_settings(settings, db)
    dcl = RayDCL(settings)

    async def analyze(code: str, params: dict[str, Any]) -> dict[str, Any]:
        return await dcl.analyze(tenant_id, code, params)

    try:
        status = await execute_run(
            db, tenant_id, run_id, analyze, timeout_s=settings.agent_run_timeout_s
        )
        return status.value
    finally:
        await events.close()
        await dcl.close()
        await db.dispose()


@ray.remote(num_cpus=0, max_retries=0)
def run_agent(settings: Settings, tenant_id: uuid.UUID, run_id: uuid.UUID) -> str:
    """Execute one queued run; its final status. Not retried by Ray: a run that failed
    is recorded as failed (a retry is a new run)."""
    return asyncio.run(_execute(settings, tenant_id, run_id))


class RayAgentRunner:
    """``AgentRunner``: a :func:`run_agent` task per run (the caller connected to Ray)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._refs: dict[uuid.UUID, Any] = {}

    async def submit(self, tenant_id: uuid.UUID, run_ids: Sequence[uuid.UUID]) -> None:
        for run_id in run_ids:
            if run_id in self._refs:
                continue
            ref = run_agent.options(name=f"agent-run:{run_id}").remote(
                self.settings, tenant_id, run_id
            )
            self._refs[run_id] = ref
            # a plain future's callback (Ray's thread): no event loop needs to outlive it
            ref.future().add_done_callback(partial(self._done, run_id))

    def _done(self, run_id: uuid.UUID, future: concurrent.futures.Future[Any]) -> None:
        self._refs.pop(run_id, None)
        if not future.cancelled() and future.exception() is not None:
            log.error("agent run %s: its task failed: %r", run_id, future.exception())

    async def cancel(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None:
        ref = self._refs.get(run_id)
        if ref is not None:
            ray.cancel(ref)

    async def close(self) -> None:
        """Runs go on without this process (until it exits; see the module docstring)."""
        self._refs.clear()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class AgentSchedulerActor:
    """The cluster's one agent scheduler; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        from autonomos.agents.runner import AgentScheduler
        from autonomos.events.log import EventLog
        from autonomos.store.session import Database

        db = Database(settings.app_database_url)
        self.events = EventLog.from_settings(settings, db)  # the runs it queues
        self.scheduler = AgentScheduler(
            db,
            RayAgentRunner(settings),
            interval_s=settings.agent_scheduler_s,
            run_timeout_s=settings.agent_run_timeout_s,
        )
        self.scheduler.start()  # Ray runs an async actor's __init__ inside its event loop

    async def tick(self) -> dict[str, list[str]]:
        """One pass now (besides the periodic ones); the runs handed over, per tenant."""
        handed = await self.scheduler.tick()
        return {str(t): [str(r) for r in runs] for t, runs in handed.items()}

    def ping(self) -> bool:
        return True


def ensure_scheduler(settings: Settings) -> Any:
    """The scheduler singleton, created if absent (blocking GCS call; call from a thread)."""
    return AgentSchedulerActor.options(  # type: ignore[attr-defined]
        name=SCHEDULER_NAME,
        namespace=settings.ray_namespace,
        get_if_exists=True,
        lifetime="detached",
    ).remote(settings)
