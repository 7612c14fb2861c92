"""What the dashboard checks need: node, the installed frontend, its build, Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import _require

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    _require(found is not None, "node is not installed (the dashboard needs Node 20+)")
    _require(
        (FRONTEND / "node_modules" / ".bin").is_dir(),
        "frontend/node_modules is missing: run scripts/install.sh",
    )
    return str(found)


@pytest.fixture(scope="session")
def dist() -> Path:
    _require((DIST / "index.html").is_file(), "frontend/dist is not built: run scripts/install.sh")
    return DIST


@pytest.fixture(scope="session")
def chromium() -> Path:
    _require(CHROMIUM.is_file(), "no /usr/bin/chromium (scripts/install.sh installs it as root)")
    return CHROMIUM
