"""Finding 10: the data dir is 0700 and everything the platform writes in it is 0600
(dirs 0700), created that way; generated secrets are 0600 from their first byte.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


def _loose(root: Path) -> list[str]:
    """Everything under ``root`` (itself included) that group or others can reach."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{oct(stat.S_IMODE(mode))} {path.relative_to(root.parent)}")
    return found


def test_data_dir_and_its_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = tmp_path / "source"
    source.mkdir()
    (source / "accounts.csv").write_text("id,name\n1,Acme\n2,Globex\n")
    # a fresh interpreter with the usual umask, as a service would start
    proc = subprocess.run(
        [sys.executable, "-m", "tests.security._data_dir_probe", str(data_dir), str(source)],
        cwd=REPO,
        preexec_fn=lambda: os.umask(0o022),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = {p.name for p in data_dir.rglob("*")}
    for expected in ("autonomos.db", "jwt_secret", "secrets_key", "cache.sqlite"):
        assert expected in written, sorted(written)
    assert any(n.endswith(".parquet") for n in written), sorted(written)
    assert any(n.endswith(".duckdb") for n in written), sorted(written)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert _loose(data_dir) == []


def test_generated_secrets_never_exist_with_wider_modes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written 0600 at creation: with chmod disabled and umask 0, still 0600."""
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    old = os.umask(0)
    try:
        settings = make_settings(tmp_path / "fresh")
        settings.development_secret()
        settings.secrets_keys_list()
    finally:
        os.umask(old)
    for name in ("jwt_secret", "secrets_key"):
        assert stat.S_IMODE((tmp_path / "fresh" / name).stat().st_mode) == 0o600, name
