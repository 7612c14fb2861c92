"""RaySyncLauncher: what the HTTP API calls to start a sync run on the tenant's actors.

The caller has already committed the ``queued`` run; ``launch`` only hands it to the
tenant's supervisor (created on demand, detached, so it outlives the API replica that
created it) and returns without waiting for the sync. The caller must have connected to
Ray (``ray.init``) first.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray
from ray.exceptions import ActorDiedError

from autonomos.actors.naming import actor_name
from autonomos.actors.supervisor import DEFAULT_CHECK_S, DEFAULT_IDLE_S, TenantSupervisor

if TYPE_CHECKING:
    from autonomos.config import Settings


class RaySyncLauncher:
    """``idle_s``/``check_s`` apply to supervisors this launcher creates (see supervisor)."""

    def __init__(
        self,
        settings: Settings,
        *,
        idle_s: float = DEFAULT_IDLE_S,
        check_s: float = DEFAULT_CHECK_S,
    ) -> None:
        self.settings = settings
        self.namespace = settings.ray_namespace
        self.idle_s, self.check_s = idle_s, check_s

    def supervisor(self, tenant_id: UUID) -> Any:
        """The tenant's supervisor handle, created if it does not exist (blocking GCS call)."""
        return TenantSupervisor.options(  # type: ignore[attr-defined]
            name=actor_name("supervisor", tenant_id),
            namespace=self.namespace,
            get_if_exists=True,
            lifetime="detached",
        ).remote(
            self.settings,
            tenant_id,
            namespace=self.namespace,
            idle_s=self.idle_s,
            check_s=self.check_s,
        )

    async def launch(self, tenant_id: UUID, connection_id: UUID, run_id: UUID) -> None:
        """Hand the queued ``run_id`` to the tenant's actors; returns once it is submitted."""
        for attempt in (1, 2):
            handle = await asyncio.to_thread(self.supervisor, tenant_id)
            try:
                await handle.start_sync.remote(connection_id, run_id)
                return
            except ActorDiedError:
                # The name resolved to a supervisor that was being killed; its successor
                # is created on the next lookup.
                if attempt == 2:
                    raise

    async def status(self, tenant_id: UUID) -> dict[str, Any]:
        """The supervisor's view (children, in-flight runs); no actor is created for it."""
        try:
            handle = await asyncio.to_thread(
                ray.get_actor, actor_name("supervisor", tenant_id), namespace=self.namespace
            )
        except ValueError:
            return {
                "tenant_id": str(tenant_id),
                "supervisor": False,
                "children": {},
                "drift_monitor": False,
                "child_restarts": 0,
            }
        status: dict[str, Any] = await handle.status.remote()
        return {**status, "supervisor": True}
