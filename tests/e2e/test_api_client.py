"""The committed TypeScript client matches the API's OpenAPI schema."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scripts.dump_openapi import openapi_schema
from tests.e2e.conftest import FRONTEND


def test_generated_client_is_up_to_date(node: str, tmp_path: Path):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(openapi_schema(), indent=2))
    proc = subprocess.run(
        [node, "scripts/gen-api.mjs", "--input", str(spec), "--check"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr or proc.stdout


def test_the_check_fails_on_a_changed_schema(node: str, tmp_path: Path):
    changed = openapi_schema()
    changed["paths"]["/api/v1/brand-new"] = {
        "get": {"operationId": "brandNew", "responses": {"200": {"description": "ok"}}}
    }
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(changed))
    proc = subprocess.run(
        [node, "scripts/gen-api.mjs", "--input", str(spec), "--check"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "out of date" in proc.stderr
