"""ConnectorActor: the Ray shell around :class:`~autonomos.aam.sync.SyncEngine` for one
connection of one tenant.

Fault tolerance comes from the engine, not from this actor: every committed batch moves
the stream's checkpoint in the same transaction as its manifest rows, so a run re-entered
after a crash resumes where the last commit left it. Ray restarts a killed actor
(``max_restarts``) and re-sends its in-flight ``run_sync`` (``max_task_retries``); the
retry simply resumes the run. Both are bounded so that a run that kills its process every
time (e.g. out of memory) ends up surfacing to the supervisor instead of looping forever.

Runs of one connection are serialised: two concurrent runs would both start from the
same checkpoint and land the same rows twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray

from autonomos.actors.admission import HOLD_RENEW_S, admission_handle
from autonomos.actors.process import process_info

if TYPE_CHECKING:
    from autonomos.aam.sync import SyncEngine
    from autonomos.aam.sync_runs import SyncStatus
    from autonomos.config import Settings

log = logging.getLogger("autonomos.actors.connector")

MAX_RESTARTS = 10
MAX_TASK_RETRIES = 5


class WrongTenantError(ValueError):
    """A run of another tenant reached this actor: a bug in the caller, never retryable."""


@ray.remote(num_cpus=0, max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES)
class ConnectorActor:
    """Named ``connector:<tenant>:<connection>``; created and owned by the supervisor."""

    def __init__(self, settings: Settings, tenant_id: UUID, connection_id: UUID | str) -> None:
        # Heavy imports here, not at module top: the supervisor imports this module only
        # to create the actor and should not pay for pyarrow and the connectors.
        from autonomos.aam.sync import SyncEngine
        from autonomos.common.private_files import restrict_umask
        from autonomos.events import bus_from_url
        from autonomos.events.log import EventLog
        from autonomos.store.session import Database

        restrict_umask()  # landed Parquet is private (0600 in 0700 folders)
        self.settings = settings
        self.tenant_id, self.connection_id = tenant_id, UUID(str(connection_id))
        db = Database(settings.app_database_url)
        self.events = EventLog.from_settings(settings, db)  # sync.*, drift.detected
        self.engine: SyncEngine = SyncEngine.from_settings(
            settings, db, bus_from_url(settings.redis_url), tenant_id
        )
        self._lock = asyncio.Lock()
        self._runs: dict[UUID, asyncio.Future[SyncStatus]] = {}

    async def run_sync(self, tenant_id: UUID, run_id: UUID) -> str:
        """Run or resume ``run_id`` to a finished status; returns that status.

        Idempotent: a second call for a run already in progress (a Ray retry racing a
        supervisor resubmission) waits for the same execution.
        """
        if tenant_id != self.tenant_id:
            raise WrongTenantError(f"run {run_id} of another tenant sent to {self.tenant_id}")
        fut = self._runs.get(run_id)
        if fut is None:
            fut = asyncio.ensure_future(self._run(run_id))
            self._runs[run_id] = fut
            fut.add_done_callback(lambda _: self._runs.pop(run_id, None))
        status = await asyncio.shield(fut)
        return status.value

    async def _run(self, run_id: UUID) -> SyncStatus:
        async with self._lock:
            # a slot from the cluster's fair queue (per-tenant limit, round-robin by tenant)
            admission = await asyncio.to_thread(admission_handle, self.settings)
            tenant, run = str(self.tenant_id), str(run_id)
            me = ray.get_runtime_context().current_actor
            await admission.acquire.remote(tenant, run, me)
            renew = asyncio.ensure_future(self._hold(admission, tenant, run, me))
            try:
                return await self.engine.run(self.tenant_id, run_id)
            finally:
                renew.cancel()
                await admission.release.remote(tenant, run)

    @staticmethod
    async def _hold(admission: Any, tenant: str, run: str, me: Any) -> None:
        """Re-assert the run's slot while it runs (the admission actor may restart empty)."""
        while True:
            await asyncio.sleep(HOLD_RENEW_S)
            try:
                await admission.hold.remote(tenant, run, me)
            except Exception as exc:  # restarting: the next period asks again
                log.debug("re-asserting the slot of run %s failed: %r", run, exc)

    def ping(self) -> dict[str, Any]:
        return {
            "connection_id": str(self.connection_id),
            "running": [str(r) for r in self._runs],
            **process_info(),
        }
