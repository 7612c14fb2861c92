"""RaySyncLauncher: what the HTTP API calls to start a sync run on the tenant's actors.

The caller has already committed the ``queued`` run; ``launch`` only hands it to the
tenant's supervisor (created on demand, detached, so it outlives the API replica that
created it) and returns without waiting for the sync. The caller must have connected to
Ray (``ray.init``) first.

An idle supervisor exits itself (see :mod:`autonomos.actors.supervisor`), so a lookup can
return one that is exiting: its calls then fail with ``ActorDiedError`` or
``SupervisorExiting``, and ``call`` looks the name up again until the GCS has released it
and a new supervisor is created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError

from autonomos.actors.children import ChildSpec
from autonomos.actors.naming import actor_name
from autonomos.actors.supervisor import (
    DEFAULT_CHECK_S,
    DEFAULT_IDLE_S,
    SupervisorExiting,
    TenantSupervisor,
)
from autonomos.actors.warm import get_or_create, pool

if TYPE_CHECKING:
    from autonomos.config import Settings

LOOKUP_ATTEMPTS = 8  # ~3 s of back-off in all


class RaySyncLauncher:
    """``idle_s``/``check_s``/``kinds`` apply to supervisors this launcher creates (see
    :class:`TenantSupervisor`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        idle_s: float = DEFAULT_IDLE_S,
        check_s: float = DEFAULT_CHECK_S,
        kinds: Mapping[str, ChildSpec] | None = None,
    ) -> None:
        self.settings = settings
        self.namespace = settings.ray_namespace
        self.idle_s, self.check_s = idle_s, check_s
        self.kinds = dict(kinds or {})

    def warm(self) -> None:
        """Fill the node's warm worker pool (``AUTONOMOS_ACTOR_WARM_WORKERS``, see
        :mod:`autonomos.actors.warm`); an API process calls this once Ray is connected."""
        pool(self.settings).fill()

    def supervisor(self, tenant_id: UUID) -> Any:
        """The tenant's supervisor handle, created if it does not exist (blocking GCS calls)."""
        return get_or_create(
            self.settings,
            TenantSupervisor,
            "supervisor",
            actor_name("supervisor", tenant_id),
            self.namespace,
            (self.settings, tenant_id),
            {
                "namespace": self.namespace,
                "idle_s": self.idle_s,
                "check_s": self.check_s,
                "kinds": self.kinds,
            },
            options={"lifetime": "detached"},
        )

    async def launch(self, tenant_id: UUID, connection_id: UUID, run_id: UUID) -> None:
        """Hand the queued ``run_id`` to the tenant's actors; returns once it is submitted."""
        await self.call(tenant_id, "start_sync", connection_id, run_id)

    async def call(self, tenant_id: UUID, method: str, *args: Any) -> Any:
        """Call ``method`` on the tenant's supervisor, re-creating one that is exiting."""
        for attempt in range(LOOKUP_ATTEMPTS):
            handle = await asyncio.to_thread(self.supervisor, tenant_id)
            try:
                return await getattr(handle, method).remote(*args)
            except (ActorDiedError, ActorUnavailableError, SupervisorExiting):
                # The name resolved to a supervisor that was passivating or being killed;
                # its successor is created by a later lookup, once the name is released.
                if attempt == LOOKUP_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")

    async def status(self, tenant_id: UUID) -> dict[str, Any]:
        """The supervisor's view (children, in-flight runs); no actor is created for it."""
        try:
            handle = await asyncio.to_thread(
                ray.get_actor, actor_name("supervisor", tenant_id), namespace=self.namespace
            )
            status: dict[str, Any] = await handle.status.remote()
        except (ValueError, ActorDiedError):  # none, or one that has just passivated
            return {
                "tenant_id": str(tenant_id),
                "supervisor": False,
                "children": {},
                "child_restarts": 0,
            }
        return {**status, "supervisor": True}
