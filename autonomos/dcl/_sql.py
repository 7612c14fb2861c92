"""SQL text helpers shared by the DCL's DuckDB modules.

Identifiers that come from sources (column names, stream names) are always quoted with
:func:`ident`; values are bound as parameters, or quoted with :func:`literal` where DuckDB
cannot bind (DDL, view definitions). Nothing from a user reaches SQL text any other way.
"""

from __future__ import annotations

from autonomos.dcl.transforms import DECIMAL

# ontology type -> DuckDB type of the unified view's column
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": DECIMAL,
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "json": "JSON",
}

LINEAGE: tuple[str, ...] = ("_source_connection", "_source_stream", "_source_key", "_synced_at")
LINEAGE_TYPES: dict[str, str] = {
    "_source_connection": "VARCHAR",
    "_source_stream": "VARCHAR",
    "_source_key": "VARCHAR",
    "_synced_at": "TIMESTAMPTZ",
}
INTERNAL_SCHEMA = "_dcl"


def ident(name: str) -> str:
    """A quoted identifier: ``x"; DROP TABLE account; --`` stays one (odd) column name."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    if "\x00" in value:
        raise ValueError("literals cannot contain NUL")
    return "'" + value.replace("'", "''") + "'"


def qualified(table: str) -> str:
    return f"{INTERNAL_SCHEMA}.{ident(table)}"


def cast(expr: str, ontology_type: str) -> str:
    """``expr`` as the ontology type; values that do not convert become null."""
    sql_type = SQL_TYPES[ontology_type]
    if ontology_type == "string":
        return f"CAST({expr} AS VARCHAR)"
    if ontology_type == "json":
        # JSON text stays JSON; any other value becomes its JSON encoding
        text = f"TRY_CAST({expr} AS VARCHAR)"
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL "
            f"WHEN json_valid({text}) THEN CAST({text} AS JSON) ELSE to_json({expr}) END"
        )
    return f"TRY_CAST({expr} AS {sql_type})"
