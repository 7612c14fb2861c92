"""Reading unified views: the list with row counts and freshness, and one view's rows with
filters, sort, field selection and keyset (cursor) pagination.

Every name a caller gives (view, field) is checked against the view's catalog columns
and then quoted; every value is bound as a parameter and cast to the column's type.
Pages are keyset-paginated on the sort fields plus the view's unique key (the lineage
triple for entity views), so pages stay stable while rows are added; nulls sort last in
both directions.
"""

# ruff: noqa: S608 - identifiers are catalog column names, quoted with ident()
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from autonomos.dcl._sql import INTERNAL_SCHEMA, LINEAGE, ident
from autonomos.dcl.encode import json_cell, jsonable
from autonomos.dcl.errors import UnknownView, ViewRequestError
from autonomos.ontology import Ontology

Op = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "prefix", "null", "notnull"]
OPS: dict[str, str] = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
VALUELESS = ("null", "notnull")
MAX_LIMIT = 1000
MAX_SORT = 4
MAX_FILTERS = 20
MAX_IN = 100
UNIFIED = ("unified_account", "unified_contact")  # built by autonomos.dcl.resolution
_UNORDERED = ("JSON", "STRUCT", "MAP", "[]", "UNION")


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Filter:
        """``field:op:value`` (the value may contain ``:``); ``field:null`` has none."""
        name, _, rest = text.partition(":")
        op, sep, value = rest.partition(":")
        if not name or not op:
            raise ViewRequestError(f"filter {text!r} must look like field:op:value")
        if op not in (*OPS, "in", "contains", "prefix", *VALUELESS):
            raise ViewRequestError(
                f"unknown filter operator {op!r}; use one of "
                f"{', '.join([*OPS, 'in', 'contains', 'prefix', *VALUELESS])}"
            )
        if op in VALUELESS:
            return cls(name, op)
        if not sep:
            raise ViewRequestError(f"filter {text!r} needs a value (field:{op}:value)")
        return cls(name, op, value)


@dataclass(frozen=True)
class ViewRequest:
    """One page request of ``GET /views/{name}`` (picklable: it crosses to the actor)."""

    fields: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    sort: tuple[str, ...] = ()  # "field" ascending, "-field" descending
    limit: int = 100
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def view_names(con: duckdb.DuckDBPyConnection, ontology: Ontology) -> list[str]:
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    return [*ontology.entity_names, *(u for u in UNIFIED if u in present)]


def columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """Column -> DuckDB type of a view in ``main`` (empty when there is none)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def list_views(con: duckdb.DuckDBPyConnection, ontology: Ontology) -> list[dict[str, Any]]:
    """Every view: rows, freshness and the contributing (connection, stream) slices."""
    slices = con.execute(
        "SELECT entity, connection_id, stream, rows, last_synced_at, materialized_at "
        f"FROM {INTERNAL_SCHEMA}.slices ORDER BY entity, connection_id, stream"
    ).fetchall()
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for entity, conn, stream, rows, synced, materialized in slices:
        by_entity.setdefault(entity, []).append(
            {
                "connection_id": conn,
                "stream": stream,
                "rows": rows,
                "last_synced_at": synced,
                "materialized_at": materialized,
            }
        )
    out = []
    for name in view_names(con, ontology):
        sources = by_entity.get(name, [])
        if name in UNIFIED:
            fresh = "max(resolved_at)" if "resolved_at" in columns(con, name) else "NULL"
            row = con.execute(f"SELECT count(*), {fresh} FROM main.{ident(name)}").fetchone()
            rows, synced = (row[0], row[1]) if row else (0, None)
        else:
            rows = sum(s["rows"] for s in sources)
            synced = max(
                (s["last_synced_at"] for s in sources if s["last_synced_at"]), default=None
            )
        out.append(
            {
                "name": name,
                "kind": "unified" if name in UNIFIED else "entity",
                "rows": int(rows),
                "last_synced_at": synced,
                "connections": sorted({s["connection_id"] for s in sources}),
                "sources": sources,
            }
        )
    return out


def _sortable(type_: str) -> bool:
    return not any(marker in type_.upper() for marker in _UNORDERED)


def read_view(
    con: duckdb.DuckDBPyConnection, ontology: Ontology, name: str, request: ViewRequest
) -> dict[str, Any]:
    """One page of a view: ``{"view", "fields", "rows", "next_cursor", "limit"}``."""
    names = view_names(con, ontology)
    cols = columns(con, name) if name in names else {}
    if not cols:  # the name is not echoed: it is the caller's, the list is ours
        raise UnknownView(f"no such view; the views are {', '.join(names)}")
    if not 1 <= request.limit <= MAX_LIMIT:
        raise ViewRequestError(f"limit must be between 1 and {MAX_LIMIT}")
    if len(request.filters) > MAX_FILTERS or len(request.sort) > MAX_SORT:
        raise ViewRequestError(f"at most {MAX_FILTERS} filters and {MAX_SORT} sort fields")

    def known(f: str) -> str:
        if f not in cols:
            raise ViewRequestError(f"view {name!r} has no field {f!r}")
        return f

    fields = [known(f) for f in request.fields] or list(cols)
    where, params = [], []
    for flt in request.filters:
        sql, values = _predicate(known(flt.field), cols[flt.field], flt)
        where.append(sql)
        params += values
    sort: list[tuple[str, bool]] = []
    for item in request.sort:
        f = known(item.lstrip("-+"))
        if not _sortable(cols[f]):
            raise ViewRequestError(f"field {f!r} ({cols[f]}) cannot be sorted on")
        sort.append((f, item.startswith("-")))
    unique = [c for c in LINEAGE[:3] if c in cols] if LINEAGE[0] in cols else [next(iter(cols))]
    keys = sort + [(c, False) for c in unique if c not in {s for s, _ in sort}]
    fingerprint = _fingerprint(name, request, keys)
    if request.cursor:
        values = _decode_cursor(request.cursor, fingerprint, len(keys))
        sql, extra = _after(keys, cols, values)
        where.append(sql)
        params += extra
    order = ", ".join(f"{ident(k)} {'DESC' if desc else 'ASC'} NULLS LAST" for k, desc in keys)
    select = ", ".join(ident(f) for f in fields)
    cursor_cols = ", ".join(f"CAST({ident(k)} AS VARCHAR)" for k, _ in keys)
    sql = (
        f"SELECT {select}, {cursor_cols} FROM main.{ident(name)} "
        f"WHERE {' AND '.join(where) or 'TRUE'} ORDER BY {order} LIMIT {request.limit + 1}"
    )
    try:
        rows = con.execute(sql, params).fetchall()
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.BinderException) as e:
        raise ViewRequestError(f"invalid filter value: {str(e).splitlines()[0]}") from None
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    json_fields = {i for i, f in enumerate(fields) if cols[f].upper() == "JSON"}
    out = [
        {f: (json_cell(r[i]) if i in json_fields else jsonable(r[i])) for i, f in enumerate(fields)}
        for r in rows
    ]
    next_cursor = None
    if more and rows:
        next_cursor = _encode_cursor(fingerprint, list(rows[-1][len(fields) :]))
    return {
        "view": name,
        "fields": fields,
        "rows": out,
        "limit": request.limit,
        "next_cursor": next_cursor,
    }


def _predicate(col: str, type_: str, flt: Filter) -> tuple[str, list[Any]]:
    c = ident(col)
    if flt.op == "null":
        return f"{c} IS NULL", []
    if flt.op == "notnull":
        return f"{c} IS NOT NULL", []
    value = flt.value or ""
    if flt.op == "contains":
        return f"contains(lower(CAST({c} AS VARCHAR)), lower(?))", [value]
    if flt.op == "prefix":
        return f"starts_with(CAST({c} AS VARCHAR), ?)", [value]
    if not _sortable(type_):
        raise ViewRequestError(
            f"field {col!r} ({type_}) supports only null/notnull/contains filters"
        )
    if flt.op == "in":
        items = value.split(",")
        if not 1 <= len(items) <= MAX_IN:
            raise ViewRequestError(f"an 'in' filter takes 1 to {MAX_IN} comma-separated values")
        marks = ", ".join(f"CAST(? AS {type_})" for _ in items)
        return f"{c} IN ({marks})", items
    return f"{c} {OPS[flt.op]} CAST(? AS {type_})", [value]


def _after(
    keys: list[tuple[str, bool]], cols: dict[str, str], values: list[str | None]
) -> tuple[str, list[Any]]:
    """Rows strictly after ``values`` in ``keys`` order (nulls last)."""
    ors, params = [], []
    for i, (k, desc) in enumerate(keys):
        ands, p = [], []
        for j in range(i):
            kj = ident(keys[j][0])
            if values[j] is None:
                ands.append(f"{kj} IS NULL")
            else:
                ands.append(f"{kj} = CAST(? AS {cols[keys[j][0]]})")
                p.append(values[j])
        if values[i] is None:
            continue  # nothing sorts after a null but nulls, which are equal
        op = "<" if desc else ">"
        ands.append(f"({ident(k)} {op} CAST(? AS {cols[k]}) OR {ident(k)} IS NULL)")
        p.append(values[i])
        ors.append("(" + " AND ".join(ands) + ")")
        params += p
    return ("(" + " OR ".join(ors) + ")" if ors else "FALSE"), params


def _fingerprint(name: str, request: ViewRequest, keys: list[tuple[str, bool]]) -> str:
    doc = [name, sorted((f.field, f.op, f.value) for f in request.filters), keys]
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()[:16]


def _encode_cursor(fingerprint: str, values: list[Any]) -> str:
    raw = json.dumps({"q": fingerprint, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str, n: int) -> list[str | None]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        values = doc["v"]
        ok = doc["q"] == fingerprint and isinstance(values, list) and len(values) == n
        ok = ok and all(v is None or isinstance(v, str) for v in values)
    except (ValueError, KeyError, TypeError, binascii.Error):
        ok = False
    if not ok:
        raise ViewRequestError("invalid cursor: it belongs to another query or is corrupt")
    return list(values)
