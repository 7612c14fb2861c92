"""The small JSON-Schema subset LLM answers are checked against.

A schema is either JSON Schema (``{"type": "object", "properties": ..., "required": ...}``)
restricted to the keywords below, or a shorthand of required keys:
``{"choice": ["a", "b"], "confidence": "number", "reason": "string"}`` -- a type name, a
list of allowed values, or a nested schema per key.

Supported: ``type`` (a name or a list of names), ``enum``, ``const``, ``properties``,
``required``, ``additionalProperties`` (bool), ``items``, ``minItems``, ``maxItems``,
``minimum``, ``maximum``, ``minLength``, ``maxLength``, ``pattern``; ``title``,
``description`` and ``default`` are annotations. Anything else (``$ref``, ``oneOf``...) is
refused up front rather than silently not checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
_KEYWORDS = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern",
    "title", "description", "default",
}  # fmt: skip


class SchemaError(ValueError):
    """The schema itself uses something this subset does not support."""


def normalize(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` as (subset) JSON Schema; shorthand is expanded, all keys required."""
    if not isinstance(schema, Mapping) or not schema:
        raise SchemaError("a schema is a non-empty mapping")
    if _is_schema(schema):
        return _check(dict(schema), "$")
    properties = {str(k): _property(v, f"$.{k}") for k, v in schema.items()}
    return {"type": "object", "properties": properties, "required": list(properties)}


def _property(spec: Any, path: str) -> dict[str, Any]:
    if isinstance(spec, str):
        return _check({"type": spec}, path)
    if isinstance(spec, list | tuple):
        return {"enum": list(spec)}
    if isinstance(spec, Mapping):
        return _check(dict(spec), path) if _is_schema(spec) else normalize(spec)
    raise SchemaError(f"{path}: expected a type name, a list of values or a schema")


def _is_schema(spec: Mapping[str, Any]) -> bool:
    # A "type" holding type names, or "properties"/"enum"/"const", marks JSON Schema; then
    # any other key must be a supported keyword. Shorthand with a key literally named
    # "type" is therefore refused with that message: write such answers as JSON Schema.
    types = spec.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else None
    typed = names is not None and all(n in TYPES for n in names)
    return typed or bool(set(spec) & {"properties", "enum", "const"})


def _check(schema: dict[str, Any], path: str) -> dict[str, Any]:
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise SchemaError(f"{path}: unsupported schema keywords {sorted(unknown)}")
    types = schema.get("type")
    for t in [types] if isinstance(types, str) else types or []:
        if t not in TYPES:
            raise SchemaError(f"{path}: unknown type {t!r}")
    if "properties" in schema:
        schema["properties"] = {
            k: _property(v, f"{path}.{k}") for k, v in schema["properties"].items()
        }
    if "items" in schema:
        schema["items"] = _property(schema["items"], f"{path}[]")
    return schema


def _is_type(value: Any, t: str) -> bool:
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(
        value,
        {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}[t],
    )


def validate(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (normalised), as readable messages."""
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, t) for t in allowed):
            return [f"{path}: expected {' or '.join(allowed)}, got {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required key {key!r}")
        for key, item in value.items():
            if key in props:
                errors.extend(validate(item, props[key], f"{path}.{key}"))
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected key {key!r}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errors.extend(validate(item, schema["items"], f"{path}[{i}]"))
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} is above {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(f"{path}: does not match {schema['pattern']!r}")
    return errors


def _json_type(value: Any) -> str:
    for t in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, t):
            return t
    return type(value).__name__


def example(schema: Mapping[str, Any]) -> Any:
    """A deterministic value satisfying ``schema`` (normalised): the default, else the
    first allowed value, else the smallest of its type. Every property is filled in."""
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0] if schema["enum"] else None
    types = schema.get("type", "object" if "properties" in schema else "null")
    t = types if isinstance(types, str) else types[0]
    if t == "object":
        return {k: example(v) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        item = example(schema.get("items", {"type": "null"}))
        return [item] * int(schema.get("minItems", 0))
    if t in ("number", "integer"):
        value = schema.get("minimum", min(0, schema.get("maximum", 0)))
        return int(value) if t == "integer" else float(value)
    if t == "string":
        return "x" * int(schema.get("minLength", 0))
    return {"boolean": False, "null": None}[t]
