"""The dashboard's own checks: strict TypeScript, ESLint and the Vitest unit tests."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.conftest import FRONTEND


@pytest.mark.parametrize(
    "script",
    ["typecheck", "lint", "test"],
)
def test_frontend_check(node: str, script: str):
    proc = subprocess.run(
        ["npm", "run", "--silent", script],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true"},
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
