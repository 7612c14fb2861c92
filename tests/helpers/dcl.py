"""DCL unit-test data: a small landing zone, view specs, SQL the sandbox must refuse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from autonomos.dcl.slices import FieldMapping, LandedFile, SliceSpec

T0 = datetime(2025, 1, 1, tzinfo=UTC)


ACCOUNTS = (
    FieldMapping("id", "account_id"),
    FieldMapping("name", "name"),
    FieldMapping("employees", "employee_count"),
    FieldMapping("revenue", "annual_revenue"),
    FieldMapping("deleted", "is_deleted"),
    FieldMapping("modified", "updated_at"),
)


class Landing:
    """Writes Parquet batches the way the landing zone does, with increasing landed_at."""

    def __init__(self, root: Path) -> None:
        self.root, self.n = root, 0
        self.files: list[LandedFile] = []

    def land(self, **columns: Any) -> LandedFile:
        self.n += 1
        path = self.root / f"b{self.n}-{uuid.uuid4().hex[:6]}.parquet"
        pq.write_table(pa.table(columns), path)
        f = LandedFile(uuid.uuid4().hex, str(path), T0 + timedelta(minutes=self.n))
        self.files.append(f)
        return f


def spec(mappings: tuple[FieldMapping, ...] = ACCOUNTS, **kw: object) -> SliceSpec:
    values: dict = {"connection_id": "c1", "stream": "accounts", "entity": "account"}
    values.update(kw)
    return SliceSpec(mappings=mappings, **values)


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
