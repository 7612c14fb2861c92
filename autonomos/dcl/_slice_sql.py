"""The SELECT that turns one (connection, stream)'s landed rows into an entity's rows.

Per ontology field: the mapped source column (quoted), through its transform, cast to the
field's type (values that do not convert become null); unmapped fields are typed nulls.
Per row: a source key, a delete flag and a content hash, then one row per key survives:
the one from the latest landed batch, then the latest ``updated_at``, then the last in
its file (when the reader knows row numbers), deletes before upserts, then the highest
content hash (so ties resolve the same way on every run).

Key: the mapped primary-key field of the entity; else the stream's primary key; else a
hash of the row's non-null source values (so identical source rows collapse into one,
and a column added later that is null in old rows keeps their keys).
Deletes: a mapped ``is_deleted`` that is true, or a landed ``_op`` column equal to
``delete`` (the contract for change-data-capture sources; the files and API connectors
land upserts only).
"""

# ruff: noqa: S608 - every identifier is quoted with ident(), every value with literal()
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from autonomos.common.text import normalize_name
from autonomos.dcl._sql import SQL_TYPES, cast, ident, literal
from autonomos.dcl.transforms import compile_transform
from autonomos.ontology import Entity

OP_COLUMN = "_op"
RESERVED_PREFIX = "_dcl_"
SEQ, LANDED_AT, ROW = "_dcl_seq", "_dcl_landed_at", "_dcl_row"


@dataclass(frozen=True)
class FieldMapping:
    """One active mapping of a stream's column onto a field of the slice's entity."""

    source_field: str
    field: str
    transform: str | None = None


def column_resolver(columns: Iterable[str], alias: str = "s") -> Callable[[str], str | None]:
    """Source column name -> quoted reference, trying the landed (normalised) spelling too."""
    present = set(columns)

    def col(name: str) -> str | None:
        for candidate in (name, normalize_name(name)):
            if candidate in present:
                return f"{alias}.{ident(candidate)}"
        return None

    return col


@dataclass(frozen=True)
class SliceQuery:
    """The SQL pieces of one slice over a registered source relation."""

    source: str
    fields: dict[str, str]  # ontology field -> typed expression
    key: str
    deleted: str
    order: tuple[str, ...]

    def stats(self) -> str:
        """(rows, duplicate keys, delete rows): tells whether the dedup pass is needed."""
        return (
            f"SELECT count(*), count({self.key}) - count(DISTINCT {self.key}), "
            f"count(*) FILTER (WHERE {self.deleted}) FROM {self.source} AS s"
        )

    def select(self, *, dedup: bool) -> str:
        """The slice's rows: fields, ``_source_key``, ``_deleted``, ``_row_hash``,
        ``_dcl_seq``, ``_dcl_landed_at``; one per key when ``dedup`` (else the caller knows
        keys are unique). Rows without a key are dropped."""
        fields = ", ".join(f"{expr} AS {ident(name)}" for name, expr in self.fields.items())
        hashed = ", ".join(ident(name) for name in self.fields)
        sql = (
            f"SELECT * FROM (SELECT *, hash({hashed}) AS _row_hash FROM ("
            f"SELECT {fields}, {self.key} AS _source_key, {self.deleted} AS _deleted, "
            f"s.{SEQ}, s.{LANDED_AT}, s.{ROW} FROM {self.source} AS s)) "
            "WHERE _source_key IS NOT NULL"
        )
        if dedup:
            sql += (
                " QUALIFY row_number() OVER (PARTITION BY _source_key "
                f"ORDER BY {', '.join(self.order)}) = 1"
            )
        return sql


def slice_query(
    entity: Entity,
    mappings: tuple[FieldMapping, ...],
    primary_key: tuple[str, ...],
    columns: list[str],
    source: str,
) -> SliceQuery:
    """The slice of ``entity`` over ``source`` (a relation with the landed ``columns``)."""
    col = column_resolver(columns)
    by_field = {m.field: m for m in mappings}
    exprs: dict[str, str] = {}
    for f in entity.fields:
        m = by_field.get(f.name)
        if m is None:
            exprs[f.name] = f"CAST(NULL AS {SQL_TYPES[f.type]})"
        else:
            source_expr = col(m.source_field) or "NULL"
            exprs[f.name] = cast(compile_transform(m.transform, source_expr, col), f.type)
    pk = entity.pk
    if pk.name in by_field:
        key = f"CAST({exprs[pk.name]} AS VARCHAR)"
    else:
        key = _fallback_key(primary_key, columns, col)
        exprs[pk.name] = cast(key, pk.type)
    deleted = []
    if "is_deleted" in by_field and entity.field("is_deleted").type == "boolean":
        deleted.append(f"coalesce({exprs['is_deleted']}, false)")
    if OP_COLUMN in columns:
        deleted.append(f"coalesce(lower(CAST(s.{ident(OP_COLUMN)} AS VARCHAR)) = 'delete', false)")
    order = [f"{SEQ} DESC"]
    if "updated_at" in by_field:
        order.append('"updated_at" DESC NULLS LAST')
    order += [f"{ROW} DESC", "_deleted DESC", "_row_hash DESC"]
    return SliceQuery(
        source, exprs, f"({key})", f"({' OR '.join(deleted) or 'false'})", tuple(order)
    )


def _fallback_key(
    primary_key: tuple[str, ...], columns: list[str], col: Callable[[str], str | None]
) -> str:
    refs = [col(k) for k in primary_key]
    if refs and all(refs):
        parts = [f"CAST({r} AS VARCHAR)" for r in refs]
        return parts[0] if len(parts) == 1 else f"to_json([{', '.join(parts)}])"
    values = [
        f"{literal(c + '=')} || CAST(s.{ident(c)} AS VARCHAR)"
        for c in columns
        if not c.startswith(RESERVED_PREFIX) and c != OP_COLUMN
    ]
    return f"md5(concat_ws(chr(31), {', '.join(values)}))" if values else "NULL"
