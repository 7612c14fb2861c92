"""The architecture of DESIGN.md, checked: the contracts in pyproject's
``[tool.importlinter]`` (layers; a core free of Ray; no import cycles) hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The check can fail: a core module importing Ray breaks it."""
    pkg = tmp_path / "demo_pkg"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("import ray\n")
    (tmp_path / "setup.cfg").write_text(
        "[importlinter]\nroot_package = demo_pkg\ninclude_external_packages = True\n\n"
        "[importlinter:contract:no-ray]\nname = no ray\ntype = forbidden\n"
        "source_modules = demo_pkg.core\nforbidden_modules = ray\n"
    )
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache", "--config", str(tmp_path / "setup.cfg")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout
