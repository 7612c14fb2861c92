"""Planning repairs from drift (pure: no database, no Ray) and Safe Mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from autonomos.aam.drift import DriftEvent, detect_drift, overall_severity
from autonomos.aam.repair.models import MappingRef, RepairProposal
from autonomos.aam.repair.planner import cast_rule, compose, plan_repairs
from autonomos.aam.repair.safe_mode import SafeMode
from autonomos.aam.repair.suggest import matcher_suggest
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema
from tests.helpers.repair import FakeMatcher, FakeSuggestion

T = FieldType

OLD = StreamSchema(
    "accounts",
    (
        FieldSpec("id", T.STRING),
        FieldSpec("user_name", T.STRING),
        FieldSpec("deactivated", T.BOOLEAN),
        FieldSpec("charges", T.JSON, source_type="array<object>"),
        FieldSpec("employees", T.INTEGER),
        FieldSpec("revenue", T.NUMBER),
        FieldSpec("unmapped_gone", T.STRING),
    ),
)
NEW = StreamSchema(
    "accounts",
    (
        FieldSpec("id", T.STRING),
        FieldSpec("username", T.STRING),
        FieldSpec("is_active", T.BOOLEAN),
        FieldSpec("latest_charge", T.STRING),
        FieldSpec("employees", T.STRING),
        FieldSpec("revenue", T.INTEGER),
        FieldSpec("phone", T.STRING),
    ),
)
MAPPINGS = [
    MappingRef("id", "account", "account_id", version=1),
    MappingRef("user_name", "account", "owner_id", version=3),
    MappingRef("deactivated", "account", "is_deleted", version=1),
    MappingRef("charges", "account", "annual_revenue", version=2),
    MappingRef("employees", "account", "employee_count", version=1),
    MappingRef("revenue", "account", "annual_revenue", transform="cents_to_units", version=1),
]
TYPES = {"account.employee_count": "integer", "account.annual_revenue": "decimal"}


class Samples:
    def before(self, path: str) -> list[str]:
        return {"deactivated": ["false", "true"], "user_name": ["ada", "bob"]}.get(path, [])

    def after(self, path: str) -> list[str]:
        return {"is_active": ["true", "false"], "username": ["ada"]}.get(path, [])


def event(old: StreamSchema = OLD, new: StreamSchema = NEW) -> DriftEvent:
    changes = tuple(detect_drift(old, new))
    return DriftEvent(
        tenant_id="t",
        connection_id="00000000-0000-4000-8000-000000000001",
        stream="accounts",
        old_fingerprint="f-old",
        new_fingerprint="f-new",
        changes=changes,
        severity=overall_severity(changes),
    )


def plan(matcher: FakeMatcher | None = None) -> dict[tuple[str, str], RepairProposal]:
    props = plan_repairs(
        event(),
        MAPPINGS,
        old_schema=OLD,
        new_schema=NEW,
        samples=Samples(),
        suggest=matcher_suggest(matcher) if matcher else None,
        target_type=TYPES.get,
        drift_event_id="00000000-0000-4000-8000-0000000000ee",
    )
    return {(p.kind, p.source_field): p for p in props}


def test_every_change_becomes_the_right_repair() -> None:
    props = plan(FakeMatcher())
    assert set(props) == {
        ("remap", "user_name"),
        ("remap", "deactivated"),
        ("mark_broken", "charges"),
        ("cast", "employees"),
        ("quarantine", "revenue"),
        ("new_mapping", "phone"),
    }
    renamed = props[("remap", "user_name")]
    assert renamed.new_source_field == "username" and renamed.target == "account.owner_id"
    assert renamed.confidence >= 0.9 and not renamed.destructive and renamed.base_version == 3
    assert all(p.drift_event_id.endswith("ee") for p in props.values())  # type: ignore[union-attr]


def test_inverted_boolean_keeps_its_meaning_with_not_and_waits() -> None:
    p = plan()[("remap", "deactivated")]
    assert p.new_source_field == "is_active" and p.transform == "not"
    assert p.destructive and p.confidence < 0.9
    assert "opposite meaning" in p.reason


def test_removed_field_is_broken_with_candidates_but_not_renamed() -> None:
    p = plan()[("mark_broken", "charges")]
    assert p.destructive and p.reason.startswith("ALERT")
    assert [a.value for a in p.evidence.alternatives][:1] == ["latest_charge"]
    assert p.evidence.alternatives[0].score < 0.78


def test_type_changes_cast_or_quarantine() -> None:
    props = plan()
    cast = props[("cast", "employees")]
    assert cast.transform == "trim|nullif_empty" and not cast.destructive
    assert cast.confidence >= 0.9
    q = props[("quarantine", "revenue")]  # number -> integer narrows
    assert q.destructive and q.transform == "cents_to_units"


def test_evidence_has_signals_samples_alternatives_and_fingerprints() -> None:
    p = plan()[("remap", "deactivated")]
    ev = p.evidence
    assert ev.samples_before == ["false", "true"] and ev.samples_after == ["true", "false"]
    assert ev.old_fingerprint == "f-old" and ev.new_fingerprint == "f-new"
    assert ev.signals["pattern"] == "inverted" and "name" in ev.signals and "type" in ev.signals
    assert ev.mapping_before == {
        "source_field": "deactivated",
        "target": "account.is_deleted",
        "transform": None,
        "version": 1,
        "confidence": 1.0,
    }
    assert ev.change["kind"] == "renamed"


def test_new_field_gets_the_matchers_suggestion_for_the_streams_entity() -> None:
    m = FakeMatcher()
    p = plan(m)[("new_mapping", "phone")]
    assert p.target == "account.phone" and p.confidence == pytest.approx(0.97)
    assert [a.value for a in p.evidence.alternatives] == ["account.phone", "contact.phone"]
    assert not p.destructive
    schema, entity = m.calls[0]
    assert entity == "account"  # the stream already maps to account: keep it
    assert "phone" in {f.name for f in schema.fields}


def test_new_field_displacing_a_mapped_target_is_destructive() -> None:
    def suggest(
        fields: Sequence[FieldSpec], schema: StreamSchema, entity: str | None
    ) -> Mapping[str, Any]:
        return {"phone": FakeSuggestion("phone", "account.owner_id", 0.99)}

    props = plan_repairs(event(), MAPPINGS, old_schema=OLD, new_schema=NEW, suggest=suggest)
    (p,) = [p for p in props if p.kind == "new_mapping"]
    assert p.destructive and "already fed by 'user_name'" in p.reason


def test_unmapped_fields_need_no_repair() -> None:
    props = plan_repairs(event(), [], old_schema=OLD, new_schema=NEW)
    assert props == []


def test_safe_mode_never_auto_applies_a_destructive_change() -> None:
    props = plan(FakeMatcher())
    lenient = SafeMode(threshold=0.01)
    for p in props.values():
        if p.destructive:
            assert not lenient.auto_applies(p)
            assert not lenient.auto_applies(p.model_copy(update={"confidence": 1.0}))
    default = SafeMode()
    applied = {k for k, p in props.items() if default.auto_applies(p)}
    assert applied == {
        ("remap", "user_name"),
        ("cast", "employees"),
        ("new_mapping", "phone"),
    }
    assert not SafeMode(auto_apply=False).auto_applies(props[("remap", "user_name")])
    assert not SafeMode(threshold=0.99).auto_applies(props[("remap", "user_name")])
    with pytest.raises(ValueError):
        SafeMode(threshold=0)


def test_dedupe_key_is_stable_and_specific() -> None:
    a = plan()
    b = plan()
    assert {p.dedupe_key() for p in a.values()} == {p.dedupe_key() for p in b.values()}
    assert len({p.dedupe_key() for p in a.values()}) == len(a)


def test_transform_helpers() -> None:
    assert compose("not", "not") is None
    assert compose("trim", "not") == "trim|not"
    assert compose(None, None) is None
    assert cast_rule(T.INTEGER, T.STRING) == "trim|nullif_empty"
    assert cast_rule(T.BOOLEAN, T.STRING) == "trim|lower|nullif_empty"
    assert cast_rule(T.INTEGER, T.NUMBER) is None
