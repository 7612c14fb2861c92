"""Admission of sync runs: a per-tenant concurrency limit and fair queueing.

A sync run holds a slot from when it starts reading until it finishes. At most ``total``
runs hold one at a time, and at most ``per_tenant`` of one tenant's. Runs that must wait
queue per tenant (oldest first), and free slots go to the waiting tenants in turn
(round-robin), not to the oldest run overall: a tenant that queues a hundred syncs waits
behind its own backlog, while another tenant's single sync gets the next free slot. This
is the scheduling of Orleans-style virtual actors' "fair share" by tenant, at the
granularity of whole runs (a run is never pre-empted).

:class:`FairQueue` is the bookkeeping (no I/O, no clock); :class:`FairAdmission` makes
it awaitable for one event loop. The Ray shell (``actors/admission.py``) holds one
``FairAdmission`` for the whole cluster; the inline executor holds one per process.
Granting is idempotent per run: a run that asks again while it holds its slot (a
restarted actor retrying it) keeps the same slot. A holder re-asserts its slot
periodically (``adopt``), so a queue that lost its state counts the runs in flight again
within one period instead of admitting new ones over the limits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AdmissionLimits", "FairAdmission", "FairQueue"]


@dataclass(frozen=True)
class AdmissionLimits:
    total: int = 8  # runs at once, all tenants
    per_tenant: int = 2  # runs at once, one tenant

    def __post_init__(self) -> None:
        if self.total < 1 or self.per_tenant < 1:
            raise ValueError("admission limits must be at least 1")


@dataclass
class FairQueue:
    limits: AdmissionLimits = field(default_factory=AdmissionLimits)
    _waiting: dict[str, deque[str]] = field(default_factory=dict)  # tenant -> runs, FIFO
    _turns: deque[str] = field(default_factory=deque)  # tenants with waiting runs, in turn
    _running: dict[str, set[str]] = field(default_factory=dict)  # tenant -> runs holding

    @property
    def running(self) -> int:
        return sum(len(r) for r in self._running.values())

    def holds(self, tenant: str, run: str) -> bool:
        return run in self._running.get(tenant, ())

    def is_waiting(self, tenant: str, run: str) -> bool:
        return run in self._waiting.get(tenant, ())

    def submit(self, tenant: str, run: str) -> None:
        """Queue ``run`` (nothing if it already waits or holds a slot)."""
        if self.holds(tenant, run) or self.is_waiting(tenant, run):
            return
        queue = self._waiting.setdefault(tenant, deque())
        if not queue:
            self._turns.append(tenant)
        queue.append(run)

    def adopt(self, tenant: str, run: str) -> bool:
        """Count ``run`` as holding a slot without asking the limits: it is already
        running (its holder says so after this queue lost its state). False if it held one."""
        if self.holds(tenant, run):
            return False
        queue = self._waiting.get(tenant)
        if queue is not None and run in queue:
            self.release(tenant, run)
        self._running.setdefault(tenant, set()).add(run)
        return True

    def grant(self) -> list[tuple[str, str]]:
        """Give free slots to waiting runs, one tenant at a time in turn; the (tenant,
        run) pairs granted now."""
        granted: list[tuple[str, str]] = []
        skipped = 0  # tenants passed over in a row because they are at their own limit
        while self._turns and self.running < self.limits.total and skipped < len(self._turns):
            tenant = self._turns.popleft()
            holding = self._running.setdefault(tenant, set())
            if len(holding) >= self.limits.per_tenant:
                self._turns.append(tenant)
                skipped += 1
                continue
            skipped = 0
            run = self._waiting[tenant].popleft()
            holding.add(run)
            granted.append((tenant, run))
            if self._waiting[tenant]:
                self._turns.append(tenant)  # its next run waits for its next turn
            else:
                del self._waiting[tenant]
        return granted

    def release(self, tenant: str, run: str) -> bool:
        """Free ``run``'s slot, or take it out of the queue; False if it had neither."""
        holding = self._running.get(tenant)
        if holding is not None and run in holding:
            holding.discard(run)
            if not holding:
                del self._running[tenant]
            return True
        queue = self._waiting.get(tenant)
        if queue is not None and run in queue:
            queue.remove(run)
            if not queue:
                del self._waiting[tenant]
                self._turns.remove(tenant)
            return True
        return False

    def snapshot(self) -> dict[str, Any]:
        return {
            "limits": {"total": self.limits.total, "per_tenant": self.limits.per_tenant},
            "running": {t: sorted(r) for t, r in self._running.items()},
            "waiting": {t: list(q) for t, q in self._waiting.items()},
        }


class FairAdmission:
    """:class:`FairQueue` for one event loop: ``await acquire(tenant, run)`` returns once
    the run holds a slot (the seconds it waited); ``release`` frees it."""

    def __init__(self, limits: AdmissionLimits) -> None:
        self.queue = FairQueue(limits)
        self._granted: dict[tuple[str, str], asyncio.Future[None]] = {}
        self.waits: deque[tuple[str, float]] = deque(maxlen=1_000)  # (tenant, waited s)

    async def acquire(self, tenant: str, run: str) -> float:
        began = time.monotonic()
        if self.queue.holds(tenant, run):
            return 0.0
        key = (tenant, run)
        fut = self._granted.get(key)
        if fut is None:
            fut = self._granted[key] = asyncio.get_running_loop().create_future()
            self.queue.submit(tenant, run)
            self.dispatch()
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            if not fut.done():  # the caller gave up waiting: leave the queue
                self._granted.pop(key, None)
                self.queue.release(tenant, run)
                self.dispatch()
            raise
        waited = time.monotonic() - began
        self.waits.append((tenant, waited))
        return waited

    def release(self, tenant: str, run: str) -> bool:
        fut = self._granted.pop((tenant, run), None)
        if fut is not None and not fut.done():
            fut.cancel()
        released = self.queue.release(tenant, run)
        self.dispatch()
        return released

    def adopt(self, tenant: str, run: str) -> bool:
        """See :meth:`FairQueue.adopt`; a pending ``acquire`` of the run returns."""
        adopted = self.queue.adopt(tenant, run)
        fut = self._granted.pop((tenant, run), None)
        if fut is not None and not fut.done():
            fut.set_result(None)
        return adopted

    def dispatch(self) -> None:
        """Grant what the limits allow now (after a release or a change of limits)."""
        for key in self.queue.grant():
            fut = self._granted.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(None)

    def snapshot(self) -> dict[str, Any]:
        return self.queue.snapshot()
