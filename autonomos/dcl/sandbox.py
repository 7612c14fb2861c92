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
4. **Limits**: the query runs wrapped in ``LIMIT max_rows + 1`` on its own cursor, and a
   timer interrupts it after ``timeout_s``.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from autonomos.dcl.errors import QueryRejected, QueryTimeout

MAX_SQL_CHARS = 20_000
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree", "generate_subscripts"}
)
DENIED_FUNCTIONS = frozenset({"current_setting", "getenv", "getvariable"})
# table names DuckDB would treat as a file or URL (replacement scans); views have none
_PATH_LIKE = re.compile(r"[/\\:.~]")
# system views that show engine settings and file paths (pragma_database_list, ...)
_SYSTEM_PREFIXES = ("duckdb_", "pragma_", "pg_")


@dataclass(frozen=True)
class QueryResult:
    columns: list[dict[str, str]]  # name, type
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    row = con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
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
        row = con.execute("SELECT json_deserialize_sql(?)", [row[0] if row else ""]).fetchone()
    except duckdb.Error as exc:
        raise QueryRejected(f"this statement form is not supported: {_first_line(exc)}") from None
    if not row or not isinstance(row[0], str):
        raise QueryRejected("this statement form is not supported")
    return row[0]


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
    con: duckdb.DuckDBPyConnection, sql: str, *, max_rows: int, timeout_s: float
) -> QueryResult:
    """Check and run ``sql`` on ``con`` (a cursor of its own, closed by the caller)."""
    started = time.perf_counter()
    text = check(con, sql)
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        # text is the checked SELECT, re-printed from its syntax tree
        wrapped = f"SELECT * FROM (\n{text}\n) AS _sandbox LIMIT {int(max_rows) + 1}"  # noqa: S608
        cur = con.execute(wrapped)
        rows = cur.fetchall()
        description = cur.description or []
    except duckdb.InterruptException:
        raise QueryTimeout(f"the query ran longer than {timeout_s:g} s and was stopped") from None
    except duckdb.OutOfMemoryException:
        raise QueryRejected("the query needs more memory than the sandbox allows") from None
    except duckdb.Error as exc:
        if not timer.is_alive():  # interrupted mid-way, surfacing as another error class
            raise QueryTimeout(
                f"the query ran longer than {timeout_s:g} s and was stopped"
            ) from None
        raise QueryRejected(f"the query failed: {_first_line(exc)}") from None
    finally:
        timer.cancel()
    types = [str(d[1]) for d in description]
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    json_cols = {i for i, t in enumerate(types) if t == "JSON"}
    return QueryResult(
        columns=[{"name": d[0], "type": t} for d, t in zip(description, types, strict=True)],
        rows=[
            [json_cell(v) if i in json_cols else jsonable(v) for i, v in enumerate(r)] for r in rows
        ],
        row_count=len(rows),
        truncated=truncated,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def jsonable(value: Any) -> Any:
    """A DuckDB result value as JSON: decimals as numbers, times as ISO 8601 text,
    non-finite floats as text (``"nan"``, ``"inf"``)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):  # JSON has no NaN or infinities
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def json_cell(value: Any) -> Any:
    """A DuckDB JSON value as its parsed structure (text that is not JSON stays text)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return jsonable(value)
