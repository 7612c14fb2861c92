"""Listing and reading views: filters, sort, field selection, keyset pagination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from autonomos.dcl import browse
from autonomos.dcl.browse import Filter, ViewRequest
from autonomos.dcl.errors import QueryRejected, UnknownView
from autonomos.dcl.slices import FieldMapping
from autonomos.dcl.views import ViewStore
from autonomos.ontology import load_ontology
from tests.helpers.dcl import Landing, spec

ONTOLOGY = load_ontology()
M = (
    FieldMapping("id", "opportunity_id"),
    FieldMapping("name", "name"),
    FieldMapping("amount", "amount"),
    FieldMapping("stage", "stage"),
)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    landing = Landing(tmp_path)
    n = 25
    landing.land(
        id=[f"o{i:02d}" for i in range(n)],
        name=[f"Deal {i}" for i in range(n)],
        amount=[None if i % 5 == 0 else float(i % 7) for i in range(n)],
        stage=["won" if i % 3 == 0 else "open" for i in range(n)],
    )
    with ViewStore(tmp_path / "b.duckdb") as store:
        store.materialize(spec(M, stream="deals", entity="opportunity"), landing.files)
        c = store.cursor()
        yield c
        c.close()


def read(con: duckdb.DuckDBPyConnection, **kw: object) -> dict:
    return browse.read_view(con, ONTOLOGY, "opportunity", ViewRequest(**kw))  # type: ignore[arg-type]


def test_list_views(con: duckdb.DuckDBPyConnection) -> None:
    views = {v["name"]: v for v in browse.list_views(con, ONTOLOGY)}
    assert set(ONTOLOGY.entity_names) <= set(views)
    opp = views["opportunity"]
    assert opp["rows"] == 25 and opp["connections"] == ["c1"]
    assert opp["sources"][0]["stream"] == "deals" and opp["last_synced_at"] is not None
    assert views["account"]["rows"] == 0


def test_fields_filters_sort(con: duckdb.DuckDBPyConnection) -> None:
    page = read(
        con,
        fields=("opportunity_id", "amount"),
        filters=(Filter.parse("stage:eq:won"), Filter.parse("amount:gte:2")),
        sort=("-amount", "opportunity_id"),
    )
    assert page["fields"] == ["opportunity_id", "amount"]
    amounts = [r["amount"] for r in page["rows"]]
    assert amounts == sorted(amounts, reverse=True) and min(amounts) >= 2
    assert all(set(r) == {"opportunity_id", "amount"} for r in page["rows"])
    assert read(con, filters=(Filter.parse("amount:null"),))["rows"].__len__() == 5
    ins = read(con, filters=(Filter.parse("opportunity_id:in:o01,o02,nope"),))
    assert [r["opportunity_id"] for r in ins["rows"]] == ["o01", "o02"]
    assert len(read(con, filters=(Filter.parse("name:contains:DEAL 1"),))["rows"]) == 11
    assert len(read(con, filters=(Filter.parse("name:prefix:Deal 2"),))["rows"]) == 6


def test_cursor_pages_cover_everything_once(con: duckdb.DuckDBPyConnection) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = read(con, sort=("amount",), limit=4, cursor=cursor)  # nulls last, ties
        seen += [r["opportunity_id"] for r in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"o{i:02d}" for i in range(25)] and len(seen) == 25
    with pytest.raises(QueryRejected, match="cursor"):
        read(con, sort=("-amount",), limit=4, cursor=read(con, limit=4)["next_cursor"])
    with pytest.raises(QueryRejected, match="cursor"):
        read(con, cursor="not-a-cursor")


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"fields": ('name"; DROP VIEW opportunity; --',)}, "no field"),
        ({"sort": ("-nope",)}, "no field"),
        ({"filters": (Filter("amount", "gt", "lots"),)}, "invalid filter value"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_requests(con: duckdb.DuckDBPyConnection, kw: dict, match: str) -> None:
    with pytest.raises(QueryRejected, match=match):
        read(con, **kw)


def test_injection_in_values_is_a_value(con: duckdb.DuckDBPyConnection) -> None:
    page = read(con, filters=(Filter.parse("name:eq:x'); DROP VIEW opportunity; --"),))
    assert page["rows"] == []
    assert len(read(con)["rows"]) == 25


def test_filter_syntax_and_unknown_view(con: duckdb.DuckDBPyConnection) -> None:
    for bad in ("name", "name:like:x", "amount:gt"):
        with pytest.raises(QueryRejected):
            Filter.parse(bad)
    assert Filter.parse("name:eq:a:b") == Filter("name", "eq", "a:b")
    with pytest.raises(UnknownView):
        browse.read_view(con, ONTOLOGY, "_dcl.slices", ViewRequest())
