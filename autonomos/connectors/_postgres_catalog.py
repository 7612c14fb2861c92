"""The PostgreSQL catalog as the connector sees it, and the keyset page queries.

Every identifier goes through :class:`psycopg.sql.Identifier`; type names come from
``format_type`` (already quoted by the server), values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

DEFAULT_CURSORS = ("updated_at", "modified_at", "systemmodstamp", "last_modified")
_TYPES: dict[str, FieldType] = {
    **dict.fromkeys(("int2", "int4", "int8", "oid"), FieldType.INTEGER),
    "numeric": FieldType.DECIMAL,
    **dict.fromkeys(("float4", "float8"), FieldType.NUMBER),
    "bool": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    **dict.fromkeys(("timestamp", "timestamptz"), FieldType.TIMESTAMP),
    **dict.fromkeys(("json", "jsonb"), FieldType.JSON),
    "bytea": FieldType.BINARY,
}
_NATIVE_TEXT = {"text", "varchar", "bpchar", "name"}

_COLUMNS = """
SELECT c.oid, n.nspname, c.relname, obj_description(c.oid, 'pg_class'),
       a.attname, format_type(a.atttypid, a.atttypmod), t.typname, t.typcategory,
       NOT a.attnotnull, col_description(c.oid, a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname = ANY(%s) AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname, a.attnum
"""
_PRIMARY_KEYS = """
SELECT i.indrelid, array_agg(a.attname ORDER BY k.ord)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisprimary AND i.indrelid = ANY(%s)
GROUP BY i.indrelid
"""


@dataclass
class Column:
    name: str
    sql_type: str  # format_type(): usable in a cast
    typname: str
    type: FieldType
    nullable: bool
    description: str | None

    def select(self) -> sql.Composable:
        ident = sql.Identifier("src", self.name)
        if self.typname.startswith("_"):  # arrays: JSON text
            return sql.SQL("to_jsonb({})::text").format(ident)
        if self.type in (FieldType.STRING, FieldType.JSON) and self.typname not in _NATIVE_TEXT:
            return sql.SQL("{}::text").format(ident)
        return ident


@dataclass
class Table:
    schema_name: str
    name: str
    description: str | None
    columns: list[Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    cursor: str | None = None

    @property
    def stream(self) -> str:
        return self.name if self.schema_name == "public" else f"{self.schema_name}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def schema(self) -> StreamSchema:
        return StreamSchema(
            name=self.stream,
            fields=tuple(
                FieldSpec(c.name, c.type, c.nullable, c.description, c.sql_type)
                for c in self.columns
            ),
            primary_key=tuple(self.primary_key),
            cursor_field=self.cursor,
            description=self.description,
            extra={"schema": self.schema_name, "table": self.name},
        )

    def keys(self) -> list[str]:
        """Ordering columns: cursor first, then the primary key (``ctid`` without one)."""
        head = [self.cursor] if self.cursor else []
        tail = [k for k in self.primary_key if k != self.cursor] or ["ctid"]
        return head + tail


def _field_type(typname: str, category: str) -> FieldType:
    if category == "A":
        return FieldType.JSON
    return _TYPES.get(typname, FieldType.STRING)


def load(
    conn: psycopg.Connection[Any], schemas: Sequence[str], tables: Sequence[str] | None
) -> dict[str, Table]:
    wanted = set(tables) if tables else None
    by_oid: dict[int, Table] = {}
    for oid, nsp, rel, rel_doc, att, sql_type, typname, cat, nullable, doc in conn.execute(
        _COLUMNS, (list(schemas),)
    ):
        if wanted is not None and rel not in wanted and f"{nsp}.{rel}" not in wanted:
            continue
        table = by_oid.setdefault(oid, Table(nsp, rel, rel_doc))
        table.columns.append(
            Column(att, sql_type, typname, _field_type(typname, cat), nullable, doc)
        )
    for oid, pk in conn.execute(_PRIMARY_KEYS, (list(by_oid),)):
        by_oid[oid].primary_key = list(pk)
    for table in by_oid.values():
        table.cursor = next(
            (
                c.name
                for name in DEFAULT_CURSORS
                for c in table.columns
                if c.name.lower() == name and c.type is FieldType.TIMESTAMP
            ),
            None,
        )
    return {t.stream: t for t in by_oid.values()}


def _key_expr(table: Table, key: str) -> sql.Composable:
    # Qualified, so ORDER BY sorts by the column and never by a same-named output
    # expression (``"ref"::text`` is also called ``ref``, and sorts differently).
    return sql.SQL("src.ctid") if key == "ctid" else sql.Identifier("src", key)


def _key_type(table: Table, key: str) -> str:
    if key == "ctid":
        return "tid"
    col = table.column(key)
    assert col is not None
    return col.sql_type


def page_query(
    table: Table, state: Mapping[str, Any], limit: int
) -> tuple[sql.Composed, list[Any]]:
    keys = table.keys()
    select = [c.select() for c in table.columns]
    if "ctid" in keys:
        select.append(sql.SQL("src.ctid::text"))
    conds: list[sql.Composable] = []
    params: list[Any] = []
    if table.cursor:
        cur = table.column(table.cursor)
        if cur is not None and cur.nullable:
            conds.append(sql.SQL("{} IS NOT NULL").format(sql.Identifier("src", table.cursor)))
    last = state_keys(table, state)
    if last is not None:
        conds.append(
            sql.SQL("({}) > ({})").format(
                sql.SQL(", ").join(_key_expr(table, k) for k in keys),
                sql.SQL(", ").join(sql.SQL("%s::" + _key_type(table, k)) for k in keys),
            )
        )
        params.extend(last)
    query = sql.SQL("SELECT {cols} FROM {tbl} AS src{where} ORDER BY {order} LIMIT {limit}").format(
        cols=sql.SQL(", ").join(select),
        tbl=sql.Identifier(table.schema_name, table.name),
        where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL(""),
        order=sql.SQL(", ").join(_key_expr(table, k) for k in keys),
        limit=sql.Literal(int(limit)),
    )
    return query, params


def state_keys(table: Table, state: Mapping[str, Any]) -> list[Any] | None:
    """The key values saved in ``state`` in ``keys()`` order, or None to start over."""
    keys = table.keys()
    values: list[Any] = []
    if table.cursor:
        if state.get("cursor") is None:
            return None
        values.append(state["cursor"])
    if keys[-1] == "ctid":
        tail = [state["ctid"]] if state.get("ctid") else None
    else:
        pk = state.get("pk")
        n = len(keys) - len(values)
        tail = list(pk) if isinstance(pk, list) and len(pk) == n else None
    return None if tail is None else values + tail


def next_state(table: Table, state: Mapping[str, Any], row: Sequence[Any]) -> dict[str, Any]:
    index = {c.name: i for i, c in enumerate(table.columns)}
    keys = table.keys()
    out: dict[str, Any] = {}
    if table.cursor:
        out["cursor"] = jsonable(row[index[table.cursor]])
    if keys[-1] == "ctid":
        out["ctid"] = row[-1]
    else:
        out["pk"] = [jsonable(row[index[k]]) for k in keys[1 if table.cursor else 0 :]]
    return out


def jsonable(value: Any) -> Any:
    """A key value as JSON that casts back to the column type (``%s::type``)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    return value
