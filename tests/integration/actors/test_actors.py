"""Tenant actors on the shared local Ray: syncs through the launcher, crash recovery,
tenant isolation, supervision and passivation. Every run is checked for exactly-once
landing: the manifest's row total and the ids in its Parquet files."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from autonomos.actors.launcher import RaySyncLauncher
from autonomos.actors.naming import actor_name
from autonomos.config import Settings
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database
from tests.conftest import Tenant, free_port
from tests.helpers.actors import (
    assert_landed_exactly,
    connectors,
    files_connection,
    make_connection,
    new_run,
    tenant_id,
    wait_for,
    write_csv,
)

pytestmark = pytest.mark.ray


def connector_actor(settings: Settings, tid: uuid.UUID, cid: uuid.UUID) -> Any:
    return ray.get_actor(actor_name("connector", tid, cid), namespace=settings.ray_namespace)


async def test_sync_through_launcher_and_drift_forwarded(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    launcher: RaySyncLauncher,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    tid = await tenant_id(api, tenant_a, cleanup)
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "orders.csv", 1_000)
    cid = await files_connection(db, tid, src)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    run = await wait_for(db, tid, run_id)
    assert run.status == "succeeded", run.error
    assert (run.records_read, run.records_written) == (1_000, 1_000)
    await assert_landed_exactly(db, settings, tid, cid, 1_000)
    status = await launcher.status(tid)
    assert status["supervisor"] and connectors(status) == [str(cid)]
    # the run row commits before the actor's task ends (the after-sync work follows it):
    # the connector lets go of the run soon after, not necessarily before this first look
    deadline = time.monotonic() + 30
    while status["children"][actor_name("connector", tid, cid)]["runs"]:
        assert time.monotonic() < deadline, f"the connector still holds {status['children']}"
        await asyncio.sleep(0.1)
        status = await launcher.status(tid)
    # the source adds a column: the drift of the finished run reaches the DriftMonitor
    (src / "orders.csv").write_text("id,name,amount,region\n" + "5000,x,1.5,eu\n")
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    assert (await wait_for(db, tid, run_id)).status == "succeeded"
    supervisor = ray.get_actor(actor_name("supervisor", tid), namespace=settings.ray_namespace)
    deadline = time.monotonic() + 10
    while not (latest := await supervisor.drift_latest.remote()):
        assert time.monotonic() < deadline, "drift never reached the DriftMonitor"
        await asyncio.sleep(0.05)
    assert [(e["connection_id"], e["stream"], e["run_id"]) for e in latest] == [
        (str(cid), "orders", str(run_id))
    ]
    assert any(c["kind"] == "added" for c in latest[0]["changes"])


async def test_supervisor_starts_lean(
    api: httpx.AsyncClient,
    launcher: RaySyncLauncher,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
) -> None:
    """Activation (the first call answered) needs no heavy library, and the supervisor's
    background set-up (database, event log, after-sync pipeline, agents' registry) loads
    none either: DuckDB, SciPy and pandas stay in the actors that use them. (pyarrow is
    loaded by Ray itself in every worker that deserialises arguments:
    ``ray.util.serialization_addons`` registers its Arrow serialisers when pyarrow is
    installed.)"""
    tid = await tenant_id(api, tenant_a, cleanup)
    status = await launcher.call(tid, "status")
    assert set(status["process"]["heavy_modules"]) <= {"pyarrow"}
    deadline = time.monotonic() + 60
    while not status["set_up"]:
        assert time.monotonic() < deadline, "the supervisor's set-up did not finish"
        await asyncio.sleep(0.2)
        status = await launcher.call(tid, "status")
    assert set(status["process"]["heavy_modules"]) <= {"pyarrow"}


async def test_killed_connector_restarts_and_resumes_exactly_once(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    launcher: RaySyncLauncher,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    total = 200_000
    tid = await tenant_id(api, tenant_a, cleanup)
    write_csv(tmp_path / "big.csv", total)
    cid = await files_connection(db, tid, tmp_path, batch_size=5_000)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    actor = connector_actor(settings, tid, cid)
    pid = (await actor.ping.remote())["pid"]
    mid = await wait_for(db, tid, run_id, written=1)
    ray.kill(actor, no_restart=False)  # Ray restarts it and retries the in-flight run_sync
    assert mid.status == "running" and 0 < mid.records_written < total
    run = await wait_for(db, tid, run_id, within_s=45)
    assert run.status == "succeeded", run.error
    assert (await actor.ping.remote())["pid"] != pid  # the same named actor, a new process
    assert (await launcher.status(tid))["child_restarts"] == 0  # Ray did it, not the supervisor
    assert run.records_written == total
    await assert_landed_exactly(db, settings, tid, cid, total)


async def test_failing_tenant_does_not_affect_another(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    launcher: RaySyncLauncher,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tenant_b: Tenant,
    tmp_path: Path,
) -> None:
    good, bad = await tenant_id(api, tenant_a, cleanup), await tenant_id(api, tenant_b, cleanup)
    write_csv(tmp_path / "orders.csv", 30_000)
    good_cid = await files_connection(db, good, tmp_path, batch_size=2_000)
    box = SecretBox.from_settings(settings)
    bad_cid = await make_connection(
        db,
        bad,
        "postgres",
        config={},
        secrets=box.encrypt({"url": f"postgresql://u:pw@127.0.0.1:{free_port()}/db"}),
    )
    good_run, bad_run = await new_run(db, good, good_cid), await new_run(db, bad, bad_cid)
    await asyncio.gather(
        launcher.launch(good, good_cid, good_run), launcher.launch(bad, bad_cid, bad_run)
    )
    failed, ok = await asyncio.gather(wait_for(db, bad, bad_run), wait_for(db, good, good_run))
    assert failed.status == "failed" and failed.error_type == "transient"
    assert ok.status == "succeeded", ok.error
    assert ok.records_written == 30_000
    await assert_landed_exactly(db, settings, good, good_cid, 30_000)
    # separate supervisors, each seeing only its own tenant's connection
    assert connectors(await launcher.status(good)) == [str(good_cid)]
    assert connectors(await launcher.status(bad)) == [str(bad_cid)]


async def test_supervisor_restarts_dead_child_and_resubmits(
    api: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    launcher: RaySyncLauncher,
    cleanup: list[uuid.UUID],
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    total = 100_000
    tid = await tenant_id(api, tenant_a, cleanup)
    write_csv(tmp_path / "big.csv", total)
    cid = await files_connection(db, tid, tmp_path, batch_size=5_000)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    actor = connector_actor(settings, tid, cid)
    pid = (await actor.ping.remote())["pid"]
    mid = await wait_for(db, tid, run_id, written=1)
    ray.kill(actor, no_restart=True)  # dead for good: only the supervisor can bring it back
    assert 0 < mid.records_written < total
    run = await wait_for(db, tid, run_id, within_s=45)
    assert run.status == "succeeded", run.error
    assert run.records_written == total
    await assert_landed_exactly(db, settings, tid, cid, total)
    status = await launcher.status(tid)
    assert status["child_restarts"] >= 1 and connectors(status) == [str(cid)]
    assert (await connector_actor(settings, tid, cid).ping.remote())["pid"] != pid


async def test_idle_child_is_passivated_and_recreated(
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
    pid = (await connector_actor(settings, tid, cid).ping.remote())["pid"]
    deadline = time.monotonic() + 10
    while (await launcher.status(tid))["children"]:
        assert time.monotonic() < deadline, "idle child was not passivated"
        await asyncio.sleep(0.1)
    while True:  # the name is released once Ray has killed the process
        try:
            connector_actor(settings, tid, cid)
        except ValueError:
            break
        assert time.monotonic() < deadline, "passivated actor is still registered"
        await asyncio.sleep(0.1)
    write_csv(tmp_path / "b.csv", 250, start=100)
    run_id = await new_run(db, tid, cid)
    await launcher.launch(tid, cid, run_id)
    run = await wait_for(db, tid, run_id)
    assert run.status == "succeeded" and run.records_written == 150
    assert (await connector_actor(settings, tid, cid).ping.remote())["pid"] != pid
    await assert_landed_exactly(db, settings, tid, cid, 250)
