"""Load schema descriptions written by other tools into ``StreamSchema``.

Two shapes are understood:

* a field list ``{"fields": [{"name": "a.b", "type": "string|null", "format": ...}]}``,
  where ``type`` is a ``|``-joined union of JSON-Schema-ish names (``array<object>`` allowed);
* a JSON Schema object (``{"type": "object", "properties": {...}}``), flattened to dotted
  paths the same way (an object field is listed itself and then its children).

``source_type`` keeps the structural type (``object``, ``array<object>``) without ``null``
and without ``format``: format annotations such as ``int64`` do not change what is stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

__all__ = ["canonical_type", "fields_from_json_schema", "load_schema"]

_SCALARS = {
    "string": FieldType.STRING,
    "integer": FieldType.INTEGER,
    "int": FieldType.INTEGER,
    "number": FieldType.NUMBER,
    "float": FieldType.NUMBER,
    "decimal": FieldType.DECIMAL,
    "boolean": FieldType.BOOLEAN,
    "bool": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.TIMESTAMP,
    "date-time": FieldType.TIMESTAMP,
    "timestamp": FieldType.TIMESTAMP,
    "binary": FieldType.BINARY,
}
_FORMATS = {"date-time": FieldType.TIMESTAMP, "date": FieldType.DATE}


def canonical_type(type_text: str, fmt: str | None = None) -> tuple[FieldType, bool, str]:
    """``"integer|null"`` -> (INTEGER, nullable=True, source_type="integer")."""
    parts = [p.strip().lower() for p in type_text.split("|") if p.strip()]
    nullable = "null" in parts or not parts
    real = [p for p in parts if p != "null"]
    source = "|".join(real) or "null"
    if len(real) != 1:
        numeric = set(real) <= {"integer", "number"}
        return (FieldType.NUMBER if numeric and real else FieldType.JSON), nullable, source
    base = real[0]
    if base == "object" or base.startswith("array"):
        return FieldType.JSON, nullable, source
    ftype = _SCALARS.get(base, FieldType.STRING)
    if ftype is FieldType.STRING and fmt in _FORMATS:
        ftype = _FORMATS[fmt]
    return ftype, nullable, source


def _alternatives(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The node itself, or its ``anyOf`` / ``oneOf`` alternatives (``{"anyOf": [{"type":
    "null"}, {"type": "string", "format": "date-time"}]}`` is a nullable date-time)."""
    alts = [a for k in ("anyOf", "oneOf") for a in node.get(k) or () if isinstance(a, Mapping)]
    return alts or [node]


def _json_type_text(node: Mapping[str, Any]) -> str:
    out: list[str] = []
    for alt in _alternatives(node):
        t = alt.get("type", "string" if alt is node or not alt.get("$ref") else "object")
        for n in [t] if isinstance(t, str) else list(t):
            if n == "array":
                item = alt.get("items") or {}
                item_t = _json_type_text(item) if isinstance(item, Mapping) else "string"
                inner = [x for x in item_t.split("|") if x != "null"]
                n = f"array<{'|'.join(inner) or 'string'}>"
            if n not in out:
                out.append(n)
    return "|".join(out)


def _json_format(node: Mapping[str, Any]) -> str | None:
    return next((a["format"] for a in _alternatives(node) if a.get("format")), None)


def _children(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The object node whose properties a field has (directly or in an alternative)."""
    return next((a for a in _alternatives(node) if a.get("properties")), None)


def fields_from_json_schema(node: Mapping[str, Any], prefix: str = "") -> Iterator[dict[str, Any]]:
    """Flatten JSON Schema properties (and array item properties) to dotted field dicts."""
    for name, child in (node.get("properties") or {}).items():
        if not isinstance(child, Mapping):
            continue
        path = f"{prefix}{name}"
        yield {"name": path, "type": _json_type_text(child), "format": _json_format(child)}
        for alt in _alternatives(child):
            items = alt.get("items")
            if isinstance(items, Mapping) and (inner := _children(items)) is not None:
                yield from fields_from_json_schema(inner, path + ".")
        if (obj := _children(child)) is not None:
            yield from fields_from_json_schema(obj, path + ".")


def load_schema(doc: Mapping[str, Any], stream_name: str = "stream") -> StreamSchema:
    """Build a ``StreamSchema`` from either supported shape. Names are kept as given."""
    raw = doc["fields"] if "fields" in doc else list(fields_from_json_schema(doc))
    fields = []
    for f in raw:
        ftype, nullable, source = canonical_type(str(f.get("type", "string")), f.get("format"))
        fields.append(
            FieldSpec(
                name=f["name"],
                type=ftype,
                nullable=nullable,
                description=f.get("description"),
                source_type=source,
            )
        )
    pk = doc.get("primary_key") or doc.get("key_properties") or ()
    return StreamSchema(
        name=str(doc.get("name", stream_name)),
        fields=tuple(fields),
        primary_key=tuple(pk),
        cursor_field=doc.get("cursor_field"),
    )
