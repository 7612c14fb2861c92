"""Drift between two versions of one object's schema, in the evaluation's prediction shape.

``diff_schemas`` is what ``autonomos map diff`` prints. It runs the platform's own
:func:`~autonomos.aam.drift.detect_drift` (one way to detect drift) and reports the
source's own spellings. Detection works on normalised paths, where ``createdAt`` and
``created_at`` are the same column; between two raw schemas a change of spelling alone is
still a rename, so it is reported as one (with near-certain confidence).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autonomos.aam._rename_model import RenameModel
from autonomos.aam._words import WRAPPERS
from autonomos.aam.drift import detect_drift
from autonomos.aam.normalize import normalize_names
from autonomos.aam.schema_io import load_schema
from autonomos.aam.type_lattice import type_direction
from autonomos.connectors.schema import FieldType, StreamSchema

__all__ = ["SPELLING_ONLY", "SchemaInputError", "diff_schemas", "fields_of", "read_schema_file"]

SPELLING_ONLY = 0.98  # createdAt -> created_at: the same name, spelled another way
UNWRAPPED = 0.93  # Revenue.Value -> revenue: an envelope dropped (as the rename patterns rate it)


class SchemaInputError(ValueError):
    """The schemas given cannot be compared; the message says which part and why."""


def _check_fields(fields: Any, side: str) -> list[dict[str, Any]]:
    if not isinstance(fields, list):
        raise SchemaInputError(f"{side}: 'fields' must be a list of field objects")
    seen: set[str] = set()
    out = []
    for i, f in enumerate(fields):
        if not isinstance(f, Mapping):
            raise SchemaInputError(f"{side}: field #{i} is not an object")
        name = f.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SchemaInputError(f"{side}: field #{i} has no 'name' (a non-empty string)")
        ftype = f.get("type", "string")
        if isinstance(ftype, list) and all(isinstance(t, str) for t in ftype):
            ftype = "|".join(ftype)  # JSON-Schema style ["string", "null"]
        if not isinstance(ftype, str):
            raise SchemaInputError(f"{side}: field {name!r} has a 'type' that is not a string")
        desc = f.get("description")
        if desc is not None and not isinstance(desc, str):
            raise SchemaInputError(f"{side}: field {name!r} has a non-string 'description'")
        if name in seen:
            raise SchemaInputError(f"{side}: field {name!r} is listed twice")
        seen.add(name)
        out.append({**f, "name": name, "type": ftype})
    return out


def fields_of(doc: Any, side: str = "schema") -> list[dict[str, Any]]:
    """The field list of a schema document: ``{"fields": [...]}``, a JSON Schema object
    (``{"properties": ...}``), or a drift case (its ``before`` / ``after`` by ``side``)."""
    if isinstance(doc, list):
        return _check_fields(doc, side)
    if not isinstance(doc, Mapping):
        raise SchemaInputError(f"{side}: expected a JSON object with a 'fields' list")
    if "fields" in doc:
        return _check_fields(doc["fields"], side)
    if side in ("before", "after") and isinstance(doc.get(side), Mapping):
        return fields_of(doc[side], side)
    if isinstance(doc.get("properties"), Mapping):
        return _check_fields(_json_schema_fields(doc), side)
    raise SchemaInputError(
        f"{side}: expected a schema object with a 'fields' list "
        "(or a JSON Schema with 'properties', or a drift case with 'before'/'after')"
    )


def _json_schema_fields(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    from autonomos.aam.schema_io import fields_from_json_schema

    return list(fields_from_json_schema(doc))


def _names(fields: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Normalised path -> the source's spelling (clashes get ``_2``, like landing does)."""
    raw = [f["name"] for f in fields]
    return dict(zip(normalize_names(raw), raw, strict=True))


