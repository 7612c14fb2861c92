"""What ``discover()`` returns: streams and their fields, in canonical types."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pyarrow as pa


class FieldType(enum.StrEnum):
    """Canonical field types. Every source type maps onto one of these."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # float64
    DECIMAL = "decimal"  # exact, e.g. money: decimal128(38, 9)
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"  # always UTC
    JSON = "json"  # nested values kept as JSON text
    BINARY = "binary"

    def arrow_type(self) -> pa.DataType:
        return _ARROW[self]

    @classmethod
    def from_arrow(cls, t: pa.DataType) -> FieldType:
        """Canonical type of a typed Arrow column (nested values are kept as JSON)."""
        if pa.types.is_boolean(t):
            return cls.BOOLEAN
        if pa.types.is_integer(t):
            return cls.INTEGER
        if pa.types.is_floating(t):
            return cls.NUMBER
        if pa.types.is_decimal(t):
            return cls.DECIMAL
        if pa.types.is_date(t):
            return cls.DATE
        if pa.types.is_timestamp(t):
            return cls.TIMESTAMP
        if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
            return cls.BINARY
        if pa.types.is_nested(t):  # lists, maps, structs, unions
            return cls.JSON
        return cls.STRING  # strings, nulls, and anything else rendered as text


_ARROW: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.DECIMAL: pa.decimal128(38, 9),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    FieldType.JSON: pa.string(),
    FieldType.BINARY: pa.binary(),
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a stream. Nested fields are flattened to dotted paths (``a.b.c``)."""

    name: str
    type: FieldType
    nullable: bool = True
    description: str | None = None
    source_type: str | None = None  # the source's own type name, for evidence and drift


@dataclass(frozen=True)
class StreamSchema:
    name: str
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...] = ()
    cursor_field: str | None = None
    description: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def schema_to_dict(schema: StreamSchema) -> dict[str, object]:
    """JSON-serialisable form, stored with each fingerprint."""
    return {
        "name": schema.name,
        "fields": [
            {
                "name": f.name,
                "type": f.type.value,
                "nullable": f.nullable,
                "description": f.description,
                "source_type": f.source_type,
            }
            for f in schema.fields
        ],
        "primary_key": list(schema.primary_key),
        "cursor_field": schema.cursor_field,
    }


def schema_from_dict(data: dict[str, object]) -> StreamSchema:
    fields = data.get("fields") or []
    assert isinstance(fields, list)
    return StreamSchema(
        name=str(data["name"]),
        fields=tuple(
            FieldSpec(
                name=f["name"],
                type=FieldType(f["type"]),
                nullable=bool(f.get("nullable", True)),
                description=f.get("description"),
                source_type=f.get("source_type"),
            )
            for f in fields
        ),
        primary_key=tuple(data.get("primary_key") or ()),  # type: ignore[arg-type]
        cursor_field=data.get("cursor_field"),  # type: ignore[arg-type]
    )
