"""FilesConnector against real files in tmp_path and over HTTP (a local server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autonomos.aam.edge import edge_policy
from autonomos.connectors import (
    ConnectorError,
    FailureType,
    FieldType,
    RecordBatchMessage,
    StateMessage,
)
from autonomos.connectors.files import FilesConnector
from tests.conftest import make_settings
from tests.integration.connectors.http_files import FilesServer


def read_all(conn: FilesConnector, stream: str, state: Any = None) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    last: dict = {}
    for item in conn.read(stream, state):
        if isinstance(item, RecordBatchMessage):
            rows.extend(item.batch.to_pylist())
        elif isinstance(item, StateMessage):
            last = item.state
    return rows, last


def read_snapshot(
    conn: FilesConnector, stream: str, state: Any = None
) -> tuple[list[RecordBatchMessage], dict, dict[str, str] | None]:
    """Batches, final state and the snapshot's parts (None: the read yielded none)."""
    batches, last, parts = [], {}, None
    for item in conn.read(stream, state):
        if isinstance(item, RecordBatchMessage):
            batches.append(item)
        elif isinstance(item, StateMessage):
            assert parts is None, "a snapshot comes after the final state"
            last = json.loads(json.dumps(item.state))  # as the caller persists it
        else:
            parts = dict(item.parts)
    return batches, last, parts


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


# -- formats and streams ----------------------------------------------------------------


