"""The read-only SQL sandbox over one tenant's unified views.

Layers, each enough on its own for what it stops:

1. **Parse** with DuckDB's own parser: exactly one statement, of type SELECT (COPY,
   ATTACH, INSTALL/LOAD, EXPORT, PRAGMA, SET, CALL, EXPLAIN, DDL and DML are refused).
2. **Walk** the statement's syntax tree (``json_serialize_sql``): table functions other
   than a few generators (``range``, ``unnest``, ...) are refused, so ``read_csv``,
   ``read_parquet``, ``glob``, ``query``, ``duckdb_settings`` never run, and so are
   path- or URL-like table names (DuckDB's replacement scans: ``FROM 'x.csv'``);
   statement forms the serialiser does not cover are refused too. The statement that
   runs is the one printed back from that tree.
3. **Instance**: the tenant's DuckDB has ``enable_external_access=false`` and a locked
   configuration (see ``_duck.connect``): no URL or extension is reachable even through
   something the walk missed, no file but the tenant's own landed Parquet (the writer's
   read path), and the file only holds this tenant's data: there is no other tenant to
   reach.
4. **Limits**: the query runs wrapped in ``LIMIT max_rows + 1`` on its own cursor; its
   rows stream as Arrow batches into an encoder that stops at ``max_rows`` rows or
   ``max_bytes`` of JSON (``truncated``; see ``encode.py``), and the whole call, fetching
   and encoding included, has one deadline: a timer interrupts the engine at it and the
   encoder checks it between rows.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from autonomos.dcl.encode import QueryResult, RowEncoder
from autonomos.dcl.errors import QueryRejected, QueryTimeout

MAX_SQL_CHARS = 20_000
DEFAULT_MAX_BYTES = 10_000_000
BATCH_ROWS = 1_024  # Arrow rows per streamed batch
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree", "generate_subscripts"}
)
DENIED_FUNCTIONS = frozenset({"current_setting", "getenv", "getvariable"})
# table names DuckDB would treat as a file or URL (replacement scans); views have none
_PATH_LIKE = re.compile(r"[/\\:.~]")
# system views that show engine settings and file paths (pragma_database_list, ...)
_SYSTEM_PREFIXES = ("duckdb_", "pragma_", "pg_")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The single SELECT in ``sql``, ready to wrap; QueryRejected saying why otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRejected("the query is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRejected(f"the query is longer than {MAX_SQL_CHARS} characters")
    if "\x00" in sql:
        raise QueryRejected("the query contains a NUL character")
    try:
        statements = [s for s in con.extract_statements(sql) if s.query.strip(" \t\r\n;")]
    except duckdb.Error as exc:
        raise QueryRejected(f"the query does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise QueryRejected(f"only a single statement is allowed (got {len(statements)})")
    statement = statements[0]
    kind = statement.type.name
    if kind != "SELECT":
        raise QueryRejected(f"only SELECT is allowed; {kind} statements are refused")
    text = statement.query.strip().rstrip(";").strip()
    row = _one(con, "SELECT json_serialize_sql(?)", text)
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise QueryRejected(
            "this statement form is not supported; write a plain SELECT "
            f"({tree.get('error_message', 'not serialisable')})"
        )
    for node in _nodes(tree):
        node_type = node.get("type")
        if node_type == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryRejected(
                    f"table function {name}() is not allowed in the sandbox (no file, "
                    "network or catalog access); query the views instead"
                )
        elif node_type == "BASE_TABLE":
            table = str(node.get("table_name", ""))
            if _PATH_LIKE.search(table):
                raise QueryRejected(
                    f"{table!r} is not a view: file and URL scans are not allowed in the sandbox"
                )
            schema = str(node.get("schema_name", "")).lower()
            if table.lower().startswith(_SYSTEM_PREFIXES) or schema == "pg_catalog":
                raise QueryRejected(
                    f"{table!r}: the engine's system views (settings, files) are not "
                    "available in the sandbox; information_schema is"
                )
        elif node_type == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in DENIED_FUNCTIONS:
                raise QueryRejected(f"function {name}() is not allowed in the sandbox")
    # Run exactly what was checked: the statement printed back from its syntax tree
    # (no comments, no trailing text), so the LIMIT wrapper cannot be subverted.
    try:
        row = _one(con, "SELECT json_deserialize_sql(?)", row[0] if row else "")
    except duckdb.Error as exc:
        raise QueryRejected(f"this statement form is not supported: {_first_line(exc)}") from None
    if not row or not isinstance(row[0], str):
        raise QueryRejected("this statement form is not supported")
    return row[0]


def _one(con: duckdb.DuckDBPyConnection, sql: str, arg: str) -> tuple[Any, ...] | None:
    # fetched to the end: the query's own relation cannot start while a result is open
    rows = con.execute(sql, [arg]).fetchall()
    return rows[0] if rows else None


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def run(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    max_rows: int,
    timeout_s: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> QueryResult:
    """Check and run ``sql`` on ``con`` (a cursor of its own, closed by the caller).

    The whole call (checking, running, fetching and encoding) answers within
    ``timeout_s``: the engine is interrupted at the deadline and the encoder checks it
    between rows. Rows stream from DuckDB as Arrow batches and stop at ``max_rows`` or
    ``max_bytes`` of encoded JSON (``truncated``), so the rest is never produced.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    text = check(con, sql)
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), con.interrupt)
    timer.daemon = True
    timer.start()
    reader = None
    try:
        # text is the checked SELECT, re-printed from its syntax tree
        wrapped = f"SELECT * FROM (\n{text}\n) AS _sandbox LIMIT {int(max_rows) + 1}"  # noqa: S608
        relation = con.sql(wrapped)
        types = [str(t) for t in relation.types]
        encoder = RowEncoder(
            types, max_rows=max_rows, max_bytes=max_bytes, deadline=deadline, timeout_s=timeout_s
        )
        reader = relation.to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            if not encoder.add(batch):
                break
    except duckdb.InterruptException:
        raise QueryTimeout.after(timeout_s) from None
    except duckdb.OutOfMemoryException:
        raise QueryRejected("the query needs more memory than the sandbox allows") from None
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        # interrupted mid-way, surfacing as another class (Arrow's stream: an OSError)
        if not timer.is_alive():
            raise QueryTimeout.after(timeout_s) from None
        raise QueryRejected(f"the query failed: {_first_line(exc)}") from None
    finally:
        timer.cancel()
        if reader is not None:
            reader.close()  # stops the query: rows past the limits are never produced
    return QueryResult(
        columns=[
            {"name": name, "type": t} for name, t in zip(relation.columns, types, strict=True)
        ],
        rows_json=encoder.rows_json(),
        row_count=encoder.row_count,
        truncated=encoder.truncated,
        elapsed_ms=round((time.monotonic() - started) * 1000, 2),
    )
