"""Vectorised normalisation of Arrow record batches: names, types, quarantine.

Everything here works on whole columns (pyarrow.compute). The only Python loops over
rows touch rows that are already known to be bad (to build their quarantine records),
so the cost of clean data is independent of Python.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from autonomos.common.text import normalize_name, normalize_names
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

__all__ = [
    "QUARANTINE_SCHEMA",
    "NormalizeResult",
    "flatten",
    "infer_schema",
    "normalize_batch",
    "normalize_name",
    "normalize_names",
]

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("row_index", pa.int64(), nullable=False),
        pa.field("field", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("record", pa.string(), nullable=False),
    ]
)


def flatten(data: pa.Table | pa.RecordBatch) -> pa.Table:
    """Flatten nested struct columns into dotted paths (``a.b.c``), as a Table."""
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


# ---------------------------------------------------------------- inference

_TRUE = ("true", "yes", "1", "t", "y")
_FALSE = ("false", "no", "0", "f", "n")
_BOOL_WORDS = pa.array(["true", "false", "yes", "no", "1", "0"])
_BOOL_ALPHA = pa.array(["true", "false", "yes", "no"])


def _arrow_to_field_type(t: pa.DataType) -> FieldType | None:
    """Canonical type of an already-typed Arrow column; None for strings (infer)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return None
    return FieldType.from_arrow(t)


_PROBE_ROWS = 64  # a type is first tried on this many values: a failed cast is slow


def _cast_ok(values: pa.Array, target: pa.DataType) -> bool:
    try:
        pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _fits(values: pa.Array, ok: Callable[[pa.Array], bool]) -> bool:
    """``ok(values)``, rejecting on a probe of the first values first.

    Only a speed-up: the answer is always ``ok`` on the whole column. A failing cast
    costs far more than a passing one (Arrow builds its error, and a timestamp parse
    tries every format), so most columns are ruled out in a few microseconds.
    """
    if len(values) > 2 * _PROBE_ROWS and not ok(values.slice(0, _PROBE_ROWS)):
        return False
    return ok(values)


def _is_date(values: pa.Array) -> bool:
    return _cast_ok(values, pa.date32()) and pc.all(pc.equal(pc.utf8_length(values), 10)).as_py()


def _infer_string_type(col: pa.ChunkedArray | pa.Array) -> FieldType:
    values = pc.utf8_trim_whitespace(col.drop_null())
    values = values.filter(pc.not_equal(values, ""))
    if len(values) == 0:
        return FieldType.STRING
    lowered = pc.utf8_lower(values)
    if (
        pc.all(pc.is_in(lowered, _BOOL_WORDS)).as_py()
        and pc.any(pc.is_in(lowered, _BOOL_ALPHA)).as_py()
    ):
        # a column of only 0/1 stays an integer: booleans need at least one word
        return FieldType.BOOLEAN
    if _fits(values, lambda v: _cast_ok(v, pa.int64())):
        return FieldType.INTEGER
    if _fits(values, lambda v: _cast_ok(v, pa.float64())):
        return FieldType.NUMBER
    if _fits(values, _is_date):
        return FieldType.DATE
    if _fits(values, lambda v: _to_utc(v)[1] is None):
        return FieldType.TIMESTAMP
    return FieldType.STRING


def infer_schema(
    data: pa.Table | pa.RecordBatch,
    stream_name: str,
    primary_key: Sequence[str] = (),
    cursor_field: str | None = None,
) -> StreamSchema:
    """Infer canonical types from values (typically the first batch of an untyped source).

    Field names are normalised; nested structs become dotted paths. Inference only sees
    the rows it is given: a later batch that disagrees is quarantined, not re-inferred.
    """
    table = flatten(data)
    names = normalize_names(table.column_names)
    fields = []
    for name, arrow_field, col in zip(names, table.schema, table.columns, strict=True):
        ftype = _arrow_to_field_type(arrow_field.type) or _infer_string_type(col)
        fields.append(
            FieldSpec(name=name, type=ftype, nullable=True, source_type=str(arrow_field.type))
        )
    return StreamSchema(
        name=stream_name,
        fields=tuple(fields),
        primary_key=tuple(normalize_name(k) for k in primary_key),
        cursor_field=normalize_name(cursor_field) if cursor_field else None,
    )


# ---------------------------------------------------------------- conversion

_OFFSET_RE = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
_PATTERNS: dict[FieldType, str] = {
    FieldType.INTEGER: r"^[+-]?\d{1,18}$",
    FieldType.NUMBER: r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?i:inf|infinity|nan)$",
    FieldType.DECIMAL: r"^[+-]?(?:\d{1,29}\.?\d{0,9}|\.\d{1,9})$",
    FieldType.DATE: r"^\d{4}-\d{2}-\d{2}$",
    FieldType.TIMESTAMP: r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)?"
    + r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)?$",
}
_UTC = pa.timestamp("us", tz="UTC")