def test_csv_jsonl_parquet_streams_and_discover(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", "id,name,amount", ["1,Acme,10.5", "2,Globex,7"])
    (tmp_path / "events.jsonl").write_text(
        '{"id": 1, "ok": true, "address": {"city": "Oslo", "zip": 150}}\n'
        '{"id": 2, "ok": false, "address": {"city": "Rome", "zip": 100}}\n'
    )
    pq.write_table(
        pa.table({"id": pa.array([1, 2], pa.int64()), "score": [0.5, 1.5], "name": ["a", "b"]}),
        tmp_path / "scores.parquet",
    )
    conn = FilesConnector({"path": str(tmp_path), "primary_key": {"accounts": ["id"]}})
    conn.check()
    schemas = {s.name: s for s in conn.discover()}
    assert set(schemas) == {"accounts", "events", "scores"}
    acc = schemas["accounts"]
    assert [(f.name, f.type, f.source_type) for f in acc.fields] == [
        ("id", FieldType.STRING, "csv"),
        ("name", FieldType.STRING, "csv"),
        ("amount", FieldType.STRING, "csv"),
    ]
    assert acc.primary_key == ("id",)
    ev = {f.name: f.type for f in schemas["events"].fields}
    assert ev == {
        "id": FieldType.INTEGER,
        "ok": FieldType.BOOLEAN,
        "address.city": FieldType.STRING,
        "address.zip": FieldType.INTEGER,
    }
    sc = {f.name: f.type for f in schemas["scores"].fields}
    assert sc == {"id": FieldType.INTEGER, "score": FieldType.NUMBER, "name": FieldType.STRING}

    rows, state = read_all(conn, "accounts")
    assert rows == [
        {"id": "1", "name": "Acme", "amount": "10.5"},
        {"id": "2", "name": "Globex", "amount": "7"},
    ]
    (entry,) = state["files"].values()
    assert entry["done"] and entry["rows_done"] == 2
    json.dumps(state)  # JSON-serialisable
    rows, _ = read_all(conn, "events")
    assert rows[0]["address"] == {"city": "Oslo", "zip": 150}  # struct kept for the AAM
    rows, _ = read_all(conn, "scores")
    assert rows == [{"id": 1, "score": 0.5, "name": "a"}, {"id": 2, "score": 1.5, "name": "b"}]


def test_partition_directory_glob_url_and_memory_fs(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts" / "part-1.csv", "id", ["1", "2"])
    write_csv(tmp_path / "accounts" / "part-2.csv", "id", ["3"])
    write_csv(tmp_path / "other.csv", "x", ["9"])
    conn = FilesConnector({"path": str(tmp_path)})
    assert set(conn.streams()) == {"accounts", "other"}
    assert [r["id"] for r in read_all(conn, "accounts")[0]] == ["1", "2", "3"]

    by_glob = FilesConnector({"path": f"file://{tmp_path}/acc*/*.csv"})
    assert list(by_glob.streams()) == ["accounts"]
    assert len(read_all(by_glob, "accounts")[0]) == 3

    explicit = FilesConnector({"path": str(tmp_path), "streams": {"all_ids": "accounts/part-*"}})
    assert len(read_all(explicit, "all_ids")[0]) == 3


def test_url_read_through_the_guarded_http_client(tmp_path: Path) -> None:
    """An allow-listed HTTP source is read through the client that checks each address."""
    (tmp_path / "leads.jsonl").write_bytes(b'{"id": 1}\n{"id": 2}\n')
    settings = make_settings(
        tmp_path / "data", files_schemes=["https", "http"], files_allowed_hosts=["localhost"]
    )
    edge = edge_policy(settings, uuid.uuid4())
    with FilesServer(tmp_path) as server:
        conn = FilesConnector({"path": f"{server.url('localhost')}/leads.jsonl"}, edge=edge)
        assert read_all(conn, "leads")[0] == [{"id": 1}, {"id": 2}]
        assert server.requests


def test_missing_path_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError) as err:
        FilesConnector({"path": str(tmp_path / "nope")}).check()
    assert err.value.failure is FailureType.CONFIGURATION
    with pytest.raises(ConnectorError):
        FilesConnector({"path": str(tmp_path), "format": "xlsx"})


# -- incremental and resume -------------------------------------------------------------


def test_incremental_new_file_and_appended_rows_with_cursor(tmp_path: Path) -> None:
    d = tmp_path / "orders"
    write_csv(d / "a.csv", "id,updated", ["1,2024-01-01", "2,2024-01-02"])
    cfg = {"path": str(tmp_path), "cursor_field": {"orders": "updated"}}
    rows, state = read_all(FilesConnector(cfg), "orders")
    assert [r["id"] for r in rows] == ["1", "2"]
    assert state["cursor"] == "2024-01-02"

    assert read_all(FilesConnector(cfg), "orders", state)[0] == []  # nothing changed

    write_csv(d / "b.csv", "id,updated", ["3,2024-01-03"])
    rows, state = read_all(FilesConnector(cfg), "orders", state)
    assert [r["id"] for r in rows] == ["3"]  # a.csv finished and unchanged: skipped

    with (d / "a.csv").open("a") as f:  # an append changes size: re-read, cursor filters
        f.write("1,2024-01-05\n")
    os.utime(d / "a.csv", (1, 1))
    rows, state = read_all(FilesConnector(cfg), "orders", state)
    assert rows == [{"id": "1", "updated": "2024-01-05"}]
    assert state["cursor"] == "2024-01-05"


def test_incremental_without_cursor_reads_only_new_files(tmp_path: Path) -> None:
    write_csv(tmp_path / "t" / "1.csv", "id", ["1"])
    rows, state = read_all(FilesConnector({"path": str(tmp_path)}), "t")
    write_csv(tmp_path / "t" / "2.csv", "id", ["2"])
    rows, state = read_all(FilesConnector({"path": str(tmp_path)}), "t", state)
    assert rows == [{"id": "2"}]


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_resume_from_mid_file_state_gives_exactly_the_remaining_rows(
    tmp_path: Path, kind: str
) -> None:
    n = 95
    path = tmp_path / f"items.{kind}"
    if kind == "csv":
        write_csv(path, "id,note", [f'{i},"line\nbreak {i}"' for i in range(n)])
    elif kind == "jsonl":
        path.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(n)))
    else:
        pq.write_table(pa.table({"id": list(range(n))}), path, row_group_size=20)
    cfg = {"path": str(tmp_path), "batch_size": 10}
    seen: list[Any] = []
    mid_state = None
    for item in FilesConnector(cfg).read("items", None):
        if isinstance(item, RecordBatchMessage):
            assert item.batch.num_rows == 10 or len(seen) + item.batch.num_rows == n
            seen.extend(r["id"] for r in item.batch.to_pylist())
        elif len(seen) == 30 and mid_state is None:
            mid_state = json.loads(json.dumps(item.state))  # as the caller persists it
    assert mid_state is not None
    rest, final = read_all(FilesConnector(cfg), "items", mid_state)
    assert [r["id"] for r in rest] == seen[30:]
    assert len(seen) == n
    assert next(iter(final["files"].values()))["done"] is True


# -- complete snapshots ---------------------------------------------------------------------


