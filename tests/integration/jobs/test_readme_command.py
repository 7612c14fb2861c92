"""The README's `ray job submit ... -- python -m autonomos.jobs.batch_map` command, run
exactly as written (taken from README.md, so the two cannot drift apart) from a shell
without the project's venv, against a real head started in `autonomos up`'s environment.

Before `up` put the venv first on the head's PATH, the entrypoint's `python` was the
system's and the job died with `ModuleNotFoundError: No module named 'sqlalchemy'`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from tests.integration.jobs.conftest import REPO, VENV_BIN, RayHead, path_without_venv

MOCK = REPO / "mock_sources"


def readme_submit_block() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    (block,) = [b for b in blocks if "ray job submit" in b]
    return block


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_readme_job_command_maps_the_demo_tenant(ray_head: RayHead, tmp_path: Path) -> None:
    block = readme_submit_block()
    assert "-- python -m autonomos.jobs.batch_map" in block and '--tenant "Demo Corp"' in block
    # A checkout as after the quick start: its .venv, and `up`'s data dir with the demo
    # tenant and a synced files connection (SQLite, the embedded default).
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(VENV_BIN.parent)
    shell = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTONOMOS_", "RAY_", "VIRTUAL_ENV", "PYTHON"))
    }
    shell["PATH"] = path_without_venv()  # no activated venv: `python` is not the project's
    setup = {
        **shell,
        "AUTONOMOS_DATA_DIR": str(checkout / ".autonomos"),
        "AUTONOMOS_ADMIN_PASSWORD": "a long demo password",
        "AUTONOMOS_LOG_LEVEL": "WARNING",
    }
    cli = str(VENV_BIN / "autonomos")
    run([cli, "tenants", "create", "Demo Corp", "--admin-email", "admin@demo.example.com"],
        checkout, setup)  # fmt: skip
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("salesforce_accounts.csv", "stripe_customers.csv"):
        shutil.copy(MOCK / name, sources / name)
    run([cli, "ingest", "files", "--connection-id", str(uuid.uuid4()), "--namespace",
         "Demo Corp", "--path", str(sources)], checkout, setup)  # fmt: skip

    dashboard_port = ray_head.dashboard.rsplit(":", 1)[1]
    done = run(
        ["bash", "-euo", "pipefail", "-c", block],
        checkout,
        {**shell, "AUTONOMOS_RAY_DASHBOARD_PORT": dashboard_port},
    )
    out = done.stdout
    assert "ModuleNotFoundError" not in out + done.stderr
    report = json.loads(out[out.index('{\n  "ok"') : out.rindex("}") + 1])
    assert report["ok"] is True, report
    streams = {s["stream"]: s for s in report["streams"]}
    assert set(streams) == {"salesforce_accounts", "stripe_customers"}
    assert streams["salesforce_accounts"]["entity"] == "account"
    assert all(s["active"] + s["proposed"] > 0 and not s["error"] for s in streams.values())
    assert report["materialized"], report  # the tenant's DCL actor built its views