_ENDS_WITH_OFFSET = re.compile(_OFFSET_RE)


def _parse_aware(values: pa.Array) -> pa.Array:
    return pc.cast(values, _UTC)


def _parse_naive(values: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(values, pa.timestamp("us")), _UTC)


def _to_utc(values: pa.Array) -> tuple[pa.Array, str | None]:
    """Parse ISO timestamps, with or without offsets (naive ones are UTC), to UTC.

    A column is usually all-aware or all-naive: the first value picks which parse is
    tried first (a parse that fails costs ~30x one that succeeds). Either parse either
    succeeds with the same result or fails, so the order changes only the speed.
    """
    first = next((v for v in values.slice(0, 16).to_pylist() if v), None)
    naive_first = first is not None and not _ENDS_WITH_OFFSET.search(first.rstrip())
    for parse in (_parse_naive, _parse_aware) if naive_first else (_parse_aware, _parse_naive):
        try:
            return parse(values), None
        except pa.ArrowInvalid:
            pass
    try:  # mixed: give the naive ones an explicit UTC offset
        naive = pc.invert(pc.match_substring_regex(values, _OFFSET_RE))
        fixed = pc.if_else(naive, pc.binary_join_element_wise(values, "Z", ""), values)
        return pc.cast(fixed, _UTC), None
    except pa.ArrowInvalid as e:
        return values, str(e)


def _bool_from_strings(values: pa.Array) -> tuple[pa.Array, str | None]:
    try:  # Arrow's own cast takes true/false/1/0; yes/no and friends need the slow way
        return pc.cast(values, pa.bool_()), None
    except pa.ArrowInvalid:
        pass
    lowered = pc.utf8_lower(values)
    is_true, is_false = pc.is_in(lowered, pa.array(_TRUE)), pc.is_in(lowered, pa.array(_FALSE))
    if not pc.all(pc.or_kleene(is_true, is_false)).as_py():
        return values, "not a boolean"
    return pc.if_else(is_true, True, False), None


def _converter(ftype: FieldType) -> Callable[[pa.Array], tuple[pa.Array, str | None]]:
    if ftype is FieldType.TIMESTAMP:
        return _to_utc
    if ftype is FieldType.BOOLEAN:
        return _bool_from_strings
    target = ftype.arrow_type()

    def convert(values: pa.Array) -> tuple[pa.Array, str | None]:
        try:
            return pc.cast(values, target), None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            return values, str(e)

    return convert


def _localise(
    values: pa.Array, convert: Callable[[pa.Array], tuple[pa.Array, str | None]]
) -> pa.Array:
    """Boolean mask of the values ``convert`` rejects, found by bisection.

    Only reached for values that passed the type's regex but still fail (e.g.
    2024-02-30), so the number of bad values, and of casts, stays small.
    """
    bad = [False] * len(values)
    stack = [(0, len(values))]
    while stack:
        lo, hi = stack.pop()
        if convert(values.slice(lo, hi - lo))[1] is None:
            continue
        if hi - lo == 1:
            bad[lo] = True
            continue
        mid = (lo + hi) // 2
        stack += [(lo, mid), (mid, hi)]
    return pa.array(bad, pa.bool_())


def _convert_strings(values: pa.Array, ftype: FieldType) -> tuple[pa.Array, pa.Array | None]:
    """String column -> (typed column, mask of rejected rows or None).

    Clean data takes one cast. Only when it fails do we pay for trimming and empty-string
    handling, then a regex pre-filter, then bisection for the few values left.
    """
    convert = _converter(ftype)
    out, err = convert(values)
    if err is None:
        return out, None
    values = _clean(values)
    out, err = convert(values)
    if err is None:
        return out, None
    if ftype is FieldType.BOOLEAN:
        valid = pc.fill_null(pc.is_in(pc.utf8_lower(values), pa.array(_TRUE + _FALSE)), True)
    else:
        valid = pc.fill_null(pc.match_substring_regex(values, _PATTERNS.get(ftype, ".*")), True)
    bad = pc.invert(valid)
    candidates = pc.if_else(valid, values, pa.scalar(None, pa.string()))
    out, err = convert(candidates)
    if err is not None:
        bad = pc.or_(bad, _localise(candidates, convert))
        out, err = convert(pc.if_else(bad, pa.scalar(None, pa.string()), candidates))
        assert err is None, err
    return out, bad


