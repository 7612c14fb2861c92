"""Placement preferences of tenant actors (AUTONOMOS_ACTOR_NODE_LABELS) and the node-local
DuckDB folder (AUTONOMOS_DCL_DIR): parsed, validated and turned into Ray options.

The multi-node test (tests/integration/cluster) shows them at work on two real nodes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from autonomos.actors.dcl import DCL, on_this_node
from autonomos.actors.placement import placement
from autonomos.config import Settings

LABELS = '{"connector": {"autonomos.io/role": "ingest"}, "dcl": {"autonomos.io/role": "views"}}'


def test_labels_come_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUTONOMOS_ACTOR_NODE_LABELS", LABELS)
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.actor_node_labels == {
        "connector": {"autonomos.io/role": "ingest"},
        "dcl": {"autonomos.io/role": "views"},
    }


def test_an_unknown_actor_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="actor_node_labels"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, actor_node_labels={"conector": {"a": "b"}}
        )


def test_a_preference_falls_back_to_any_node(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        actor_node_labels={"connector": {"autonomos.io/role": "ingest"}},
    )
    assert placement(settings, "connector") == {
        "label_selector": {"autonomos.io/role": "ingest"},
        "fallback_strategy": [{"label_selector": {}}],
    }
    assert placement(settings, "dcl") == {}  # no preference: Ray's default
    # Ray accepts them as actor options (checked when the options are set, before any call)
    DCL.options(name="dcl:x", **placement(settings, "connector"))  # type: ignore[attr-defined]


def test_a_node_keeps_its_duckdb_files_in_its_own_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    driver = Settings(_env_file=None, data_dir=tmp_path / "driver")  # type: ignore[call-arg]
    assert driver.dcl_location == tmp_path / "driver" / "dcl"
    monkeypatch.delenv("AUTONOMOS_DCL_DIR", raising=False)
    assert on_this_node(driver).dcl_location == driver.dcl_location
    monkeypatch.setenv("AUTONOMOS_DCL_DIR", str(tmp_path / "node-b"))
    assert on_this_node(driver).dcl_location == tmp_path / "node-b"
    assert on_this_node(driver).data_dir == driver.data_dir  # nothing else changes
