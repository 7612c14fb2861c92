"""`autonomos jobs`: submit, show, list and stop against a real Ray head."""

from __future__ import annotations

import json
import time
import uuid

from typer.testing import CliRunner

from autonomos.cli import app
from autonomos.config import Settings
from tests.conftest import free_port
from tests.integration.jobs.conftest import RayHead

runner = CliRunner()


def _env(settings: Settings, head: RayHead) -> dict[str, str]:
    env = {
        "AUTONOMOS_DATA_DIR": str(settings.data_dir),
        "AUTONOMOS_RAY_DASHBOARD_URL": head.dashboard,
        "AUTONOMOS_LOG_LEVEL": "WARNING",
    }
    if settings.database_url:
        env["AUTONOMOS_DATABASE_URL"] = settings.database_url
        env["AUTONOMOS_MIGRATION_DATABASE_URL"] = settings.owner_database_url
    return env


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long messages


def test_jobs_commands(settings: Settings, ray_head: RayHead) -> None:
    env = _env(settings, ray_head)
    tenant = f"cli-{uuid.uuid4().hex[:6]}"
    r = runner.invoke(
        app,
        ["tenants", "create", tenant, "--admin-email", f"{tenant}@example.com"],
        env={**env, "AUTONOMOS_ADMIN_PASSWORD": "a long password"},
    )
    assert r.exit_code == 0, r.output

    r = runner.invoke(
        app,
        ["jobs", "submit", "--tenant", tenant, "--no-embedder", "--no-materialize", "--json"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    (job,) = json.loads(r.stdout)
    assert job["status"] in ("pending", "running") and job["submission_id"].endswith("-a1")

    deadline = time.monotonic() + 180
    while True:
        r = runner.invoke(app, ["jobs", "show", job["id"], "--tenant", tenant, "--json"], env=env)
        assert r.exit_code == 0, r.output
        shown = json.loads(r.stdout)
        if shown["status"] not in ("queued", "pending", "running"):
            break
        assert time.monotonic() < deadline, shown
        time.sleep(1)
    assert shown["status"] == "succeeded" and shown["live"] is True, shown
    assert '"ok": true' in shown["logs_tail"]  # the tenant has no connection yet: nothing to map

    r = runner.invoke(app, ["jobs", "list", "--tenant", tenant, "--json"], env=env)
    assert r.exit_code == 0 and [j["id"] for j in json.loads(r.stdout)] == [job["id"]]
    r = runner.invoke(app, ["jobs", "stop", job["id"], "--tenant", tenant], env=env)
    assert r.exit_code == 1 and "nothing to stop" in _flat(r.output)
    r = runner.invoke(app, ["jobs", "show", "not-a-uuid", "--tenant", tenant], env=env)
    assert r.exit_code == 2
    down = {**env, "AUTONOMOS_RAY_DASHBOARD_URL": f"http://127.0.0.1:{free_port()}"}
    r = runner.invoke(app, ["jobs", "submit", "--tenant", tenant], env=down)
    assert r.exit_code == 1 and "unreachable" in _flat(r.output)
