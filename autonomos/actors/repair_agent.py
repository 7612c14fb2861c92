"""RepairAgent: the Ray shell around :class:`~autonomos.aam.repair.agent.RepairService`
for one tenant, named ``repair:<tenant>`` in the platform namespace.

It receives drift events (the dicts the supervisor forwards to the DriftMonitor, see
``drift_monitor.drift_event_dict``; only their ``id`` is trusted, the rest is re-read from
SQL), turns them into repair proposals, and lets Safe Mode apply the confident,
non-destructive ones. All state is in SQL (proposals, ``repair_runs``), so the actor can
be passivated or die at any time: on every start it catches up with the drift events no
run has handled yet, and handling one event twice does nothing the second time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

import ray

from autonomos.actors.process import process_info

if TYPE_CHECKING:
    from autonomos.aam.repair.agent import RepairService
    from autonomos.config import Settings

log = logging.getLogger("autonomos.actors.repair_agent")

MAX_RESTARTS = 5
MAX_TASK_RETRIES = 3


class WrongTenantError(ValueError):
    """A drift event of another tenant reached this agent: a caller bug, never retryable."""


@ray.remote(num_cpus=0, max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES)
class RepairAgent:
    """Named ``repair:<tenant>``; created on demand and owned by the tenant's supervisor."""

    def __init__(self, settings: Settings, tenant_id: uuid.UUID) -> None:
        from autonomos.aam.repair.agent import RepairService
        from autonomos.actors.dcl import RayDCL
        from autonomos.common.private_files import restrict_umask
        from autonomos.dcl.refresh import ViewRefresher
        from autonomos.events.log import EventLog
        from autonomos.store.session import Database

        restrict_umask()  # the embeddings cache it may write is private (0600)
        self.tenant_id = tenant_id
        db = Database(settings.app_database_url)
        self.events = EventLog.from_settings(settings, db)  # repair.*, views.*
        # applied repairs refresh their views through the tenant's DCL actor
        self.service: RepairService = RepairService.from_settings(
            settings, db, ViewRefresher(db, RayDCL(settings))
        )
        self._lock = asyncio.Lock()  # one event at a time: proposals supersede in order
        self._in_flight = 0
        # Ray runs an async actor's __init__ in its event loop: catch up in the background.
        self._catch_up = asyncio.get_running_loop().create_task(self.catch_up())

    async def handle_drift(self, event: dict[str, Any]) -> dict[str, Any]:
        """Repair one drift event (``{"id", "tenant_id"?, ...}``); idempotent."""
        event_id = uuid.UUID(str(event["id"]))
        tenant = event.get("tenant_id")
        if tenant is not None and uuid.UUID(str(tenant)) != self.tenant_id:
            raise WrongTenantError(f"drift event of tenant {tenant} sent to {self.tenant_id}")
        self._in_flight += 1
        try:
            async with self._lock:
                result = await self.service.handle(self.tenant_id, event_id)
        finally:
            self._in_flight -= 1
        return result.__dict__

    async def catch_up(self) -> int:
        """Handle every drift event of the tenant that no run has handled yet."""
        self._in_flight += 1
        try:
            async with self._lock:
                return len(await self.service.catch_up(self.tenant_id))
        except Exception:
            log.exception("tenant %s: repair catch-up failed", self.tenant_id)
            return 0
        finally:
            self._in_flight -= 1

    def busy(self) -> bool:
        """True while events are being handled (the supervisor must not passivate it)."""
        return self._in_flight > 0

    def ping(self) -> dict[str, Any]:
        return {"tenant_id": str(self.tenant_id), "busy": self.busy(), **process_info()}
