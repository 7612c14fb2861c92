"""Schema fingerprints: a stable hash of what a stream's rows look like.

The fingerprint covers the normalised (name, type, nullable) triples sorted by name, so
field order, descriptions and source type spellings never change it. Primary key and
cursor are deliberately left out: they change how rows are merged, not what a row holds,
and the drift detector compares them separately (see ``schema_identity``).
"""

from __future__ import annotations

import hashlib

from autonomos.aam.normalize import normalize_name
from autonomos.connectors.schema import StreamSchema

__all__ = ["fingerprint", "schema_identity"]


def fingerprint(schema: StreamSchema) -> str:
    """sha256 hex of the sorted ``name:type:nullable`` lines of the schema."""
    lines = sorted(
        f"{normalize_name(f.name)}\x1f{f.type.value}\x1f{'1' if f.nullable else '0'}"
        for f in schema.fields
    )
    return hashlib.sha256("\x1e".join(lines).encode()).hexdigest()


def schema_identity(schema: StreamSchema) -> dict[str, object]:
    """Everything that identifies a schema version, the fingerprint included."""
    return {
        "stream": schema.name,
        "fingerprint": fingerprint(schema),
        "primary_key": [normalize_name(k) for k in schema.primary_key],
        "cursor_field": normalize_name(schema.cursor_field) if schema.cursor_field else None,
    }
