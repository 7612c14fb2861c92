"""`autonomos pii redact` and `autonomos kb run`: the file contracts, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from autonomos.cli import app

runner = CliRunner()


def test_pii_redact(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": "Mail ana@example.com now"})
        + "\n"
        + json.dumps({"id": 7, "text": "nothing here"})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["pii", "redact", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0] == {
        "id": "a",
        "redacted": "Mail [EMAIL] now",
        "spans": [{"start": 5, "end": 20, "label": "EMAIL"}],
    }
    assert rows[1] == {"id": "7", "redacted": "nothing here", "spans": []}


def test_bad_input_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    missing = runner.invoke(app, ["pii", "redact", str(tmp_path / "nope.jsonl"), "--out", str(out)])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{not json}\n')
    r = runner.invoke(app, ["pii", "redact", str(bad), "--out", str(out)])
    assert r.exit_code == 2 and "bad.jsonl:2" in r.output
    bad.write_text('{"id": "a"}\n')
    assert runner.invoke(app, ["pii", "redact", str(bad), "--out", str(out)]).exit_code == 2
    bad.write_bytes(b"\xff\xfe\x00")
    assert runner.invoke(app, ["pii", "redact", str(bad), "--out", str(out)]).exit_code == 2
    good = tmp_path / "q.jsonl"
    good.write_text('{"_id": "1", "text": "q"}\n')
    r = runner.invoke(
        app,
        [
            "kb",
            "run",
            "--corpus",
            str(good),
            "--queries",
            str(good),
            "--mode",
            "magic",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 2 and "--mode" in r.output
    r = runner.invoke(
        app, ["kb", "run", "--corpus", str(bad), "--queries", str(good), "--out", str(out)]
    )
    assert r.exit_code == 2


def test_kb_run_writes_a_trec_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUTONOMOS_DATA_DIR", str(tmp_path / "data"))
    corpus = tmp_path / "corpus.jsonl"
    docs = [
        {"_id": "d1", "title": "Refunds", "text": "Refunds are paid within fourteen days."},
        {"_id": "d2", "title": "Shipping", "text": "Parcels ship in three business days."},
        {"_id": "d3", "title": "Office", "text": "The office dog likes long walks."},
    ]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"_id": "q1", "text": "when are refunds paid"}\n'
        '{"_id": "q2", "text": "parcel delivery time"}\n'
    )
    out = tmp_path / "run.trec"
    for mode in ("bm25", "hybrid"):
        r = runner.invoke(
            app,
            [
                "kb",
                "run",
                "--corpus",
                str(corpus),
                "--queries",
                str(queries),
                "--mode",
                mode,
                "--out",
                str(out),
            ],
        )
        assert r.exit_code == 0, r.output
        lines = [line.split() for line in out.read_text().splitlines()]
        assert all(len(p) == 6 and p[1] == "Q0" for p in lines)
        assert next(p[2] for p in lines if p[0] == "q1") == "d1"
        assert next(p[2] for p in lines if p[0] == "q2") == "d2"
        ranks = [int(p[3]) for p in lines if p[0] == "q1"]
        assert ranks == list(range(1, len(ranks) + 1))