def test_a_full_read_ends_with_a_snapshot_of_every_file(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "acc" / "a.csv", "id", ["1", "2"])
    b = write_csv(tmp_path / "acc" / "b.csv", "id", ["3"])
    batches, state, parts = read_snapshot(FilesConnector({"path": str(tmp_path)}), "acc")
    assert parts is not None and set(parts) == {str(a), str(b)}
    assert {(m.part, m.generation) for m in batches} == set(parts.items())
    assert parts[str(a)] != parts[str(b)]

    # unchanged files keep their generation; a changed one is a new full read
    write_csv(a, "id", ["1"])
    batches, state, again = read_snapshot(FilesConnector({"path": str(tmp_path)}), "acc", state)
    assert again is not None and again[str(b)] == parts[str(b)]
    assert again[str(a)] != parts[str(a)]
    assert [(m.part, m.generation, m.batch.num_rows) for m in batches] == [
        (str(a), again[str(a)], 1)
    ]

    # a removed file is no longer part of the snapshot
    b.unlink()
    _, _, last = read_snapshot(FilesConnector({"path": str(tmp_path)}), "acc", state)
    assert last == {str(a): again[str(a)]}


def test_a_resumed_read_stays_in_its_generation(tmp_path: Path) -> None:
    write_csv(tmp_path / "items.csv", "id", [str(i) for i in range(100)])
    cfg = {"path": str(tmp_path), "batch_size": 30}
    items = FilesConnector(cfg).read("items", None)
    first = next(i for i in items if isinstance(i, RecordBatchMessage))
    mid = next(i for i in items if isinstance(i, StateMessage))
    items.close()  # the process died here
    batches, _, parts = read_snapshot(
        FilesConnector(cfg), "items", json.loads(json.dumps(mid.state))
    )
    assert parts == {str(tmp_path / "items.csv"): first.generation}
    assert {m.generation for m in batches} == {first.generation}
    assert sum(m.batch.num_rows for m in batches) == 70


def test_no_snapshot_when_rows_are_filtered_or_skipped(tmp_path: Path) -> None:
    write_csv(tmp_path / "ev.csv", "id,ts", ["1,2024-01-01", "2,2024-01-02"])
    cursor = FilesConnector({"path": str(tmp_path), "cursor_field": {"ev": "ts"}})
    batches, st, parts = read_snapshot(cursor, "ev")
    assert parts is None and batches  # incremental: never a snapshot
    assert {m.generation for m in batches} == {None}
    # the cursor dropped later: what the filtered read landed is no full read either
    assert read_snapshot(FilesConnector({"path": str(tmp_path)}), "ev", st)[2] is None

    write_csv(tmp_path / "acc" / "a.csv", "id", ["1"])
    (tmp_path / "acc" / "b.parquet").write_bytes(b"PAR1 broken")
    conn = FilesConnector({"path": str(tmp_path)})
    items: list[Any] = []
    with pytest.raises(ConnectorError):
        items.extend(conn.read("acc", None))
    assert not [i for i in items if not isinstance(i, RecordBatchMessage | StateMessage)]
    state = json.loads(json.dumps(items[-1].state))
    # the broken file has not changed: still no snapshot, and no error raised again
    assert read_snapshot(FilesConnector({"path": str(tmp_path)}), "acc", state)[2] is None

    # a state from before generations: the file holds the snapshot back until it changes
    write_csv(tmp_path / "old" / "a.csv", "id", ["1"])
    _, st, parts = read_snapshot(conn, "old")
    assert parts is not None
    for entry in st["files"].values():
        del entry["generation"]
    assert read_snapshot(FilesConnector({"path": str(tmp_path)}), "old", st)[2] is None


# -- bad files ------------------------------------------------------------------------------


def test_ragged_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", "a,b,c", ["1,2,3", "4,5", "6,7,8,9", "10,11,12"])
    conn = FilesConnector({"path": str(tmp_path)})
    rows, state = read_all(conn, "r")
    assert [r["a"] for r in rows] == ["1", "10"]
    entry = state["files"][str(tmp_path / "r.csv")]
    assert entry["invalid_rows"] == 2
    stats = conn.stats[str(tmp_path / "r.csv")]
    assert stats.invalid_rows == 2 and "expected 3 columns" in stats.invalid_samples[0]


def test_encodings_bom_newlines_and_duplicate_columns(tmp_path: Path) -> None:
    write_csv(tmp_path / "latin.csv", "id,name", ["1,Müller", "2,Société"], encoding="cp1252")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfid,name\n1,x\n")
    write_csv(tmp_path / "nl.csv", "id,text", ['1,"multi\nline, with comma"', "2,plain"])
    write_csv(tmp_path / "dup.csv", "a,a,b,,a", ["1,2,3,4,5"])
    conn = FilesConnector({"path": str(tmp_path)})
    assert read_all(conn, "latin")[0] == [
        {"id": "1", "name": "Müller"},
        {"id": "2", "name": "Société"},
    ]
    assert conn.stats[str(tmp_path / "latin.csv")].encoding != "utf-8"
    assert read_all(conn, "bom")[0] == [{"id": "1", "name": "x"}]
    assert read_all(conn, "nl")[0][0]["text"] == "multi\nline, with comma"
    assert read_all(conn, "dup")[0] == [
        {"a": "1", "a_2": "2", "b": "3", "column_4": "4", "a_3": "5"}
    ]
    dup = next(s for s in conn.discover() if s.name == "dup")
    assert [f.name for f in dup.fields] == ["a", "a_2", "b", "column_4", "a_3"]


