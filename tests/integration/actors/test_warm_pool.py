"""The warm worker pool (:mod:`autonomos.actors.warm`): a tenant's activation takes a
prestarted Ray worker instead of starting a process, and a worker that has run anything
for one tenant is never given to another tenant's actor."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import psutil
import pytest
import ray

from autonomos.actors.launcher import RaySyncLauncher
from autonomos.actors.warm import WarmPool, idle_workers, local_raylet
from autonomos.config import Settings
from tests.integration.actors.probe import Marker

pytestmark = pytest.mark.ray


def _raylet() -> psutil.Process:
    raylet = local_raylet()
    assert raylet is not None, "the local raylet's process is not visible"
    return raylet


def worker_pids() -> set[int]:
    """Every process the local raylet has started (workers busy, idle or starting)."""
    return {child.pid for child in _raylet().children()}


def idle_pids() -> set[int]:
    """The local node's idle Ray workers."""
    return {p.pid for p in idle_workers(_raylet())}


async def until(check: Callable[[], Any], what: str, within_s: float = 60) -> Any:
    deadline = time.monotonic() + within_s
    while not (result := check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)
    return result


async def test_activation_takes_a_prestarted_worker(
    settings: Settings, launcher: RaySyncLauncher, cleanup: list[uuid.UUID]
) -> None:
    # every worker of the node, busy, idle or starting (a pool top-up timer of an earlier
    # test may be starting one now): the pool counts idle and starting workers, so a size
    # above the count of them all needs one more whatever they are doing
    before = worker_pids()
    warm = WarmPool(len(before) + 1, keep_s=120)
    warm.replace(delay_s=0)  # the node has fewer idle workers than the pool's size
    assert warm.requested == 1
    await until(lambda: idle_pids() - before, "the raylet started no worker")
    idle = idle_pids()
    full = WarmPool(len(idle), keep_s=120)
    full.replace(delay_s=0)  # as many idle as the pool's size: nothing to replace
    assert full.requested == 0
    one = WarmPool(1, keep_s=120)
    one.fill()  # an API process starting on a node that already has an idle worker
    await asyncio.sleep(0.5)
    assert one.requested == 0
    tid = uuid.uuid4()
    cleanup.append(tid)
    existing = worker_pids()
    status = await launcher.call(tid, "status")
    # no process started for this activation: its worker is one that was waiting (which
    # one is the raylet's choice: a worker another test left idle meanwhile is as good)
    assert status["process"]["pid"] in existing, idle
    assert warm.enabled


async def test_a_worker_that_served_one_tenant_is_not_given_to_another(
    settings: Settings,
) -> None:
    ns = settings.ray_namespace
    a = Marker.options(name=f"marker-{uuid.uuid4()}", namespace=ns, lifetime="detached").remote(
        "tenant-a"
    )
    b = None
    try:
        ran = set(await a.run_tasks.remote(3))
        # the task workers go back to the node's idle set, bound to tenant A's actor tree
        served = await until(lambda: ran & idle_pids(), "no worker of tenant A's tasks idle")
        b = Marker.options(name=f"marker-{uuid.uuid4()}", namespace=ns, lifetime="detached").remote(
            "tenant-b"
        )
        info = await b.ping.remote()
        assert info["pid"] not in served and info["marked"] is None
    finally:
        for handle in (a, b):
            if handle is not None:
                ray.kill(handle)


async def test_a_failing_raylet_call_turns_the_pool_off(ray_cluster: None) -> None:
    warm = WarmPool(10, keep_s=60)

    def broken(n: int) -> Any:
        raise RuntimeError("no PrestartWorkers here")

    warm._request = broken  # type: ignore[method-assign]
    warm.replace(delay_s=0)
    assert not warm.enabled and warm.requested == 0
    warm.fill()  # a no-op from now on
    assert warm.requested == 0
    assert WarmPool(0, keep_s=60).enabled is False
