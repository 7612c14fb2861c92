"""The sync admission queue: limits, round-robin between tenants, idempotence."""

from __future__ import annotations

import asyncio

import pytest

from autonomos.aam.admission import AdmissionLimits, FairAdmission, FairQueue


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        AdmissionLimits(total=0)
    with pytest.raises(ValueError):
        AdmissionLimits(per_tenant=0)


def test_round_robin_between_tenants_within_limits() -> None:
    q = FairQueue(AdmissionLimits(total=3, per_tenant=2))
    for i in range(6):
        q.submit("hot", f"h{i}")
    q.submit("cold", "c0")
    q.submit("cold", "c1")
    # the hot tenant is capped at 2; the third slot goes to the other tenant
    assert q.grant() == [("hot", "h0"), ("cold", "c0"), ("hot", "h1")]
    assert q.running == 3 and q.grant() == []
    q.release("hot", "h0")
    assert q.grant() == [("cold", "c1")]  # its turn, though h2 waited longer
    q.release("cold", "c0")
    assert q.grant() == [("hot", "h2")]
    q.release("cold", "c1")
    assert q.grant() == []  # hot holds its 2: one slot stays free rather than break the cap
    assert q.snapshot()["waiting"] == {"hot": ["h3", "h4", "h5"]}


def test_submit_and_release_are_idempotent() -> None:
    q = FairQueue(AdmissionLimits(total=1, per_tenant=1))
    q.submit("a", "r1")
    q.submit("a", "r1")
    q.submit("b", "r2")
    assert q.grant() == [("a", "r1")]
    q.submit("a", "r1")  # asked again while holding: nothing changes
    assert q.holds("a", "r1") and q.grant() == []
    assert q.release("b", "r2") is True  # a waiting run leaves the queue
    assert q.release("b", "r2") is False
    assert q.release("a", "r1") is True and q.grant() == []
    assert q.snapshot() == {"limits": {"total": 1, "per_tenant": 1}, "running": {}, "waiting": {}}


async def test_fair_admission_awaits_a_slot() -> None:
    adm = FairAdmission(AdmissionLimits(total=1, per_tenant=1))
    assert await adm.acquire("a", "r1") < 0.05
    assert adm.queue.holds("a", "r1")
    waiter = asyncio.create_task(adm.acquire("b", "r2"))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    assert await adm.acquire("a", "r1") == 0.0  # a retry of the holder keeps its slot
    adm.release("a", "r1")
    assert await asyncio.wait_for(waiter, 1) >= 0.04
    # a waiter that gives up leaves the queue; the next one is served
    late = asyncio.create_task(adm.acquire("c", "r3"))
    later = asyncio.create_task(adm.acquire("d", "r4"))
    await asyncio.sleep(0.01)
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    adm.release("b", "r2")
    await asyncio.wait_for(later, 1)
    assert adm.queue.holds("d", "r4") and not adm.queue.is_waiting("c", "r3")


def test_a_restarted_queue_counts_runs_in_flight_again() -> None:
    """The queue lost its state (its actor restarted) while two runs of ``a`` ran: once
    their holders re-assert their slots, new runs wait for the limits again."""
    q = FairQueue(AdmissionLimits(total=2, per_tenant=2))
    q.submit("b", "b0")  # asked before the holders spoke up: granted over nothing
    assert q.grant() == [("b", "b0")]
    assert q.adopt("a", "a0") and q.adopt("a", "a1")
    assert not q.adopt("a", "a0")  # re-asserting again changes nothing
    assert q.running == 3  # over the limit for a moment: nothing is pre-empted
    q.submit("c", "c0")
    assert q.grant() == []  # new work waits until the runs in flight end
    q.release("a", "a0")
    q.release("b", "b0")
    assert q.grant() == [("c", "c0")]
    q.submit("a", "a2")
    assert q.adopt("a", "a2") and not q.is_waiting("a", "a2")  # a waiting run that runs


async def test_adopting_a_waiting_run_ends_its_wait() -> None:
    admission = FairAdmission(AdmissionLimits(total=1, per_tenant=1))
    assert await admission.acquire("a", "r0") < 0.1
    waiting = asyncio.ensure_future(admission.acquire("b", "r1"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert admission.adopt("b", "r1")
    assert await asyncio.wait_for(waiting, 1) < 1
    assert admission.snapshot()["running"] == {"a": ["r0"], "b": ["r1"]}
