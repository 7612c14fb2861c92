"""The SQL sandbox: one SELECT only, no file/network/catalog access, row and time limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from autonomos.dcl import sandbox
from autonomos.dcl.errors import QueryRejected, QueryTimeout
from autonomos.dcl.views import ViewStore
from tests.helpers.dcl import FORBIDDEN


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with ViewStore(tmp_path / "s.duckdb") as store:
        c = store.cursor()
        yield c
        c.close()


@pytest.mark.parametrize("sql, why", FORBIDDEN)
def test_forbidden(con: duckdb.DuckDBPyConnection, sql: str, why: str) -> None:
    with pytest.raises(QueryRejected, match=why):
        sandbox.run(con, sql, max_rows=10, timeout_s=5)


def test_selects_run(con: duckdb.DuckDBPyConnection) -> None:
    r = sandbox.run(
        con,
        "-- a comment\nWITH n AS (SELECT range AS i FROM range(5)) "
        "SELECT i, i * 1.5::DECIMAL(10,2) AS d, {'k': i} AS s, now() > TIMESTAMP '2020-01-01' "
        "AS later FROM n ORDER BY i DESC;",
        max_rows=3,
        timeout_s=5,
    )
    assert r.truncated and r.row_count == 3
    assert [c["name"] for c in r.columns][:3] == ["i", "d", "s"]
    assert r.rows[0][:3] == [4, 6, {"k": 4}] and r.rows[0][3] is True
    assert sandbox.run(con, "SELECT count(*) AS n FROM account", max_rows=5, timeout_s=5).rows == [
        [0]
    ]
    assert sandbox.run(con, "FROM range(3)", max_rows=5, timeout_s=5).row_count == 3


def test_time_limit(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(QueryTimeout):
        sandbox.run(
            con,
            "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3",
            max_rows=5,
            timeout_s=0.3,
        )
    # the cursor is usable afterwards
    assert sandbox.run(con, "SELECT 1", max_rows=5, timeout_s=5).rows == [[1]]


def test_limit_cannot_be_escaped(con: duckdb.DuckDBPyConnection) -> None:
    for sql in (
        "SELECT * FROM range(100) -- ) AS x LIMIT 1000",
        "SELECT * FROM range(100) /* ) AS x LIMIT 1000 */",
        "SELECT * FROM range(100) LIMIT 1000;",
    ):
        r = sandbox.run(con, sql, max_rows=7, timeout_s=5)
        assert r.row_count == 7 and r.truncated
