"""The cluster's sync-admission actor: slots are granted in turn and a slot whose holder
died for good is freed by the holder check (its release never comes)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import ray

from autonomos.actors.admission import SyncAdmission
from tests.integration.actors.probe import Probe

pytestmark = pytest.mark.ray


async def test_dead_holder_frees_its_slot(ray_cluster: None) -> None:
    admission = SyncAdmission.remote(1, 1, check_s=0.2)  # type: ignore[attr-defined]
    holder = Probe.remote(None, uuid.uuid4())  # type: ignore[attr-defined]
    await holder.ping.remote()
    try:
        assert await admission.acquire.remote("a", "r1", holder) < 0.1
        assert await admission.acquire.remote("a", "r1", holder) == 0.0  # a retry keeps it
        waiting = admission.acquire.remote("b", "r2")
        await asyncio.sleep(0.5)
        status = await admission.status.remote()
        assert status["running"] == {"a": ["r1"]} and status["waiting"] == {"b": ["r2"]}
        ray.kill(holder, no_restart=True)  # dies holding r1's slot
        waited = await asyncio.wait_for(waiting, 20)
        assert waited >= 0.5
        status = await admission.status.remote()
        assert status["running"] == {"b": ["r2"]} and status["waiting"] == {}
        assert await admission.release.remote("b", "r2") is True
        await admission.set_limits.remote(2, 1)
        assert (await admission.status.remote())["limits"] == {"total": 2, "per_tenant": 1}
    finally:
        ray.kill(admission)


async def test_a_restarted_admission_counts_the_runs_in_flight_again(ray_cluster: None) -> None:
    admission = SyncAdmission.remote(1, 1, check_s=60)  # type: ignore[attr-defined]
    holder = Probe.remote(None, uuid.uuid4())  # type: ignore[attr-defined]
    await holder.ping.remote()
    try:
        await admission.acquire.remote("a", "r1", holder)
        ray.kill(admission, no_restart=False)  # restarts with an empty queue
        await asyncio.sleep(1)
        assert (await admission.status.remote())["running"] == {}
        assert await admission.hold.remote("a", "r1", holder) is True  # the holder speaks up
        assert await admission.hold.remote("a", "r1", holder) is False
        waiting = admission.acquire.remote("b", "r2")
        await asyncio.sleep(0.5)
        assert (await admission.status.remote())["waiting"] == {"b": ["r2"]}  # limits hold
        await admission.release.remote("a", "r1")
        assert await asyncio.wait_for(waiting, 10) >= 0.5
    finally:
        ray.kill(admission)
        ray.kill(holder)
