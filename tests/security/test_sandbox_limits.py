"""Finding 4: the SQL sandbox's answer is bounded by bytes, and the whole call (running,
fetching and encoding) by the time limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from autonomos.dcl import sandbox
from autonomos.dcl.errors import QueryTimeout
from autonomos.dcl.views import ViewStore
from tests.conftest import Tenant

HUGE = "SELECT repeat('x', 10000000) AS s FROM range(30)"  # 300 MB of text
# fast to run, slow to fetch and encode: millions of rows of a few columns
WIDE = "SELECT x, x * 2 AS y, 'row ' || x AS label, x / 3 AS third FROM range({n}) t(x)"


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with ViewStore(tmp_path / "s.duckdb") as store:
        c = store.cursor()
        yield c
        c.close()


def test_rows_stop_at_the_byte_budget(con: duckdb.DuckDBPyConnection) -> None:
    r = sandbox.run(
        con,
        "SELECT repeat('x', 1000000) AS s FROM range(30)",
        max_rows=1000,
        timeout_s=30,
        max_bytes=5_000_000,
    )
    assert r.truncated and r.row_count == 4  # five rows of ~1 MB are over 5 MB with JSON
    assert len(r.rows_json) <= 5_000_000
    assert json.loads(r.to_json())["rows"] == [["x" * 1_000_000]] * 4


def test_a_row_larger_than_the_budget_is_never_copied(con: duckdb.DuckDBPyConnection) -> None:
    started = time.monotonic()
    r = sandbox.run(con, HUGE, max_rows=10_000, timeout_s=30, max_bytes=10_000_000)
    assert r.truncated and r.row_count == 0 and r.rows == []
    assert len(r.to_json()) < 1_000
    assert time.monotonic() - started < 5


def test_exact_answers_below_the_limits(con: duckdb.DuckDBPyConnection) -> None:
    r = sandbox.run(
        con,
        "SELECT x, '{\"a\": 1}'::JSON AS j, MAP {'k': x} AS m, INTERVAL 2 DAY AS i, "
        "12345678901234567890::HUGEINT AS h, 'nan'::DOUBLE AS n FROM range(3) t(x)",
        max_rows=3,
        timeout_s=30,
        max_bytes=10_000,
    )
    assert not r.truncated and r.row_count == 3
    assert r.rows[2] == [2, {"a": 1}, {"k": 2}, 172800.0, 12345678901234567890, "nan"]
    body = json.loads(r.to_json())
    assert body["rows"] == r.rows and body["row_count"] == 3 and body["truncated"] is False
    assert [c["type"] for c in body["columns"]][:2] == ["BIGINT", "JSON"]
    # the byte budget counts the encoded rows exactly: one byte less drops the last row
    smaller = sandbox.run(
        con,
        "SELECT x FROM range(3) t(x)",
        max_rows=3,
        timeout_s=30,
        max_bytes=len(b"[[0],[1],[2]]") - 1,
    )
    assert smaller.truncated and smaller.rows == [[0], [1]]


def test_fetching_and_encoding_are_inside_the_time_limit(con: duckdb.DuckDBPyConnection) -> None:
    """A query that runs at once but whose rows take long to fetch and encode."""
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        sandbox.run(
            con, WIDE.format(n=10**8), max_rows=10**8, timeout_s=1.0, max_bytes=1_000_000_000
        )
    assert time.monotonic() - started < 2.0
    # with the default byte budget it stops at 10 MB instead, also well inside the limit
    started = time.monotonic()
    try:
        r = sandbox.run(con, WIDE.format(n=2_000_000), max_rows=2_000_000, timeout_s=1.0)
        assert r.truncated and len(r.rows_json) <= 10_000_000
    except QueryTimeout:
        pass
    assert time.monotonic() - started < 2.0
    assert sandbox.run(con, "SELECT 1", max_rows=5, timeout_s=5).rows == [[1]]


async def test_api_answer_is_bounded_in_bytes_and_time(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    """The review's request: 300 MB of rows with a 5 s limit (it answered 300 MB in 8.9 s)."""
    started = time.monotonic()
    r = await api.post(
        "/api/v1/dcl/query", headers=tenant_a.headers, json={"sql": HUGE, "timeout_s": 5}
    )
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text[:500]
    assert len(r.content) <= 10_000_000 + 1_000
    body = r.json()
    assert body["truncated"] is True and body["row_count"] == len(body["rows"])
    assert elapsed < 5.0
    # a budget's worth of rows comes back whole, then truncated
    r = await api.post(
        "/api/v1/dcl/query",
        headers=tenant_a.headers,
        json={"sql": "SELECT repeat('x', 1000000) AS s FROM range(30)"},
    )
    body = r.json()
    assert r.status_code == 200 and body["truncated"] is True
    assert body["row_count"] == 9 and len(r.content) <= 10_000_000 + 1_000
