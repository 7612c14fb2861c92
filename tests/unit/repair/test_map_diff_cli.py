"""``autonomos map diff BEFORE.json AFTER.json --format json``: the evaluation's contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autonomos.aam.repair import diff_schemas
from autonomos.cli import app

runner = CliRunner()
BEFORE = {
    "system": "x",
    "object": "y",
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "owner_email", "type": "string"},
        {"name": "is_deleted", "type": "boolean"},
    ],
}
AFTER = {
    "system": "x",
    "object": "y",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "owner.email", "type": "string"},
        {"name": "seats", "type": "integer"},
    ],
}


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_prints_the_prediction_shape(tmp_path: Path) -> None:
    b, a = write(tmp_path, "b.json", BEFORE), write(tmp_path, "a.json", AFTER)
    r = runner.invoke(app, ["map", "diff", b, a, "--format", "json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got == diff_schemas(BEFORE["fields"], AFTER["fields"])  # type: ignore[arg-type]
    assert got["renamed"] == {"owner_email": "owner.email"}
    assert got["added"] == ["seats"] and got["removed"] == ["is_deleted"]
    assert list(got["type_changed"]) == ["id"]
    table = runner.invoke(app, ["map", "diff", b, a, "--format", "table"])
    assert table.exit_code == 0 and "owner.email" in table.stdout


def test_accepts_a_drift_case_file_for_both_sides(tmp_path: Path) -> None:
    case = write(tmp_path, "case.json", {"id": "c", "before": BEFORE, "after": AFTER, "truth": {}})
    r = runner.invoke(app, ["map", "diff", case, case, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["renamed"] == {"owner_email": "owner.email"}


@pytest.mark.parametrize(
    ("before", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not JSON"),
        ({"columns": []}, "'fields' list"),
        ({"fields": [{"type": "string"}]}, "has no 'name'"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, before: object, message: str) -> None:
    a = write(tmp_path, "a.json", AFTER)
    b = str(tmp_path / "missing.json") if before is None else write(tmp_path, "b.json", before)
    r = runner.invoke(app, ["map", "diff", b, a, "--format", "json"])
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output
    bad_fmt = runner.invoke(app, ["map", "diff", a, a, "--format", "yaml"])
    assert bad_fmt.exit_code == 2 and "--format" in bad_fmt.output


def test_the_installed_command_matches_the_scorer_format(tmp_path: Path) -> None:
    """As the evaluation runs it: a subprocess, stdout is exactly one JSON document."""
    b, a = write(tmp_path, "b.json", BEFORE), write(tmp_path, "a.json", AFTER)
    done = subprocess.run(
        [sys.executable, "-m", "autonomos.cli", "map", "diff", b, a, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pred = json.loads(done.stdout)
    assert set(pred) == {"added", "removed", "renamed", "type_changed", "rename_confidence"}
