"""The dashboard end to end in headless Chromium against the running platform.

The platform is started as ``autonomos up`` starts it (``tests/e2e/platform.py``): a local
Ray owned by the launcher, the API on Ray Serve serving the built dashboard, syncs and views
in per-tenant actors, the demo tenant synced and mapped; on free ports with its own data
dir. ``AOS_E2E_EXECUTOR=inline`` runs the same app under uvicorn with inline executors
instead (about a minute faster, for a quick local loop). The browser flow itself is
``frontend/e2e/dashboard.e2e.mjs`` (playwright-core driving Debian's Chromium); its
screenshots land in ``frontend/e2e/artifacts/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import FRONTEND, ROOT

READY_TIMEOUT_S = 300


@pytest.fixture
def platform(tmp_path: Path, dist: Path) -> Iterator[dict[str, str]]:
    log = (tmp_path / "platform.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.e2e.platform",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            "--executor",
            os.environ.get("AOS_E2E_EXECUTOR", "ray"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "AUTONOMOS_DASHBOARD_DIR": str(dist)},
    )
    try:
        started = time.monotonic()
        assert proc.stdout is not None
        line = proc.stdout.readline()  # one JSON line once the API answers
        if not line:
            log.flush()
            pytest.fail(
                "the platform did not start:\n" + (tmp_path / "platform.log").read_text()[-3000:]
            )
        print(f"platform ready in {time.monotonic() - started:.1f} s")
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.timeout(READY_TIMEOUT_S + 420)
def test_dashboard_in_a_real_browser(node: str, chromium: Path, platform: dict[str, str]):
    proc = subprocess.run(
        [node, "e2e/dashboard.e2e.mjs"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=420,
        env={
            **os.environ,
            "AOS_URL": platform["url"],
            "AOS_EMAIL": platform["email"],
            "AOS_PASSWORD": platform["password"],
            "AOS_SOURCE_DIR": platform["source_dir"],
            "AOS_CHROMIUM": str(chromium),
        },
    )
    print(proc.stdout)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    shots = sorted(p.name for p in (FRONTEND / "e2e" / "artifacts").glob("*.png"))
    assert len(shots) >= 12, shots
