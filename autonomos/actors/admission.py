"""SyncAdmission: the cluster's one sync-run admission queue (see
:mod:`autonomos.aam.admission`: a per-tenant limit and round-robin over tenants).

Named ``sync-admission`` in the AutonomOS namespace, detached, created by the first
connector actor that needs it. A ``ConnectorActor`` acquires a slot for each run before
the engine starts reading and releases it when the run ends. Slots are keyed by run, so
a connector that Ray restarts and that retries its run keeps the slot it held; a holder
that died for good (its release never comes) is found by a periodic ping and its slots
are freed. If this actor itself restarts, it starts empty: each holder re-asserts its
slot every ``HOLD_RENEW_S`` (:meth:`SyncAdmission.hold`), so the runs in flight are
counted again within that period (until then new runs may be admitted over the limits);
waiting ones ask again through Ray's task retry.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import ray
from ray.exceptions import ActorDiedError, RayActorError

from autonomos.aam.admission import AdmissionLimits, FairAdmission

if TYPE_CHECKING:
    from autonomos.config import Settings

log = logging.getLogger("autonomos.actors.admission")

NAME = "sync-admission"
HOLDER_CHECK_S = 5.0
HOLD_RENEW_S = 5.0


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)  # async: 1,000 calls at once
class SyncAdmission:
    def __init__(self, total: int, per_tenant: int, check_s: float = HOLDER_CHECK_S) -> None:
        self.admission = FairAdmission(AdmissionLimits(total, per_tenant))
        self._holders: dict[tuple[str, str], Any] = {}  # (tenant, run) -> holder handle
        self.check_s = check_s
        self._check = asyncio.get_running_loop().create_task(self._check_holders())

    async def acquire(self, tenant: str, run: str, holder: Any = None) -> float:
        """Wait for a slot for ``run``; the seconds waited."""
        waited = await self.admission.acquire(tenant, run)
        if holder is not None:
            self._holders[(tenant, run)] = holder
        return waited

    def hold(self, tenant: str, run: str, holder: Any = None) -> bool:
        """``run`` is running and holds a slot (its holder re-asserting it); True when
        this actor had lost it (it restarted) and counts it again."""
        if holder is not None:
            self._holders[(tenant, run)] = holder
        adopted = self.admission.adopt(tenant, run)
        if adopted:
            log.warning("sync run %s of tenant %s: slot re-asserted by its holder", run, tenant)
        return adopted

    def release(self, tenant: str, run: str) -> bool:
        self._holders.pop((tenant, run), None)
        return self.admission.release(tenant, run)

    def set_limits(self, total: int, per_tenant: int) -> None:
        """Change the limits (the first creator's settings apply until then)."""
        self.admission.queue.limits = AdmissionLimits(total, per_tenant)
        self.admission.dispatch()

    def status(self) -> dict[str, Any]:
        waits = list(self.admission.waits)
        return {**self.admission.snapshot(), "recent_waits": waits[-100:]}

    async def _check_holders(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            for key, holder in list(self._holders.items()):
                try:
                    await asyncio.wait_for(holder.ping.remote(), 10)
                except ActorDiedError:
                    log.warning("sync run %s of tenant %s: its actor died; slot freed", *key[::-1])
                    self.release(*key)
                except (TimeoutError, RayActorError):
                    pass  # restarting or slow: it will ask again or release


def admission_handle(settings: Settings) -> Any:
    """The cluster's admission actor, created if absent (blocking GCS call)."""
    return SyncAdmission.options(  # type: ignore[attr-defined]
        name=NAME, namespace=settings.ray_namespace, get_if_exists=True, lifetime="detached"
    ).remote(settings.sync_max_concurrency, settings.sync_tenant_max_concurrency)