def test_late_invalid_utf8_falls_back_without_duplicates(tmp_path: Path) -> None:
    rows = [f"{i},ascii" for i in range(60_000)] + ["60000,caf\xe9"]
    write_csv(tmp_path / "late.csv", "id,v", rows, encoding="latin-1")  # bad byte > 1 MiB in
    conn = FilesConnector({"path": str(tmp_path), "block_size": 1 << 16, "batch_size": 1000})
    got, _ = read_all(conn, "late")
    assert len(got) == 60_001 and len({r["id"] for r in got}) == 60_001
    assert got[-1]["v"] == "café"


def test_empty_and_header_only_files_give_zero_rows(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    write_csv(tmp_path / "header.csv", "id,name", [])
    (tmp_path / "empty.jsonl").write_bytes(b"")
    conn = FilesConnector({"path": str(tmp_path)})
    for stream in ("empty", "header"):
        rows, state = read_all(conn, stream)
        assert rows == [] and all(e["done"] and "error" not in e for e in state["files"].values())
    assert [f.name for f in next(s for s in conn.discover() if s.name == "header").fields] == [
        "id",
        "name",
    ]


def test_unreadable_file_is_terminal_but_other_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.parquet").write_bytes(b"this is not parquet at all")
    pq.write_table(pa.table({"id": [1, 2]}), tmp_path / "t" / "b.parquet")
    conn = FilesConnector({"path": str(tmp_path)})
    states = []
    rows = []
    with pytest.raises(ConnectorError) as err:
        for item in conn.read("t", None):
            if isinstance(item, RecordBatchMessage):
                rows.extend(item.batch.to_pylist())
            else:
                states.append(item.state)
    assert err.value.failure is FailureType.TERMINAL
    assert "a.parquet" in str(err.value)
    assert rows == [{"id": 1}, {"id": 2}]
    assert states[-1]["files"][str(tmp_path / "t" / "a.parquet")]["error"]
    assert conn.stats[str(tmp_path / "t" / "a.parquet")].error


def test_malformed_jsonl_lines_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "j.jsonl").write_text('{"id": 1}\n{oops\n[1, 2]\n{"id": 3}\n')
    conn = FilesConnector({"path": str(tmp_path)})
    rows, state = read_all(conn, "j")
    assert rows == [{"id": 1}, {"id": 3}]
    assert next(iter(state["files"].values()))["invalid_rows"] == 2


def test_ten_thousand_columns(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(10_000)]
    write_csv(tmp_path / "wide.csv", ",".join(names), [",".join(str(i) for i in range(10_000))] * 3)
    conn = FilesConnector({"path": str(tmp_path)})
    (schema,) = conn.discover()
    assert len(schema.fields) == 10_000
    batches = [i.batch for i in conn.read("wide", None) if isinstance(i, RecordBatchMessage)]
    assert sum(b.num_rows for b in batches) == 3
    assert batches[0].num_columns == 10_000 and batches[0].column("c9999")[0].as_py() == "9999"


_BIG_READER = textwrap.dedent(
    """
    import json, sys, time
    from autonomos.connectors.files import FilesConnector
    from autonomos.connectors import RecordBatchMessage

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024

    before = hwm()
    rows, t0 = 0, time.perf_counter()
    for item in FilesConnector({"path": sys.argv[1]}).read("big", None):
        if isinstance(item, RecordBatchMessage):
            rows += item.batch.num_rows
    print(json.dumps({"rows": rows, "s": time.perf_counter() - t0, "delta": hwm() - before}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_large_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    line = "12345678,some customer name,someone@example.com,2024-01-01T00:00:00Z,123.45\n"
    block = line.encode() * 14_000  # ~1 MiB
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write(b"id,name,email,created,amount\n")
        for _ in range(200):
            f.write(block)
    size = path.stat().st_size
    out = subprocess.run(
        [sys.executable, "-c", _BIG_READER, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout)
    assert result["rows"] == 200 * 14_000
    print(
        f"\nbig csv: {size / 1e6:.0f} MB, {result['rows'] / result['s']:,.0f} rows/s, "
        f"peak RSS delta {result['delta'] / 1e6:.0f} MB"
    )
    assert result["delta"] < min(160e6, size * 0.75), result  # streaming, not the whole file
