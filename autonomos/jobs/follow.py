"""Following Ray job states in the background, so their events arrive without anyone asking.

Without it a job's row (and its ``job.<state>`` event) moves only when someone reads the
job (:meth:`JobService.get` / ``list``). :class:`JobFollower` asks the job server every
``interval_s`` seconds about every tenant's active jobs (queued, pending, running; and
failed or lost ones with retries left) and applies the answers through
:meth:`JobService.follow`: the same reconciliation a read does, so a queued job left by a
crash is submitted, a finished one gets its final status, a failed one with retries left
its next attempt, each change with its event, in its transaction.

One follower runs in every API process (``autonomos/runtime.py``): the row lock of each
change and the event recorded only when the status really moved make concurrent
followers (and readers) record every change once. A tick costs one query per tenant and,
only when some tenant has an active job, one ``list_jobs`` call to the job server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select

from autonomos.jobs.errors import JobServerError, JobServerUnavailable
from autonomos.jobs.service import JobService
from autonomos.store.jobs_models import Job
from autonomos.store.models import Tenant
from autonomos.store.session import Database

log = logging.getLogger("autonomos.jobs.follow")

__all__ = ["JobFollower"]


class JobFollower:
    def __init__(self, db: Database, jobs: JobService, *, interval_s: float) -> None:
        self.db, self.jobs, self.interval_s = db, jobs, interval_s
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> dict[uuid.UUID, int]:
        """One pass: per tenant with active jobs, how many of them changed status."""
        async with self.db.global_session() as s:
            tenants = list(await s.scalars(select(Tenant.id).order_by(Tenant.id)))
        active: dict[uuid.UUID, Sequence[Job]] = {}
        for tenant_id in tenants:
            jobs = await self.jobs.followed(tenant_id)
            if jobs:
                active[tenant_id] = jobs
        if not active:
            return {}
        try:
            remote = await self.jobs.server.infos()
        except (JobServerUnavailable, JobServerError) as exc:
            log.warning("following jobs: %s", exc)
            return {}
        changed: dict[uuid.UUID, int] = {}
        for tenant_id, jobs in active.items():
            try:
                changed[tenant_id] = await self.jobs.follow(tenant_id, jobs, remote)
            except (JobServerUnavailable, JobServerError) as exc:
                log.warning("following tenant %s's jobs: %s", tenant_id, exc)
            except Exception:
                log.exception("following tenant %s's jobs failed", tenant_id)
        return changed

    def start(self) -> None:
        """Tick every ``interval_s`` in the background (on the running event loop)."""
        if self._task is None and self.interval_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following jobs failed")
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
