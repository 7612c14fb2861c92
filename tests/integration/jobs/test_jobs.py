"""Batch jobs on a real Ray head: `ray job submit`, the jobs API, retries, stop, outages."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from autonomos.config import Settings
from autonomos.jobs.follow import JobFollower
from autonomos.jobs.server import RayJobServer
from autonomos.jobs.service import JobService, job_env, submission_id
from autonomos.store.jobs_models import Job
from tests.conftest import Tenant, free_port
from tests.helpers.api import add_user, assert_error
from tests.helpers.events import last_id, numbered
from tests.helpers.jobs import stream_mappings, synced_connection, tenant_uuid
from tests.integration.jobs.conftest import REPO, VENV_BIN, RayHead

JOBS = "/api/v1/jobs"
FINISHED = {"succeeded", "failed", "stopped", "lost"}


def _submit_cli(
    head: RayHead, settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    runtime_env = json.dumps({"env_vars": {**job_env(settings), **(env or {})}})
    return subprocess.run(
        [
            str(VENV_BIN / "ray"), "job", "submit", "--address", head.dashboard,
            "--working-dir", str(REPO), "--runtime-env-json", runtime_env,
            "--", "python", "-m", "autonomos.jobs.batch_map", *args,
        ],
        env=head.env, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def jobs(api: httpx.AsyncClient, ray_head: RayHead, settings: Settings) -> Iterator[JobService]:
    """The app's job service, pointed at this test's Ray head."""
    state = api.runtime  # type: ignore[attr-defined]
    service = JobService(state.db, RayJobServer(ray_head.dashboard), settings)
    previous = getattr(state, "jobs", None)
    state.jobs = service
    yield service
    state.jobs = previous


async def _wait_for(
    api: httpx.AsyncClient, t: Tenant, job_id: str, done: Any, within_s: float = 180
) -> dict[str, Any]:
    """Poll GET /jobs/{id} (each poll refreshes from Ray) until ``done(body)``."""
    deadline = time.monotonic() + within_s
    while True:
        r = await api.get(f"{JOBS}/{job_id}", headers=t.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(1)


async def _wait(
    api: httpx.AsyncClient, t: Tenant, job_id: str, statuses: set[str], within_s: float = 180
) -> dict[str, Any]:
    return await _wait_for(api, t, job_id, lambda b: b["status"] in statuses, within_s)


async def test_ray_job_submit_cli_maps_a_connection(
    api: httpx.AsyncClient, tenant_a: Tenant, settings: Settings, ray_head: RayHead, tmp_path: Path
) -> None:
    cid = await synced_connection(api, tenant_a, tmp_path)
    tid = await tenant_uuid(api, tenant_a)
    args = ("--tenant", str(tid), "--connection", cid, "--no-embedder", "--no-materialize")
    done = await asyncio.to_thread(_submit_cli, ray_head, settings, *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '"ok": true' in done.stdout
    rows = await stream_mappings(api, tid, cid)
    assert rows and all(r.decided_by == "batch_map" for r in rows)
    by_source = {r.source_field: r for r in rows}
    assert by_source["name"].entity == "account" and by_source["name"].field == "name"
    assert {r.status for r in rows} <= {"active", "proposed"}
    # a second run changes nothing: same rows, same versions
    again = await asyncio.to_thread(_submit_cli, ray_head, settings, *args)
    assert again.returncode == 0, again.stdout[-3000:]
    assert {(r.id, r.version) for r in await stream_mappings(api, tid, cid)} == {
        (r.id, r.version) for r in rows
    }


async def test_ray_job_submit_cli_unknown_tenant_fails_cleanly(
    settings: Settings, ray_head: RayHead
) -> None:
    done = await asyncio.to_thread(
        _submit_cli, ray_head, settings, "--tenant", str(uuid.uuid4()), "--no-embedder"
    )
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "error: no tenant" in out and "Traceback" not in out


async def test_api_submits_follows_and_dedupes(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService, tmp_path: Path
) -> None:
    cid = await synced_connection(api, tenant_a, tmp_path)
    tid = await tenant_uuid(api, tenant_a)
    body = {
        "kind": "batch_map",
        "params": {"connection_id": cid, "materialize": False, "embedder": False},
    }
    r = await api.post(JOBS, headers=tenant_a.headers, json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["created"] is True and job["status"] in ("pending", "running")
    assert job["submission_id"] == submission_id("batch_map", uuid.UUID(job["id"]), 1)
    assert job["logs_url"] == f"{jobs.server.address}/#/jobs/{job['submission_id']}"
    assert f"--tenant {tid} --connection {cid}" in job["entrypoint"]
    again = await api.post(JOBS, headers=tenant_a.headers, json=body)
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    assert again.json()["created"] is False

    done = await _wait(api, tenant_a, job["id"], FINISHED)
    assert done["status"] == "succeeded", done
    assert done["live"] is True and done["ray_status"] == "SUCCEEDED"
    assert done["started_at"] and done["finished_at"] and done["attempt"] == 1
    assert '"ok": true' in done["logs_tail"]
    assert any(r.decided_by == "batch_map" for r in await stream_mappings(api, tid, cid))

    listed = (await api.get(JOBS, headers=tenant_a.headers)).json()
    assert listed["live"] is True and listed["jobs"][0]["id"] == job["id"]
    assert (await api.get(JOBS, headers=tenant_a.headers, params={"status": "running"})).json()[
        "total"
    ] == 0
    audit = (await api.get("/api/v1/audit?action=job.submit", headers=tenant_a.headers)).json()
    assert audit["entries"][0]["target_id"] == job["id"]


async def test_failed_job_is_retried_then_reported(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService
) -> None:
    jobs.python = "/nonexistent/python"  # the real job fails: its interpreter is missing
    r = await api.post(
        JOBS,
        headers=tenant_a.headers,
        json={"kind": "batch_map", "params": {"embedder": False}, "max_retries": 1},
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    done = await _wait_for(
        api, tenant_a, job_id, lambda b: b["attempt"] == 2 and b["status"] == "failed"
    )
    assert done["attempt"] == 2 and done["status"] == "failed"
    assert done["submission_id"].endswith("-a2")
    assert "exit code" in done["error"] or "127" in done["error"], done["error"]
    # no retries left: it stays failed; a manual retry starts attempt 3
    assert (await api.get(f"{JOBS}/{job_id}", headers=tenant_a.headers)).json()["attempt"] == 2
    retried = await api.post(f"{JOBS}/{job_id}/retry", headers=tenant_a.headers)
    assert retried.status_code == 200 and retried.json()["attempt"] == 3
    assert retried.json()["error"].startswith("attempt 2 failed")


async def test_stop_a_running_job(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "entrypoint", lambda *a: "sleep 300")
    r = await api.post(JOBS, headers=tenant_a.headers, json={"kind": "batch_map"})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    await _wait(api, tenant_a, job_id, {"running"})
    viewer = await add_user(api, tenant_a, "viewer")
    assert_error(await api.post(f"{JOBS}/{job_id}/stop", headers=viewer.headers), 403, "forbidden")
    stopped = await api.post(f"{JOBS}/{job_id}/stop", headers=tenant_a.headers)
    assert stopped.status_code == 200, stopped.text
    final = await _wait(api, tenant_a, job_id, FINISHED, within_s=60)
    assert final["status"] == "stopped" and final["ray_status"] == "STOPPED"
    again = await api.post(f"{JOBS}/{job_id}/stop", headers=tenant_a.headers)
    assert_error(again, 409, "conflict")
    assert_error(
        await api.post(f"{JOBS}/{job_id}/retry", headers=tenant_a.headers), 409, "conflict"
    )


async def test_job_server_down_is_503_not_500(
    api: httpx.AsyncClient, tenant_a: Tenant, settings: Settings
) -> None:
    state = api.runtime  # type: ignore[attr-defined]
    previous = getattr(state, "jobs", None)
    state.jobs = JobService(
        state.db, RayJobServer(f"http://127.0.0.1:{free_port()}", timeout_s=5), settings
    )
    tid = await tenant_uuid(api, tenant_a)
    try:
        r = await api.post(JOBS, headers=tenant_a.headers, json={"kind": "batch_map"})
        assert_error(r, 503, "job_server_unavailable")
        assert "unreachable" in r.json()["error"]["message"]
        async with state.db.tenant_session(tid) as s:
            assert list(await s.scalars(select(Job))) == []  # nothing recorded
        # a job recorded earlier still reads, from the table, flagged not live
        job = Job(
            tenant_id=tid,
            kind="batch_map",
            params={},
            dedupe_key="x",
            submission_id=f"autonomos-test-{uuid.uuid4().hex}",
            entrypoint="true",
            status="running",
        )
        async with state.db.tenant_session(tid) as s:
            s.add(job)
        got = await api.get(f"{JOBS}/{job.id}", headers=tenant_a.headers)
        assert got.status_code == 200 and got.json()["live"] is False
        assert got.json()["status"] == "running" and "unreachable" in got.json()["server_error"]
        listed = (await api.get(JOBS, headers=tenant_a.headers)).json()
        assert listed["live"] is False and listed["total"] == 1
        assert_error(
            await api.post(f"{JOBS}/{job.id}/stop", headers=tenant_a.headers),
            503,
            "job_server_unavailable",
        )
    finally:
        state.jobs = previous


async def test_job_unknown_to_ray_is_lost(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService
) -> None:
    """Ray's records died with a previous cluster: the table says so instead of waiting."""
    tid = await tenant_uuid(api, tenant_a)
    job = Job(
        tenant_id=tid,
        kind="batch_map",
        params={},
        dedupe_key="y",
        submission_id=f"autonomos-batch-map-{uuid.uuid4().hex}-a1",
        entrypoint="true",
        status="pending",
    )
    async with api.runtime.db.tenant_session(tid) as s:  # type: ignore[attr-defined]
        s.add(job)
    got = (await api.get(f"{JOBS}/{job.id}", headers=tenant_a.headers)).json()
    assert got["status"] == "lost" and "no record" in got["error"] and got["live"] is True