def _convert_typed(values: pa.Array, ftype: FieldType) -> tuple[pa.Array, pa.Array | None]:
    """A column that already has an Arrow type that is not a string."""
    target = ftype.arrow_type()
    if values.type == target:
        return values, None
    if ftype in (FieldType.STRING, FieldType.JSON) and (
        pa.types.is_nested(values.type) or ftype is FieldType.JSON
    ):
        text = [None if v is None else json.dumps(v, default=str) for v in values.to_pylist()]
        return pa.array(text, pa.string()), None  # nested values: no vectorised JSON writer
    try:
        if ftype is FieldType.TIMESTAMP and pa.types.is_timestamp(values.type):
            return pc.cast(values, _UTC, safe=False), None
        return pc.cast(values, target), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _convert_strings(_clean(pc.cast(values, pa.string())), ftype)


def _clean(values: pa.Array) -> pa.Array:
    """Trim, and turn empty strings into nulls (for non-string targets)."""
    values = pc.utf8_trim_whitespace(values)
    empty = pc.equal(values, "")
    if pc.any(empty).as_py():
        values = pc.if_else(empty, pa.scalar(None, values.type), values)
    return values


@dataclass(frozen=True)
class NormalizeResult:
    batch: pa.RecordBatch  # good rows, in schema order and canonical Arrow types
    quarantined: pa.Table  # QUARANTINE_SCHEMA: one row per (bad row, failing field)


def _arrow_schema(schema: StreamSchema) -> pa.Schema:
    return pa.schema(
        [pa.field(normalize_name(f.name), f.type.arrow_type(), f.nullable) for f in schema.fields]
    )


def normalize_batch(batch: pa.RecordBatch | pa.Table, schema: StreamSchema) -> NormalizeResult:
    """Rename, trim, cast and convert to UTC; rows that fail go to ``quarantined``.

    Never raises because of data. Schema fields absent from the batch become null
    columns; batch columns absent from the schema are dropped (drift handles them).
    """
    table = flatten(batch).combine_chunks()
    n = table.num_rows
    by_name = dict(zip(normalize_names(table.column_names), table.columns, strict=True))
    columns: list[pa.Array] = []
    problems: list[tuple[str, pa.Array, str]] = []  # (field, bad mask, reason)
    for f in schema.fields:
        name, ftype = normalize_name(f.name), f.type
        chunked = by_name.get(name)
        if chunked is None:
            columns.append(pa.nulls(n, ftype.arrow_type()))
            bad: pa.Array | None = None
        else:
            col = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
            if pa.types.is_large_string(col.type):
                col = pc.cast(col, pa.string())
            if pa.types.is_string(col.type):
                if ftype in (FieldType.STRING, FieldType.JSON):
                    out, bad = pc.utf8_trim_whitespace(col), None
                else:
                    out, bad = _convert_strings(col, ftype)
            else:
                out, bad = _convert_typed(col, ftype)
            columns.append(out)
            if bad is not None and pc.any(bad).as_py():
                problems.append((name, bad, f"cannot convert to {ftype.value}"))
        if not f.nullable and columns[-1].null_count:
            nulls = pc.is_null(columns[-1])
            if bad is not None:  # a value that failed conversion is reported once, as such
                nulls = pc.and_(nulls, pc.invert(bad))
            if pc.any(nulls).as_py():
                problems.append((name, nulls, "null in a non-nullable field"))
    out_schema = _arrow_schema(schema)
    if not problems:
        return NormalizeResult(
            pa.RecordBatch.from_arrays(columns, schema=out_schema), QUARANTINE_SCHEMA.empty_table()
        )
    any_bad = functools.reduce(pc.or_, (m for _, m, _ in problems))
    good = pc.invert(any_bad)
    kept = pa.RecordBatch.from_arrays([pc.filter(c, good) for c in columns], schema=out_schema)
    return NormalizeResult(kept, _quarantine(table, problems, by_name))


def _quarantine(
    table: pa.Table,
    problems: list[tuple[str, pa.Array, str]],
    by_name: dict[str, pa.ChunkedArray],
) -> pa.Table:
    """Build quarantine rows; loops only over rows already known to be bad."""
    rows: list[int] = []
    fields: list[str] = []
    reasons: list[str] = []
    records: list[str] = []
    cache: dict[int, str] = {}
    for name, mask, reason in problems:
        idx = pc.indices_nonzero(mask)
        col = by_name.get(name)
        values = col.take(idx).to_pylist() if col is not None else [None] * len(idx)
        for i, v in zip(idx.to_pylist(), values, strict=True):
            if i not in cache:
                cache[i] = json.dumps(table.slice(i, 1).to_pylist()[0], default=str)
            rows.append(i)
            fields.append(name)
            reasons.append(f"{reason}: {v!r}" if v is not None else reason)
            records.append(cache[i])
    return pa.table([rows, fields, reasons, records], schema=QUARANTINE_SCHEMA)
