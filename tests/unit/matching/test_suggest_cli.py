"""``autonomos map suggest SCHEMA.json --format json``: the evaluation's contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autonomos.cli import app

runner = CliRunner()
SCHEMA = {
    "system": "helpdesk",
    "object": "tickets",
    "entity": "account",  # a label some files carry: the matcher must ignore it
    "fields": [
        {"name": "id", "type": "integer", "description": "Ticket id"},
        {"name": "subject", "type": "string", "description": ""},
        {"name": "status", "type": "string", "description": "open, pending, solved"},
        {"name": "requester_id", "type": "integer", "description": "The person who asked"},
        {"name": "created_at", "type": "datetime|null", "description": ""},
        {"name": "via.channel", "type": "string", "description": ""},
        {"name": "satisfaction_rating.score", "type": "string", "description": ""},
    ],
}


def write(tmp_path: Path, doc: object, name: str = "schema.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_json_output_has_the_contract_shape(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["map", "suggest", write(tmp_path, SCHEMA), "--format", "json", "--lexical"]
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert set(got) == {"entity", "mappings"}
    assert got["entity"] == "ticket"
    sources = [m["source_field"] for m in got["mappings"]]
    assert len(sources) == len(set(sources))  # at most one target per source field
    targets = [m["target"] for m in got["mappings"]]
    assert len(targets) == len(set(targets))
    for m in got["mappings"]:
        assert set(m) == {"source_field", "target", "confidence"}
        assert m["target"].startswith("ticket.")
        assert 0.0 <= m["confidence"] <= 1.0
    by_source = {m["source_field"]: m["target"] for m in got["mappings"]}
    assert by_source["id"] == "ticket.ticket_id"
    assert by_source["via.channel"] == "ticket.channel"
    assert by_source["created_at"] == "ticket.created_at"


def test_table_format_for_humans(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        ["map", "suggest", write(tmp_path, SCHEMA), "--format", "table", "--lexical"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "ticket.ticket_id" in text and "fields mapped" in text


def test_evidence_lists_every_field_with_signals(tmp_path: Path) -> None:
    r = runner.invoke(app, ["map", "suggest", write(tmp_path, SCHEMA), "--evidence", "--lexical"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert len(got["mappings"]) == len(SCHEMA["fields"])
    mapped = [m for m in got["mappings"] if m["target"]]
    assert all("name" in m["signals"] and m["alternatives"] for m in mapped)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "'fields'"),
        ({"fields": "id"}, "'fields' must be a list"),
        ({"fields": [{"type": "string"}]}, "name"),
        ({"fields": [{"name": "a"}, {"name": "a"}]}, "duplicate"),
        ({"fields": []}, "empty"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, content, message) -> None:
    path = str(tmp_path / "missing.json") if content is None else write(tmp_path, content)
    r = runner.invoke(app, ["map", "suggest", path, "--format", "json", "--lexical"])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
    assert "Traceback" not in r.output


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    r = runner.invoke(app, ["map", "suggest", write(tmp_path, SCHEMA), "--format", "xml"])
    assert r.exit_code == 2


def test_falls_back_to_lexical_with_a_warning_when_the_model_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autonomos.serve_apps.embedder.client as embedder_module
    from autonomos.models.errors import EmbedderError

    class Unloadable:  # what the port raises when the weights are missing
        def encode(self, texts, **kw):
            raise EmbedderError("no model at /nowhere", failure="configuration")

    monkeypatch.setattr(embedder_module, "get_embedder", lambda *a, **k: Unloadable())
    r = runner.invoke(
        app, ["map", "suggest", write(tmp_path, SCHEMA), "--format", "json", "--embeddings"]
    )
    assert r.exit_code == 0, r.output
    assert "lexical" in r.output  # the warning (stderr is mixed into output here)
    got = json.loads(r.stdout[r.stdout.index("{") :])
    assert got["entity"] == "ticket"


def test_json_schema_style_type_lists_are_accepted(tmp_path: Path) -> None:
    doc = {
        "fields": [
            {"name": "id", "type": ["integer", "null"]},
            {"name": "created_at", "type": ["string", "null"], "description": None},
        ],
        "object": "tickets",
    }
    r = runner.invoke(app, ["map", "suggest", write(tmp_path, doc), "--lexical"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["entity"] == "ticket"


def test_lexical_is_the_default_and_loads_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autonomos.serve_apps.embedder.client as embedder_module

    def forbidden(*a: object, **k: object) -> None:
        raise AssertionError("the embedding model was loaded without --embeddings")

    monkeypatch.setattr(embedder_module, "get_embedder", forbidden)
    r = runner.invoke(app, ["map", "suggest", write(tmp_path, SCHEMA), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["entity"] == "ticket"