async def test_jobs_routes_auth_validation_and_isolation(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, jobs: JobService
) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    assert_error(
        await api.post(JOBS, headers=viewer.headers, json={"kind": "batch_map"}), 403, "forbidden"
    )
    for bad in (
        {"kind": "rm -rf"},
        {"kind": "batch_map", "params": {"connection_id": "nope"}},
        {"kind": "batch_map", "params": {"shell": "x"}},
        {"kind": "batch_map", "max_retries": 99},
    ):
        assert_error(
            await api.post(JOBS, headers=tenant_a.headers, json=bad), 422, "validation_error"
        )
    missing = {"kind": "batch_map", "params": {"connection_id": str(uuid.uuid4())}}
    assert_error(await api.post(JOBS, headers=tenant_a.headers, json=missing), 404, "not_found")
    r = await api.post(
        JOBS, headers=tenant_a.headers, json={"kind": "batch_map", "params": {"embedder": False}}
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    assert (await api.get(f"{JOBS}/{job_id}", headers=viewer.headers)).status_code == 200
    for method, path in [
        ("GET", f"{JOBS}/{job_id}"),
        ("POST", f"{JOBS}/{job_id}/stop"),
        ("POST", f"{JOBS}/{job_id}/retry"),
    ]:
        assert_error(await api.request(method, path, headers=tenant_b.headers), 404, "not_found")
    assert (await api.get(JOBS, headers=tenant_b.headers)).json()["total"] == 0
    await _wait(api, tenant_a, job_id, FINISHED)


async def test_another_tenants_connection_cannot_be_mapped(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, jobs: JobService, tmp_path: Path
) -> None:
    cid = await synced_connection(api, tenant_a, tmp_path)
    body = {"kind": "batch_map", "params": {"connection_id": cid}}
    r = await api.post(JOBS, headers=tenant_b.headers, json=body)
    assert_error(r, 404, "not_found")
    assert r.json()["error"]["message"] == "connection not found"


async def test_batch_map_job_materialises_and_resolves_a_crm_and_billing_pair(
    api: httpx.AsyncClient, tenant_a: Tenant, settings: Settings, ray_head: RayHead, tmp_path: Path
) -> None:
    """Demo CRM + billing extracts: synced, mapped by the job, materialised, resolved."""
    import shutil

    import duckdb

    from autonomos.dcl.service import database_path

    cids = []
    for name in ("salesforce_accounts", "stripe_customers"):
        src = tmp_path / name
        src.mkdir()
        shutil.copy(REPO / "mock_sources" / f"{name}.csv", src / f"{name}.csv")
        r = await api.post(
            "/api/v1/aam/connections",
            headers=tenant_a.headers,
            json={"name": name, "source_type": "files", "config": {"path": str(src)}},
        )
        assert r.status_code == 201, r.text
        cids.append(r.json()["id"])
        sync = await api.post(
            f"/api/v1/aam/connections/{r.json()['id']}/sync", headers=tenant_a.headers
        )
        assert sync.status_code == 202
    await api.runtime.connections.launcher.drain()  # type: ignore[attr-defined]
    # This test's API runs its DCL in-process (inline): let go of the tenant's DuckDB file
    # so the tenant's DCL actor on the Ray head can be its single writer.
    await api.runtime.dcl.close()  # type: ignore[attr-defined]
    tid = await tenant_uuid(api, tenant_a)
    actor_env = {"AUTONOMOS_DCL_EXECUTOR": "ray", "AUTONOMOS_DCL_IDLE_S": "1"}
    args = ("--tenant", str(tid), "--no-embedder", "--auto-threshold", "0.5")
    done = await asyncio.to_thread(_submit_cli, ray_head, settings, *args, env=actor_env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    report = json.loads(done.stdout[done.stdout.index("{\n") : done.stdout.rindex("}") + 1])
    assert report["ok"] and set(report["materialized"]) == set(cids), report
    for cid in cids:
        slices = report["materialized"][cid]["slices"]
        assert [s["entity"] for s in slices] == ["account"] and slices[0]["rows"] > 150
    resolution = [m["resolution"] for m in report["materialized"].values() if m["resolution"]]
    assert resolution and resolution[-1]["rows"]["unified_account"] > 0, resolution
    path = str(database_path(settings.data_dir, tid))
    deadline = time.monotonic() + 60
    while True:  # the idle actor passivates and lets go of the file
        try:
            con = duckdb.connect(path, read_only=True)
            break
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the DCL actor kept the file"
            await asyncio.sleep(0.5)
    try:
        both = con.execute(
            "SELECT count(*) FROM unified_account WHERE len(source_connections) = 2"
        ).fetchall()[0][0]
        assert both >= 100, both
    finally:
        con.close()


async def test_job_states_are_followed_without_anyone_asking(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's follower asks Ray about active jobs on its own: each state a real job
    goes through reaches the tenant's event log (and the row) while nobody reads the job."""
    monkeypatch.setattr(jobs, "entrypoint", lambda *a: "sleep 3")
    tid = await tenant_uuid(api, tenant_a)
    db = api.runtime.db  # type: ignore[attr-defined]
    start = await last_id(db, tid)
    r = await api.post(JOBS, headers=tenant_a.headers, json={"kind": "batch_map"})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    follower = JobFollower(db, jobs, interval_s=0.5)
    follower.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            events = await numbered(db, tid, after=start, types="job.*")
            if any(e.type == "job.succeeded" for e in events):
                break
            assert time.monotonic() < deadline, events
            await asyncio.sleep(0.5)
    finally:
        await follower.stop()
    assert [(e.type, e.subject) for e in events] == [
        ("job.queued", {"job_id": job_id}),
        ("job.running", {"job_id": job_id}),
        ("job.succeeded", {"job_id": job_id}),
    ]
    assert [e.payload["previous"] for e in events] == [None, "pending", "running"]
    assert all(e.payload["kind"] == "batch_map" and e.payload["attempt"] == 1 for e in events)
    async with db.tenant_session(tid) as s:  # the row too, without a GET
        row = await s.get(Job, uuid.UUID(job_id))
        assert row is not None and row.status == "succeeded" and row.finished_at is not None


async def test_a_failed_attempt_and_its_retry_are_announced(
    api: httpx.AsyncClient, tenant_a: Tenant, jobs: JobService
) -> None:
    jobs.python = "/nonexistent/python"  # the real job fails: its interpreter is missing
    tid = await tenant_uuid(api, tenant_a)
    db = api.runtime.db  # type: ignore[attr-defined]
    start = await last_id(db, tid)
    r = await api.post(
        JOBS,
        headers=tenant_a.headers,
        json={"kind": "batch_map", "params": {"embedder": False}, "max_retries": 1},
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    follower = JobFollower(db, jobs, interval_s=0.5)
    follower.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            events = await numbered(db, tid, after=start, types="job.*")
            if [e.type for e in events].count("job.failed") == 2:
                break
            assert time.monotonic() < deadline, events
            await asyncio.sleep(0.5)
    finally:
        await follower.stop()
    # (a job that fails at once may skip ``running`` between two looks)
    assert {e.subject["job_id"] for e in events} == {job_id}
    seen = [(e.type, e.payload["attempt"]) for e in events if e.type != "job.running"]
    assert seen == [("job.queued", 1), ("job.failed", 1), ("job.queued", 2), ("job.failed", 2)]
    assert "exit code" in events[-1].payload["error"] or "127" in events[-1].payload["error"]
