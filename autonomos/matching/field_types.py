"""Source type spellings -> the ontology's types, and how compatible two types are."""

from __future__ import annotations

import numpy as np

TYPE_NAMES = ("string", "integer", "decimal", "boolean", "date", "timestamp", "json")


def normalise_type(raw: str | None) -> str:
    """Source type spellings (``integer|null``, ``array<string>``, ``datetime``, ``float``...)."""
    if not raw:
        return "unknown"
    parts = [p.strip().lower() for p in str(raw).replace(",", "|").split("|")]
    parts = [p for p in parts if p and p not in ("null", "none", "nullable", "optional")]
    if not parts:
        return "unknown"
    t = parts[0]
    if (
        len(parts) > 1
        and "string" in parts
        and any(p.startswith(("object", "array")) for p in parts)
    ):
        return "json"
    if t.startswith(("array", "object", "struct", "map", "list", "json", "record", "variant")):
        return "json"
    if t.startswith(("timestamp", "datetime", "time")):
        return "timestamp"
    if t == "date":
        return "date"
    if t.startswith(("bool", "bit")):
        return "boolean"
    if t.startswith(("int", "bigint", "smallint", "tinyint", "long", "short", "serial")):
        return "integer"
    if t.startswith(
        ("number", "decimal", "numeric", "float", "double", "real", "money", "currency", "percent")
    ):
        return "decimal"
    if t.startswith(
        (
            "string",
            "str",
            "text",
            "varchar",
            "char",
            "uuid",
            "email",
            "url",
            "phone",
            "picklist",
            "id",
            "reference",
            "textarea",
            "enum",
            "nvarchar",
        )
    ):
        return "string"
    return "unknown"


# source type -> target type -> compatibility
_TYPE_COMPAT: dict[str, dict[str, float]] = {
    "string": {
        "string": 1.0,
        "integer": 0.55,
        "decimal": 0.55,
        "boolean": 0.45,
        "date": 0.6,
        "timestamp": 0.6,
        "json": 0.5,
    },
    "integer": {
        "string": 0.75,
        "integer": 1.0,
        "decimal": 0.9,
        "boolean": 0.35,
        "date": 0.45,
        "timestamp": 0.55,
        "json": 0.1,
    },
    "decimal": {
        "string": 0.3,
        "integer": 0.75,
        "decimal": 1.0,
        "boolean": 0.05,
        "date": 0.1,
        "timestamp": 0.15,
        "json": 0.05,
    },
    "boolean": {
        "string": 0.15,
        "integer": 0.1,
        "decimal": 0.0,
        "boolean": 1.0,
        "date": 0.0,
        "timestamp": 0.0,
        "json": 0.0,
    },
    "date": {
        "string": 0.2,
        "integer": 0.0,
        "decimal": 0.0,
        "boolean": 0.0,
        "date": 1.0,
        "timestamp": 0.9,
    },
    "timestamp": {
        "string": 0.2,
        "integer": 0.0,
        "decimal": 0.0,
        "boolean": 0.0,
        "date": 0.9,
        "timestamp": 1.0,
        "json": 0.0,
    },
    "json": {
        "string": 0.3,
        "integer": 0.0,
        "decimal": 0.0,
        "boolean": 0.0,
        "date": 0.0,
        "timestamp": 0.0,
        "json": 1.0,
    },
}


_TYPE_INDEX = {t: k for k, t in enumerate(("unknown", *TYPE_NAMES))}
_TYPE_MATRIX = np.array(
    [[0.6] * (len(TYPE_NAMES) + 1)]
    + [[0.3] + [_TYPE_COMPAT[s].get(t, 0.3) for t in TYPE_NAMES] for s in TYPE_NAMES],
    dtype=np.float32,
)


def type_compat(src: str, tgt: str) -> float:
    if src == "unknown":
        return 0.6
    return _TYPE_COMPAT.get(src, {}).get(tgt, 0.3)
