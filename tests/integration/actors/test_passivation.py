"""Virtual actors: an idle tenant ends with no actor process at all; extra child kinds
registered on the supervisor; the DriftMonitor rebuilt from SQL after a restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from autonomos.actors.children import ChildSpec
from autonomos.actors.launcher import RaySyncLauncher
from autonomos.actors.naming import actor_name
from autonomos.config import Settings
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.actors import (
    assert_landed_exactly,
    connectors,
    files_connection,
    new_run,
    tenant_id,
    wait_for,
    write_csv,
)

pytestmark = pytest.mark.ray

PROBE = "tests.integration.actors.probe:Probe"


def tenant_actors(tid: uuid.UUID) -> list[str]:
    """Names of the live named actors of one tenant, in any namespace."""
    return sorted(
        a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if str(tid) in a["name"]
    )


async def eventually(check: Callable[[], bool], what: str, within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def test_idle_tenant_has_no_actor_left_and_next_sync_works(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    launcher = RaySyncLauncher(settings, idle_s=1.0, check_s=0.2)
    tid = await tenant_id(api, tenant_a, cleanup)
    write_csv(tmp_path / "a.csv", 100)
    cid = await files_connection(db, tid, tmp_path)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    assert (await wait_for(db, tid, run_id)).status == "succeeded"
    monitor = await launcher.call(tid, "ensure_child", "drift")  # a second kind of child
    await monitor.ping.remote()
    assert {actor_name("supervisor", tid), actor_name("drift", tid)} <= set(tenant_actors(tid))
    await eventually(lambda: tenant_actors(tid) == [], "the idle tenant still has actors")
    assert (await launcher.status(tid))["supervisor"] is False
    # the next sync re-creates the supervisor and its connector on demand
    write_csv(tmp_path / "b.csv", 250, start=100)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    run = await wait_for(db, tid, run_id)
    assert run.status == "succeeded" and run.records_written == 150
    await assert_landed_exactly(db, settings, tid, cid, 250)
    assert actor_name("supervisor", tid) in tenant_actors(tid)


async def test_launch_racing_a_passivating_supervisor(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    """A launch that reaches a supervisor as it exits is retried on its successor."""
    launcher = RaySyncLauncher(settings, idle_s=0.5, check_s=60)  # we passivate it ourselves
    tid = await tenant_id(api, tenant_a, cleanup)
    write_csv(tmp_path / "a.csv", 50)
    cid = await files_connection(db, tid, tmp_path)
    first = await asyncio.to_thread(launcher.supervisor, tid)
    assert (await first.status.remote())["children"] == {}
    await asyncio.sleep(0.6)
    run_id = await new_run(db, tid, cid)
    lookups: list[uuid.UUID] = []
    lookup = launcher.supervisor

    def racing_lookup(t: uuid.UUID) -> Any:
        """The first lookup resolves the name just before the supervisor exits."""
        lookups.append(t)
        return first if len(lookups) == 1 else lookup(t)

    launcher.supervisor = racing_lookup  # type: ignore[method-assign,assignment]
    exiting = first.passivate_if_idle.options(max_task_retries=0).remote()
    await launcher.launch(tid, cid, run_id)  # queued behind the exit: fails, then retried
    assert len(lookups) >= 2
    run = await wait_for(db, tid, run_id)
    assert run.status == "succeeded" and run.records_written == 50
    with pytest.raises(ray.exceptions.RayActorError):
        await exiting
    with pytest.raises(ray.exceptions.ActorDiedError):
        await first.status.remote()
    assert connectors(await launcher.status(tid)) == [str(cid)]


async def test_registered_child_kinds(
    api: httpx.AsyncClient,
    settings: Settings,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
) -> None:
    kinds = {"repair": ChildSpec(PROBE, busy="busy"), "dcl": ChildSpec(PROBE, keyed=True)}
    launcher = RaySyncLauncher(settings, idle_s=1.0, check_s=0.2, kinds=kinds)
    tid = await tenant_id(api, tenant_a, cleanup)
    repair = await launcher.call(tid, "ensure_child", "repair")
    await repair.set_busy.remote(True)  # (waits for the process to start)
    dcl = await launcher.call(tid, "ensure_child", "dcl", "views")
    assert (await dcl.ping.remote())["id"] == "views"
    assert (await repair.ping.remote())["tenant_id"] == str(tid)
    for bad in (("nope",), ("dcl",), ("repair", "x")):  # unknown kind, id missing, id extra
        with pytest.raises(ValueError):
            await launcher.call(tid, "ensure_child", *bad)
    # the idle child goes; the busy one (and so the supervisor) outlives the idle time
    repair_name, dcl_name = actor_name("repair", tid), actor_name("dcl", tid, "views")
    await eventually(lambda: dcl_name not in tenant_actors(tid), "idle child not passivated")
    await asyncio.sleep(1.5)
    assert tenant_actors(tid) == sorted([repair_name, actor_name("supervisor", tid)])
    # a dead child is dropped by the periodic check and rebuilt on its next use
    pid = (await repair.ping.remote())["pid"]
    ray.kill(repair, no_restart=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            repair = await launcher.call(tid, "ensure_child", "repair")
            if (await repair.ping.remote())["pid"] != pid:
                break
        except ray.exceptions.ActorDiedError:
            pass
        assert time.monotonic() < deadline, "dead child was not rebuilt"
        await asyncio.sleep(0.1)
    assert (await launcher.status(tid))["child_restarts"] >= 1
    # the rebuilt child is not busy: it goes, and then the supervisor
    await eventually(lambda: tenant_actors(tid) == [], "the tenant still has actors")


async def test_drift_monitor_rebuilds_from_sql(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    # "repair" as a drift subscriber, the way the RepairAgent registers
    kinds = {"repair": ChildSpec(PROBE, on_drift="record")}
    launcher = RaySyncLauncher(settings, check_s=0.2, kinds=kinds)
    tid = await tenant_id(api, tenant_a, cleanup)
    write_csv(tmp_path / "orders.csv", 10)
    cid = await files_connection(db, tid, tmp_path)
    first = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, first)
    assert (await wait_for(db, tid, first)).status == "succeeded"
    (tmp_path / "orders.csv").write_text("id,name,amount,region\n5000,x,1.5,eu\n")
    second = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, second)
    assert (await wait_for(db, tid, second)).status == "succeeded"
    monitor = await launcher.call(tid, "ensure_child", "drift")
    deadline = time.monotonic() + 10
    while not (before := await monitor.latest.remote()):
        assert time.monotonic() < deadline, "drift never reached the DriftMonitor"
        await asyncio.sleep(0.05)
    assert [(e["stream"], e["run_id"], e["status"]) for e in before] == [
        ("orders", str(second), "applied")
    ]
    subscriber = await launcher.call(tid, "ensure_child", "repair")
    while not (received := await subscriber.events.remote()):
        assert time.monotonic() < deadline, "drift never reached the subscriber"
        await asyncio.sleep(0.05)
    assert [e["id"] for e in received] == [before[0]["id"]]
    fps = await monitor.fingerprints.remote(cid)
    assert [(f["stream"], f["fingerprint"], f["pending"]) for f in fps] == [
        ("orders", before[0]["new_fingerprint"], [])
    ]
    # Ray restarts the killed monitor: it starts empty and reads SQL back
    pid = (await monitor.ping.remote())["pid"]
    ray.kill(monitor, no_restart=False)
    deadline = time.monotonic() + 20
    while True:
        try:
            if (await monitor.ping.remote())["pid"] != pid:
                break
        except ray.exceptions.RayActorError:
            pass
        assert time.monotonic() < deadline, "the monitor was not restarted"
        await asyncio.sleep(0.1)
    assert await monitor.latest.remote() == before
    assert await monitor.fingerprints.remote() == fps
    # killed for good: the supervisor rebuilds it, again from SQL
    ray.kill(monitor, no_restart=True)
    assert await launcher.call(tid, "drift_latest") == before
    assert await launcher.call(tid, "drift_latest", uuid.uuid4()) == []
