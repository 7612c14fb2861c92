"""``diff_schemas``: the drift prediction shape of ``autonomos map diff``."""

from __future__ import annotations

import pytest

from autonomos.aam.repair import SchemaInputError, diff_schemas, fields_of

BEFORE = [
    {"name": "id", "type": "integer|null"},
    {"name": "assignee_email", "type": "string|null"},
    {"name": "photo_url", "type": "string"},
    {"name": "created_at", "type": "datetime|null"},
    {"name": "tags", "type": "object|null"},
]
AFTER = [
    {"name": "id", "type": "string|null"},
    {"name": "assignee", "type": "object|null"},
    {"name": "assignee.email", "type": "string|null"},
    {"name": "created_at", "type": "string|null"},
    {"name": "tags", "type": "array<object>|null"},
    {"name": "country", "type": "string"},
]


def test_shape_and_contents() -> None:
    d = diff_schemas(BEFORE, AFTER)
    assert set(d) == {"added", "removed", "renamed", "type_changed", "rename_confidence"}
    assert d["added"] == ["assignee", "country"]  # in the new schema's order
    assert d["removed"] == ["photo_url"]
    assert d["renamed"] == {"assignee_email": "assignee.email"}
    assert d["rename_confidence"]["assignee_email"] >= 0.9
    # the source's own type spellings; the renamed field is never also a type change
    assert d["type_changed"] == {
        "id": ["integer|null", "string|null"],
        "created_at": ["datetime|null", "string|null"],
        "tags": ["object|null", "array<object>|null"],
    }


def test_no_drift_and_format_only_changes() -> None:
    assert diff_schemas(BEFORE, BEFORE) == {
        "added": [],
        "removed": [],
        "renamed": {},
        "type_changed": {},
        "rename_confidence": {},
    }
    with_format = [{"name": "n", "type": "integer", "format": "int64"}]
    assert diff_schemas(with_format, [{"name": "n", "type": "integer"}])["type_changed"] == {}
    listed = [{"name": "n", "type": ["null", "integer"]}]
    assert diff_schemas(listed, [{"name": "n", "type": "integer|null"}])["type_changed"] == {}


def test_spelling_only_renames_are_reported_with_source_names() -> None:
    d = diff_schemas(
        [{"name": "createdAt", "type": "string"}, {"name": "Id", "type": "integer"}],
        [{"name": "created_at", "type": "integer"}, {"name": "id", "type": "integer"}],
    )
    assert d["renamed"] == {"createdAt": "created_at", "Id": "id"}
    assert d["rename_confidence"] == {"createdAt": 0.98, "Id": 0.98}
    assert d["type_changed"] == {} and d["added"] == [] and d["removed"] == []


def test_fields_of_accepts_schema_objects_drift_cases_and_json_schema() -> None:
    case = {"id": "c", "before": {"fields": BEFORE}, "after": {"fields": AFTER}}
    assert fields_of(case, "before") == fields_of({"fields": BEFORE}, "before")
    assert [f["name"] for f in fields_of(case, "after")][-1] == "country"
    js = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}}
    assert [f["name"] for f in fields_of(js)] == ["a", "a.b"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("nope", "expected a JSON object"),
        ({"columns": []}, "'fields' list"),
        ({"fields": {"a": 1}}, "must be a list"),
        ({"fields": [1]}, "is not an object"),
        ({"fields": [{"type": "string"}]}, "has no 'name'"),
        ({"fields": [{"name": "a", "type": 3}]}, "'type' that is not a string"),
        ({"fields": [{"name": "a"}, {"name": "a"}]}, "listed twice"),
        ({"fields": [{"name": "a", "description": 4}]}, "non-string 'description'"),
    ],
)
def test_bad_input_is_a_clear_error(doc: object, message: str) -> None:
    with pytest.raises(SchemaInputError, match=message):
        fields_of(doc, "before")
    if isinstance(doc, dict) and isinstance(doc.get("fields"), list):
        with pytest.raises(SchemaInputError, match=message):
            diff_schemas(doc["fields"], AFTER)
