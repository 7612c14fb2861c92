import pytest

from autonomos.aam.drift import (
    DriftChange,
    DriftEvent,
    DriftPolicy,
    decide,
    detect_drift,
    overall_severity,
    type_direction,
)
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

T = FieldType


def schema(*fields: tuple[str, FieldType], pk: tuple[str, ...] = (), cursor: str | None = None):
    return StreamSchema("s", tuple(FieldSpec(n, t) for n, t in fields), pk, cursor)


@pytest.mark.parametrize(
    ("old", "new", "direction"),
    [
        (T.INTEGER, T.NUMBER, "widen"),
        (T.NUMBER, T.STRING, "widen"),
        (T.INTEGER, T.DECIMAL, "widen"),
        (T.DATE, T.TIMESTAMP, "widen"),
        (T.BOOLEAN, T.STRING, "widen"),
        (T.TIMESTAMP, T.JSON, "widen"),
        (T.NUMBER, T.INTEGER, "narrow"),
        (T.STRING, T.BOOLEAN, "narrow"),
        (T.BOOLEAN, T.DATE, "incompatible"),
        (T.STRING, T.STRING, None),
    ],
)
def test_lattice(old: FieldType, new: FieldType, direction: str | None) -> None:
    assert type_direction(old, new) == direction


def test_added_removed_type_changed_nested() -> None:
    old = schema(("id", T.INTEGER), ("billing.zip", T.INTEGER), ("gone.deep", T.STRING))
    new = schema(("id", T.STRING), ("billing.zip", T.NUMBER), ("billing.Country", T.STRING))
    changes = {(c.kind, c.path): c for c in detect_drift(old, new)}
    assert set(changes) == {
        ("type_changed", "id"),
        ("type_changed", "billing.zip"),
        ("removed", "gone.deep"),
        ("added", "billing.country"),
    }
    assert changes[("type_changed", "billing.zip")].direction == "widen"


def test_renames_flattened_to_nested_and_moves() -> None:
    old = schema(
        ("assignee_email", T.STRING), ("company.data.id", T.STRING), ("photo_url", T.STRING)
    )
    new = schema(("assignee.email", T.STRING), ("company.id", T.STRING), ("tags.type", T.STRING))
    changes = detect_drift(old, new)
    renames = {c.old_path: (c.new_path, c.confidence) for c in changes if c.kind == "renamed"}
    assert renames["assignee_email"][0] == "assignee.email"
    assert renames["assignee_email"][1] >= 0.9
    assert renames["company.data.id"][0] == "company.id"
    assert "photo_url" not in renames  # dissimilar: stays removed + added
    kinds = {(c.kind, c.path) for c in changes}
    assert ("removed", "photo_url") in kinds and ("added", "tags.type") in kinds


def test_rename_needs_compatible_types_and_is_one_to_one() -> None:
    old = schema(("user_id", T.BOOLEAN))
    new = schema(("user.id", T.DATE))
    assert {c.kind for c in detect_drift(old, new)} == {"added", "removed"}
    old = schema(("a_b", T.STRING))
    new = schema(("a.b", T.STRING), ("a__b2", T.STRING))
    assert [c.new_path for c in detect_drift(old, new) if c.kind == "renamed"] == ["a.b"]


def test_key_cursor_and_nullability() -> None:
    old = StreamSchema("s", (FieldSpec("id", T.INTEGER, nullable=False),), ("id",), "id")
    new = StreamSchema("s", (FieldSpec("id", T.INTEGER, nullable=True),), (), None)
    kinds = {c.kind: c for c in detect_drift(old, new)}
    assert set(kinds) == {"primary_key_changed", "cursor_changed", "nullability_changed"}
    assert kinds["nullability_changed"].direction == "widen"


def test_no_drift() -> None:
    s = schema(("id", T.INTEGER))
    assert detect_drift(s, s) == []


ADD = DriftChange(kind="added", path="x", new_type=T.STRING)
WIDEN = DriftChange(
    kind="type_changed", path="n", old_type=T.INTEGER, new_type=T.NUMBER, direction="widen"
)
NARROW = DriftChange(
    kind="type_changed", path="m", old_type=T.NUMBER, new_type=T.INTEGER, direction="narrow"
)
REMOVED = DriftChange(kind="removed", path="r", old_type=T.STRING)


def test_policy_auto_applies_only_safe_changes() -> None:
    d = decide(DriftPolicy.AUTO, [ADD, WIDEN, NARROW])
    assert d.apply == (ADD, WIDEN)
    assert d.propose == (NARROW,)
    assert not d.pause_stream


def test_policy_propose_block_quarantine() -> None:
    assert decide(DriftPolicy.PROPOSE, [ADD]).apply == ()
    blocked = decide(DriftPolicy.BLOCK, [ADD, REMOVED])
    assert blocked.pause_stream and blocked.apply == ()
    assert not decide(DriftPolicy.BLOCK, [ADD, WIDEN]).pause_stream
    q = decide(DriftPolicy.QUARANTINE, [ADD, NARROW, REMOVED])
    assert q.quarantine_fields == ("m", "r") and not q.pause_stream
    assert NARROW in q.propose and NARROW not in q.apply


def test_event_severity() -> None:
    assert overall_severity([ADD, WIDEN]) == "info"
    assert overall_severity([ADD, NARROW]) == "breaking"
    ev = DriftEvent(
        tenant_id="t",
        connection_id="c",
        stream="s",
        old_fingerprint="a",
        new_fingerprint="b",
        changes=(ADD,),
        severity=overall_severity([ADD]),
    )
    assert ev.detected_at.tzinfo is not None


def test_every_declared_type_change_is_found_but_not_a_reordered_union() -> None:
    from autonomos.aam.repair import diff_schemas

    before = [
        {"name": "id", "type": "integer|null"},
        {"name": "opened", "type": "date"},
        {"name": "tags", "type": "string|array<string>"},
        {"name": "amount", "type": "number"},
    ]
    after = [
        {"name": "id", "type": "string|null"},
        {"name": "opened", "type": "datetime"},
        {"name": "tags", "type": "array<string>|string"},
        {"name": "amount", "type": "integer"},
    ]
    got = diff_schemas(before, after)["type_changed"]
    assert set(got) == {"id", "opened", "amount"}


def test_json_schema_alternatives_keep_their_types_and_formats() -> None:
    from autonomos.aam.repair.diff import fields_of

    doc = {
        "properties": {
            "created": {"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}]},
            "owner": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"id": {}}}]},
        }
    }
    fields = {f["name"]: f for f in fields_of(doc)}
    assert fields["created"]["type"] == "null|string"
    assert fields["created"]["format"] == "date-time"
    assert "owner.id" in fields
