"""ViewStore: slices built from landed Parquet, idempotent upserts, deletes, rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from autonomos.dcl.slices import FieldMapping, LandedFile
from autonomos.dcl.views import ViewStore
from tests.helpers.dcl import ACCOUNTS, T0, Landing, spec


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    d = tmp_path / "landing"
    d.mkdir()
    return Landing(d)


@pytest.fixture(params=["native", "pyarrow"])
def store(request: pytest.FixtureRequest, tmp_path: Path, landing: Landing) -> Iterator[ViewStore]:
    """Landed files read by DuckDB (in the allowed landing dir) or through pyarrow."""
    dirs = (landing.root,) if request.param == "native" else ()
    with ViewStore(tmp_path / "t.duckdb", landing_dirs=dirs) as s:
        yield s


def rows(store: ViewStore, sql: str = "SELECT * FROM account ORDER BY _source_key") -> list:
    con = store.cursor()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def base(landing: Landing) -> LandedFile:
    return landing.land(
        id=["a1", "a2", "a3"],
        name=["Acme", "Beta", "Gamma"],
        employees=["10", "x", "30"],  # text that does not convert becomes null
        revenue=[1.5, 2.25, None],
        deleted=[False, False, False],
        modified=["2025-01-01T00:00:00Z"] * 3,
    )


def test_full_build_types_and_lineage(store: ViewStore, landing: Landing) -> None:
    base(landing)
    result = store.materialize(spec(), landing.files)
    assert (result.mode, result.rows, result.source_rows) == ("full", 3, 3)
    got = rows(
        store,
        "SELECT account_id, name, employee_count, annual_revenue::VARCHAR, domain, "
        "_source_connection, _source_stream, _source_key, _synced_at FROM account "
        "ORDER BY account_id",
    )
    assert got[0][:8] == ("a1", "Acme", 10, "1.5000000000", None, "c1", "accounts", "a1")
    assert got[1][2] is None  # "x" is not an integer
    assert got[0][8] == T0 + timedelta(minutes=1)
    types = dict(
        rows(
            store,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'account'",
        )
    )
    assert types["employee_count"] == "BIGINT" and types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert "_row_hash" not in types


def test_replay_changes_nothing(store: ViewStore, landing: Landing) -> None:
    base(landing)
    store.materialize(spec(), landing.files)
    before = rows(store)
    assert store.materialize(spec(), landing.files).mode == "unchanged"
    base(landing)  # the same rows landed again (a replayed sync)
    result = store.materialize(spec(), landing.files)
    assert (result.mode, result.upserted, result.deleted) == ("incremental", 0, 0)
    assert rows(store) == before  # _synced_at included


def test_upserts_and_deletes(store: ViewStore, landing: Landing) -> None:
    base(landing)
    store.materialize(spec(), landing.files)
    landing.land(
        id=["a2", "a3", "a4"],
        name=["Beta 2", "Gamma", "Delta"],
        employees=["20", "30", "40"],
        revenue=[2.25, None, 4.0],
        deleted=[False, True, False],  # a3 soft-deleted in the source
        modified=["2025-02-01T00:00:00Z"] * 3,
    )
    result = store.materialize(spec(), landing.files)
    assert (result.mode, result.upserted, result.deleted) == ("incremental", 2, 2)
    got = {r[0]: r for r in rows(store, "SELECT account_id, name, _synced_at FROM account")}
    assert set(got) == {"a1", "a2", "a4"}
    assert got["a2"][1] == "Beta 2" and got["a2"][2] == T0 + timedelta(minutes=2)
    assert got["a1"][2] == T0 + timedelta(minutes=1)  # untouched row keeps its sync time
    # a full rebuild from the same landed data gives the same rows
    before = rows(store)
    assert store.materialize(spec(), landing.files, full=True).mode == "full"
    assert rows(store) == before


def test_op_column_deletes(store: ViewStore, landing: Landing) -> None:
    landing.land(id=["k1", "k2"], name=["one", "two"], _op=["upsert", "upsert"])
    m = (FieldMapping("id", "account_id"), FieldMapping("name", "name"))
    store.materialize(spec(m), landing.files)
    landing.land(id=["k1"], name=["one"], _op=["delete"])
    store.materialize(spec(m), landing.files)
    assert [r[0] for r in rows(store, "SELECT account_id FROM account")] == ["k2"]
    landing.land(id=["k1"], name=["again"], _op=["upsert"])  # re-created later
    store.materialize(spec(m), landing.files)
    assert sorted(rows(store, "SELECT account_id, name FROM account")) == [
        ("k1", "again"),
        ("k2", "two"),
    ]


def test_removed_batch_rebuilds_and_its_rows_disappear(store: ViewStore, landing: Landing) -> None:
    first = base(landing)
    landing.land(
        id=["z9"],
        name=["Zeta"],
        employees=["1"],
        revenue=[1.0],
        deleted=[False],
        modified=["2025-01-02T00:00:00Z"],
    )
    store.materialize(spec(), landing.files)
    assert len(rows(store)) == 4
    result = store.materialize(spec(), [f for f in landing.files if f is not first])
    assert (result.mode, result.rows) == ("full", 1)


def test_duplicates_latest_batch_then_updated_at_wins(store: ViewStore, landing: Landing) -> None:
    landing.land(
        id=["d1", "d1", "d2"],
        name=["old", "new", "x"],
        modified=["2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z", "2025-01-01T00:00:00Z"],
    )
    m = (
        FieldMapping("id", "account_id"),
        FieldMapping("name", "name"),
        FieldMapping("modified", "updated_at"),
    )
    result = store.materialize(spec(m), landing.files)
    assert result.rows == 2
    assert dict(rows(store, "SELECT account_id, name FROM account"))["d1"] == "new"
    landing.land(id=["d1"], name=["newest batch"], modified=["2024-01-01T00:00:00Z"])
    store.materialize(spec(m), landing.files)
    assert dict(rows(store, "SELECT account_id, name FROM account"))["d1"] == "newest batch"


def test_schema_drift_between_batches(store: ViewStore, landing: Landing) -> None:
    landing.land(id=pa.array([1, 2], pa.int64()), name=["a", "b"])
    landing.land(id=["3", "x4"], title=["new column", None])  # id became text, name gone
    m = (FieldMapping("id", "account_id"), FieldMapping("name", "name"))
    store.materialize(spec(m), landing.files)
    assert sorted(rows(store, "SELECT account_id, name FROM account")) == [
        ("1", "a"),
        ("2", "b"),
        ("3", None),
        ("x4", None),
    ]


def test_fallback_keys(store: ViewStore, landing: Landing) -> None:
    landing.land(a=["x", "x", "y"], b=[1, 1, 2])
    m = (FieldMapping("a", "name"),)
    # no mapped pk and no stream key: identical source rows collapse, keys are content hashes
    assert store.materialize(spec(m), landing.files).rows == 2
    keyed = spec(m, stream="other", primary_key=("a", "b"))
    assert store.materialize(keyed, landing.files).rows == 2
    keys = rows(store, "SELECT account_id FROM account WHERE _source_stream = 'other' ORDER BY 1")
    assert keys == [('["x","1"]',), ('["y","2"]',)]


def test_injection_shaped_identifiers_are_just_names(store: ViewStore, landing: Landing) -> None:
    evil = 'x"; DROP TABLE account; --'
    landing.land(**{"id": ["i1"], evil: ["value"], "it's": ["quoted"]})
    m = (
        FieldMapping("id", "account_id"),
        FieldMapping(evil, "name"),
        FieldMapping("it's", "industry", "default:o'clock"),
    )
    weird = spec(m, connection_id="c'1\"", stream="st\"ream'; DROP VIEW account; --")
    result = store.materialize(weird, landing.files)
    assert result.rows == 1
    got = rows(store, "SELECT name, industry, _source_connection, _source_stream FROM account")
    assert got == [("value", "quoted", "c'1\"", "st\"ream'; DROP VIEW account; --")]
    assert store.materialize(weird, landing.files).mode == "unchanged"


def test_mapping_change_rebuilds_only_its_slice(store: ViewStore, landing: Landing) -> None:
    base(landing)
    other = Landing(Path(landing.root))
    other.n = 100
    other.land(id=["c1"], email=["a@b.c"])
    contacts = spec(
        (FieldMapping("id", "contact_id"), FieldMapping("email", "email")),
        stream="people",
        entity="contact",
    )
    store.materialize(spec(), landing.files)
    store.materialize(contacts, other.files)
    edited = spec((*ACCOUNTS[:1], FieldMapping("name", "name", "upper"), *ACCOUNTS[2:]))
    assert store.materialize(edited, landing.files).mode == "full"
    assert store.materialize(contacts, other.files).mode == "unchanged"
    assert rows(store, "SELECT name FROM account ORDER BY 1")[0] == ("ACME",)


def test_drop_connection_and_reopen(tmp_path: Path, landing: Landing) -> None:
    base(landing)
    path = tmp_path / "r.duckdb"
    with ViewStore(path) as s:
        s.materialize(spec(), landing.files)
        s.materialize(spec(connection_id="c2"), landing.files)
    with ViewStore(path) as s:  # state survives a restart
        assert s.materialize(spec(), landing.files).mode == "unchanged"
        assert s.drop(connection_id="c1") == ["account"]
        assert {r[0] for r in rows(s, "SELECT _source_connection FROM account")} == {"c2"}


def test_instance_reads_no_file_but_its_landing(tmp_path: Path, landing: Landing) -> None:
    f = base(landing)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    other = Landing(outside).land(id=["x"])
    with ViewStore(tmp_path / "a.duckdb", landing_dirs=(landing.root,)) as store:
        con = store.cursor()
        assert con.execute(f"SELECT count(*) FROM read_parquet('{f.path}')").fetchall() == [(3,)]
        for sql in (
            f"SELECT * FROM read_parquet('{other.path}')",
            f"SELECT * FROM read_parquet('{landing.root}/../elsewhere/*.parquet')",
            "SELECT * FROM read_csv('/etc/hostname')",
            "SET enable_external_access = true",
            f"SET allowed_directories = ['{outside}/']",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql).fetchall()
        con.close()
    with ViewStore(tmp_path / "b.duckdb") as store:
        con = store.cursor()
        with pytest.raises(duckdb.Error):
            con.execute(f"SELECT * FROM read_parquet('{f.path}')").fetchall()
        con.close()


def test_row_order_breaks_ties_natively(tmp_path: Path, landing: Landing) -> None:
    landing.land(id=["k", "k", "k"], name=["first", "second", "last"])
    m = (FieldMapping("id", "account_id"), FieldMapping("name", "name"))
    with ViewStore(tmp_path / "o.duckdb", landing_dirs=(landing.root,)) as store:
        store.materialize(spec(m), landing.files)
        assert rows(store, "SELECT name FROM account") == [("last",)]
