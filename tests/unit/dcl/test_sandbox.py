"""The SQL sandbox: one SELECT only, no file/network/catalog access, row and time limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from autonomos.dcl import sandbox
from autonomos.dcl.errors import QueryRejected, QueryTimeout
from autonomos.dcl.views import ViewStore

FORBIDDEN = [
    ("COPY account TO '/tmp/x.csv'", "COPY"),
    ("ATTACH '/tmp/other.duckdb' AS other", "ATTACH"),
    ("DETACH other", "DETACH"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("EXPORT DATABASE '/tmp/dump'", "EXPORT"),
    ("PRAGMA database_list", "PRAGMA"),
    ("SET enable_external_access = true", "SET"),
    ("RESET threads", "SET"),
    ("USE other", "SET"),
    ("CALL pragma_version()", "CALL"),
    ("CHECKPOINT", "CALL"),
    ("EXPLAIN SELECT 1", "EXPLAIN"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')", "CREATE"),
    ("DROP VIEW account", "DROP"),
    ("INSERT INTO x VALUES (1)", "INSERT"),
    ("UPDATE x SET a = 1", "UPDATE"),
    ("DELETE FROM x", "DELETE"),
    ("BEGIN", "TRANSACTION"),
    ("VACUUM", "VACUUM"),
    ("SELECT 1; DROP VIEW account", "single statement"),
    ("SELECT 1; SELECT 2", "single statement"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "read_parquet"),
    ("SELECT * FROM read_json('https://example.com/x.json')", "read_json"),
    ("SELECT * FROM read_text('/etc/hostname')", "read_text"),
    ("SELECT * FROM read_blob('/etc/hostname')", "read_blob"),
    ("SELECT * FROM glob('/*')", "glob"),
    ("SELECT * FROM query('SELECT 1')", "query"),
    ("SELECT * FROM query_table('account')", "query_table"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM duckdb_databases()", "duckdb_databases"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "sniff_csv"),
    ("SELECT * FROM account WHERE 1 IN (SELECT 1 FROM read_csv('/etc/passwd'))", "read_csv"),
    ("WITH x AS (SELECT * FROM read_parquet('s3://b/k')) SELECT * FROM x", "read_parquet"),
    ("SELECT current_setting('temp_directory')", "current_setting"),
    ("SELECT * FROM pragma_database_list", "system views"),
    ("SELECT * FROM duckdb_databases", "system views"),
    ("SELECT * FROM pg_catalog.pg_settings", "system views"),
    ("SELECT * FROM '/etc/passwd'", "not a view"),
    ("SELECT * FROM 'https://example.com/data.parquet'", "not a view"),
    ("SELECT * FROM 'data.csv'", "not a view"),
    ('SELECT * FROM account, "s3://bucket/x.parquet"', "not a view"),
    ("PIVOT account ON name USING count(*)", "MULTI"),
    ("DESCRIBE SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("", "empty"),
    ("SELEC 1", "does not parse"),
]


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
