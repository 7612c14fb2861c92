"""SQL helpers of the agents: quoting for evidence queries, private temp tables, rows.

Values that reach an analysis query are bound as parameters; evidence queries (text a
person re-runs in the SQL sandbox) quote them with :func:`literal`. Intermediate results
live in temp tables of the analysis's own DuckDB connection (a cursor: its temp schema is
private to it), dropped when the analysis ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from autonomos.agents.errors import AnalysisError


def literal(value: str | date | datetime | float | None) -> str:
    """A SQL literal for evidence text (strings quoted, NUL refused)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if "\x00" in value:
        raise ValueError("literals cannot contain NUL")
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def key_filter(column: str, value: str) -> str:
    """Evidence filter on a grouping key: keys are ``coalesce(col, '')``, so '' is null."""
    return f"coalesce({ident(column)}, '') = {literal(value)}"


class Scratch:
    """Temp tables (and views) of one analysis on one connection; all dropped by
    :func:`scratch`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._suffix = uuid.uuid4().hex[:12]
        self._tables: list[str] = []  # and views, dropped in reverse order
        self._views: set[str] = set()

    def table(self, name: str, select: str, params: Sequence[Any] = ()) -> str:
        """``CREATE TEMP TABLE`` from ``select``; returns the table's (quoted) name."""
        qualified = f"temp.{ident(f'_agent_{name}_{self._suffix}')}"
        self.con.execute(f"CREATE TEMP TABLE {qualified} AS {select}", list(params))
        self._tables.append(qualified)
        return qualified

    def view(self, name: str, select: str) -> str:
        """``CREATE TEMP VIEW`` of ``select`` (no parameters); returns its (quoted) name."""
        qualified = f"temp.{ident(f'_agent_{name}_{self._suffix}')}"
        self.con.execute(f"CREATE TEMP VIEW {qualified} AS {select}")
        self._tables.append(qualified)
        self._views.add(qualified)
        return qualified

    def drop_all(self) -> None:
        for table in reversed(self._tables):
            kind = "VIEW" if table in self._views else "TABLE"
            try:
                self.con.execute(f"DROP {kind} IF EXISTS {table}")
            except duckdb.Error:  # the connection is gone; so are its temp tables
                break
        self._tables.clear()
        self._views.clear()


@contextmanager
def scratch(con: duckdb.DuckDBPyConnection) -> Iterator[Scratch]:
    """Temp tables for one analysis; DuckDB errors become :class:`AnalysisError`."""
    s = Scratch(con)
    try:
        yield s
    except duckdb.Error as exc:
        raise AnalysisError(f"analysis query failed: {_first_line(exc)}") from exc
    finally:
        s.drop_all()


def records(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Rows as dicts with JSON-friendly values (decimals as floats, dates as ISO text)."""
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, (plain(v) for v in row), strict=True)) for row in cur.fetchall()]


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def require_view(con: duckdb.DuckDBPyConnection, view: str) -> None:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ?",
        [view],
    ).fetchone()
    if not found or not found[0]:
        raise AnalysisError(f"the unified view {view!r} does not exist in this database")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