def diff_schemas(
    before_fields: list[dict[str, Any]],
    after_fields: list[dict[str, Any]],
    *,
    rename_model: RenameModel | None = None,
) -> dict[str, Any]:
    """``{"added", "removed", "renamed" {old: new}, "type_changed" {f: [old, new]},
    "rename_confidence" {old: c}}`` between two field lists (``{"name", "type", ...}``).
    ``rename_model``: another fitted rename model (fitting and its cross-validation)."""
    before_fields = _check_fields(before_fields, "before")
    after_fields = _check_fields(after_fields, "after")
    old_names, new_names = _names(before_fields), _names(after_fields)
    # Rebuild with de-duplicated normalised names, so detection sees each field once.
    before = load_schema(
        {"fields": [{**f, "name": n} for n, f in zip(old_names, before_fields, strict=True)]}
    )
    after = load_schema(
        {"fields": [{**f, "name": n} for n, f in zip(new_names, after_fields, strict=True)]}
    )
    raw_type = {("b", f["name"]): f["type"] for f in before_fields}
    raw_type.update({("a", f["name"]): f["type"] for f in after_fields})
    pred: dict[str, Any] = {
        "added": [],
        "removed": [],
        "renamed": {},
        "type_changed": {},
        "rename_confidence": {},
    }
    respelled = {p for p in old_names.keys() & new_names.keys() if old_names[p] != new_names[p]}
    for p in sorted(respelled, key=list(old_names).index):
        pred["renamed"][old_names[p]] = new_names[p]
        pred["rename_confidence"][old_names[p]] = SPELLING_ONLY
    for c in detect_drift(before, after, rename_model=rename_model):
        if c.kind == "added":
            pred["added"].append(new_names[c.path])
        elif c.kind == "removed":
            pred["removed"].append(old_names[c.path])
        elif c.kind == "type_changed" and c.path not in respelled:
            old, new = old_names[c.path], new_names[c.path]
            pred["type_changed"][new] = [raw_type[("b", old)], raw_type[("a", new)]]
        elif c.kind == "renamed" and c.old_path and c.new_path:
            old = old_names[c.old_path]
            pred["renamed"][old] = new_names[c.new_path]
            pred["rename_confidence"][old] = c.confidence
    _unwrapped(pred, before, after, old_names, new_names, respelled)
    order_b = {n: i for i, n in enumerate(f["name"] for f in before_fields)}
    order_a = {n: i for i, n in enumerate(f["name"] for f in after_fields)}
    pred["added"].sort(key=order_a.__getitem__)
    pred["removed"].sort(key=order_b.__getitem__)
    return pred


def _unwrapped(
    pred: dict[str, Any],
    before: StreamSchema,
    after: StreamSchema,
    old_names: dict[str, str],
    new_names: dict[str, str],
    respelled: set[str],
) -> None:
    """An object flattened to its value (``Revenue`` {``Revenue.Value``} -> ``revenue``):
    the value child was renamed and the object removed, not the object re-spelled into
    a scalar. Applies when a re-spelled object became a scalar and exactly one of its
    removed children (its only child, or an envelope such as ``value``) has a type the
    scalar can hold."""
    old_type = {f.name: f.type for f in before.fields}
    new_type = {f.name: f.type for f in after.fields}
    removed = {old_names[o] for o in old_names} & set(pred["removed"])
    for p in sorted(respelled):
        if old_type[p] is not FieldType.JSON or new_type[p] is FieldType.JSON:
            continue
        kids = [q for q in old_names if q.startswith(p + ".")]
        fits = [
            q
            for q in kids
            if old_names[q] in removed
            and (len(kids) == 1 or q.rsplit(".", 1)[1] in WRAPPERS)
            and old_type[q] is not FieldType.JSON
            and type_direction(old_type[q], new_type[p]) != "incompatible"
        ]
        if len(fits) != 1:
            continue
        child, container = old_names[fits[0]], old_names[p]
        pred["renamed"].pop(container, None)
        pred["rename_confidence"].pop(container, None)
        pred["removed"].remove(child)
        pred["removed"].append(container)
        pred["renamed"][child] = new_names[p]
        pred["rename_confidence"][child] = UNWRAPPED


def read_schema_file(path: Path, side: str) -> list[dict[str, Any]]:
    """The field list of a schema JSON file (see :func:`fields_of`); SchemaInputError
    naming the file when it is missing, unreadable or not a schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SchemaInputError(f"{side}: cannot read {path}: {e}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaInputError(f"{side}: {path} is not JSON ({e.msg}, line {e.lineno})") from None
    return fields_of(doc, side)
