from autonomos.aam.schema_io import canonical_type, load_schema
from autonomos.connectors.schema import FieldType


def test_field_list_types() -> None:
    s = load_schema(
        {
            "fields": [
                {"name": "id", "type": "integer|null", "format": "int64"},
                {"name": "at", "type": "string|null", "format": "date-time"},
                {"name": "tags", "type": "array<object>|null"},
                {"name": "mixed", "type": "object|string|null"},
                {"name": "key", "type": "string"},
            ]
        }
    )
    got = {f.name: (f.type, f.nullable, f.source_type) for f in s.fields}
    assert got["id"] == (FieldType.INTEGER, True, "integer")
    assert got["at"][0] is FieldType.TIMESTAMP
    assert got["tags"] == (FieldType.JSON, True, "array<object>")
    assert got["mixed"][0] is FieldType.JSON
    assert got["key"][1] is False
    assert canonical_type("datetime|null")[0] is FieldType.TIMESTAMP


def test_json_schema_is_flattened() -> None:
    doc = {
        "type": "object",
        "key_properties": ["id"],
        "properties": {
            "id": {"type": ["null", "integer"]},
            "owner": {"type": "object", "properties": {"email": {"type": "string"}}},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
            },
        },
    }
    s = load_schema(doc)
    assert [f.name for f in s.fields] == ["id", "owner", "owner.email", "items", "items.sku"]
    assert s.primary_key == ("id",)
    items = s.field("items")
    assert items is not None and items.source_type == "array<object>"
