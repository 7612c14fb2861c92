"""Rename detection: structural renames are confident, traps are not renames (or not
confident), and every pair carries its evidence."""

from __future__ import annotations

import pytest

from autonomos.aam._rename import FieldView, match_renames, rank_candidates, score_pair
from autonomos.aam.drift import detect_drift
from autonomos.aam.repair import diff_schemas
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

T = FieldType


def fields(*specs: str) -> list[dict[str, str]]:
    """``"name:type"`` -> field dicts (type defaults to string)."""
    out = []
    for spec in specs:
        name, _, ftype = spec.partition(":")
        out.append({"name": name, "type": ftype or "string"})
    return out


def renames(before: list[str], after: list[str]) -> dict[str, tuple[str, float]]:
    d = diff_schemas(fields("id", *before), fields("id", *after))
    return {o: (n, d["rename_confidence"][o]) for o, n in d["renamed"].items()}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["assignee_email"], ["assignee.email"]),  # flattened -> nested
        (["assignee.email"], ["assignee_email"]),  # nested -> flattened
        (["companies.data.id"], ["companies.id"]),  # list envelope unwrapped
        (["properties.email.value"], ["properties.email"]),  # value wrapper dropped
        (["createdAt:datetime"], ["created_at:datetime"]),  # camelCase -> snake_case
        # a typo fixed: the right spelling was already used by another field
        (["customer_wating_since", "waiting_count"], ["customer_waiting_since", "waiting_count"]),
    ],
)
def test_structural_renames_are_confident(before: list[str], after: list[str]) -> None:
    old, new = before[0].partition(":")[0], after[0].partition(":")[0]
    assert renames(before, after) == {old: (new, pytest.approx(renames(before, after)[old][1]))}
    assert renames(before, after)[old][1] >= 0.9


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["created:datetime"], ["created_at:datetime"]),  # a representation suffix
        (["desc"], ["description"]),  # an abbreviation
        (["recieved_at:datetime"], ["received_at:datetime"]),  # two-letter slip
        (["date_created:datetime"], ["created_date:datetime"]),  # words reordered
        (["plan.id"], ["plans.id"]),  # parent became plural
        (["contact_id"], ["contract_id"]),  # one letter away, but no sign of a typo
        (["customer_details.email"], ["customer.email"]),  # moved to an alike parent
    ],
)
def test_plausible_renames_are_not_confident(before: list[str], after: list[str]) -> None:
    got = renames(before, after)
    assert len(got) == 1
    ((_, conf),) = got.values()
    assert 0.78 <= conf < 0.9


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["deactivated:boolean"], ["is_active:boolean"]),
        (["enabled:boolean"], ["disabled:boolean"]),
        (["is_archived:boolean"], ["active:boolean"]),
        (["is_active:boolean"], ["is_inactive:boolean"]),
        (["visible:boolean"], ["is_hidden:boolean"]),
    ],
)
def test_inverted_booleans_need_an_inverting_transform(before: list[str], after: list[str]) -> None:
    old = StreamSchema("s", tuple(FieldSpec(f.partition(":")[0], T.BOOLEAN) for f in before))
    new = StreamSchema("s", tuple(FieldSpec(f.partition(":")[0], T.BOOLEAN) for f in after))
    (change,) = detect_drift(old, new)
    assert change.kind == "renamed"
    assert change.transform == "not"
    assert change.confidence is not None and change.confidence < 0.9
    assert change.evidence is not None and change.evidence.pattern == "inverted"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["charges:array<object>"], ["latest_charge:string"]),  # replacement, new meaning
        (["email"], ["primary_email"]),  # qualifier: one of many
        (["unit_amount:integer"], ["amount:integer"]),
        (["total_count:integer"], ["count:integer"]),
        (["opened_at:datetime"], ["closed_at:datetime"]),  # opposite, not boolean
        (["min_amount:number"], ["max_amount:number"]),
        (["address_line1"], ["address_line2"]),  # numbered siblings
        (["phone_1"], ["phone_2"]),
        (["status"], ["state"]),  # different words, however close
        (["pull_request.merged_by"], ["pull_request.merged_at"]),
        (["statement_descriptor"], ["statement_descriptor_suffix"]),  # narrower fact
        (["tax_rate:number"], ["tax_rates:array<object>"]),  # one -> many
        (["shipping.city"], ["billing.city"]),
        (["active:string"], ["inactive:string"]),  # opposites that are not booleans
        (["user_id:boolean"], ["user.id:date"]),  # incompatible types
    ],
)
def test_traps_are_not_renames(before: list[str], after: list[str]) -> None:
    assert renames(before, after) == {}
    d = diff_schemas(fields("id", *before), fields("id", *after))
    assert d["removed"] == [before[0].partition(":")[0]]
    assert d["added"] == [after[0].partition(":")[0]]


def test_ambiguous_candidates_are_not_confident() -> None:
    old = [FieldView("contact_email", T.STRING, position=0.5)]
    new = [
        FieldView("contact.email", T.STRING, position=0.4),
        FieldView("contact__email", T.STRING, position=0.6),
    ]
    (pair,) = match_renames(old, new)
    assert pair.confidence < 0.9 and pair.signals["runner_up"] >= 0.9


def test_descriptions_help_and_hurt() -> None:
    same = "The date and time at which the ticket was first assigned to an agent."
    old = FieldView("assign_ts", T.TIMESTAMP, description=same, position=0.3)
    new = FieldView("handover_time", T.TIMESTAMP, description=same, position=0.32)
    (pair,) = match_renames([old], [new])
    assert pair.pattern == "description" and 0.78 <= pair.confidence < 0.9
    plain = score_pair(FieldView("userName", T.STRING), FieldView("user.name", T.STRING))
    unrelated = score_pair(
        FieldView("userName", T.STRING, description="Login handle of the user, unique."),
        FieldView("user.name", T.STRING, description="Billing country, ISO 3166 code."),
    )
    assert unrelated.confidence < plain.confidence


def test_type_change_lowers_confidence_and_shape_change_blocks_plural() -> None:
    same = score_pair(FieldView("a_b", T.STRING), FieldView("a.b", T.STRING))
    widened = score_pair(FieldView("a_b", T.INTEGER), FieldView("a.b", T.STRING))
    assert widened.confidence < same.confidence
    assert score_pair(FieldView("a_b", T.BOOLEAN), FieldView("a.b", T.DATE)).confidence == 0


def test_rank_candidates_gives_evidence_for_removed_fields() -> None:
    old = FieldView("charges", T.JSON, "array<object>")
    added = [FieldView("latest_charge", T.STRING), FieldView("currency", T.STRING)]
    (best, *_) = rank_candidates(old, added)
    assert best.new == "latest_charge" and best.confidence < 0.78
    assert best.pattern in ("qualified", "plural") and set(best.signals) >= {"name", "type"}


def test_meaning_change_of_a_kept_name() -> None:
    old = StreamSchema(
        "s", (FieldSpec("amount", T.INTEGER, description="Amount in cents, the smallest unit."),)
    )
    new = StreamSchema(
        "s", (FieldSpec("amount", T.INTEGER, description="Number of seats on the plan."),)
    )
    (change,) = detect_drift(old, new)
    assert change.kind == "meaning_changed" and change.path == "amount"
    reworded = StreamSchema(
        "s", (FieldSpec("amount", T.INTEGER, description="Amount in cents (smallest unit)."),)
    )
    assert detect_drift(old, reworded) == []


def test_rename_evidence_is_recorded_on_the_change() -> None:
    old = StreamSchema("s", (FieldSpec("source_type", T.STRING),))
    new = StreamSchema(
        "s", (FieldSpec("source", T.JSON, source_type="object"), FieldSpec("source.type", T.STRING))
    )
    changes = {c.kind: c for c in detect_drift(old, new)}
    ren = changes["renamed"]
    assert (ren.old_path, ren.new_path) == ("source_type", "source.type")
    assert ren.evidence is not None and ren.evidence.pattern == "separator"
    assert ren.evidence.type == 1.0 and 0 <= ren.evidence.position <= 1
    assert changes["added"].path == "source"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["closed_date:date"], ["closed_at:datetime"]),  # a date word swapped (and widened)
        (["sent_at:datetime"], ["sent_date:datetime"]),
        (["paid_at:datetime"], ["paid_date:date"]),
        (["changed_date:datetime"], ["updated_at:datetime"]),  # a synonym and a date word
    ],
)
def test_respelled_facts_are_renames_but_not_confident(before: list[str], after: list[str]) -> None:
    got = renames(before, after)
    old, new = before[0].partition(":")[0], after[0].partition(":")[0]
    assert set(got) == {old} and got[old][0] == new
    assert 0.78 <= got[old][1] < 0.9


def test_the_record_id_can_take_its_objects_name() -> None:
    d = diff_schemas(fields("id:integer", "name"), fields("order_id:integer", "name"))
    assert d["renamed"] == {"id": "order_id"} and 0.78 <= d["rename_confidence"]["id"] < 0.9


def test_epoch_numbers_becoming_timestamps_can_still_be_a_rename() -> None:
    got = renames(["metadata.auto.first_visit:integer"], ["metadata_auto.first_visit:datetime"])
    assert got["metadata.auto.first_visit"][0] == "metadata_auto.first_visit"


def test_values_that_carry_over_support_a_rename() -> None:
    values = tuple(f"v{i}" for i in range(5))
    with_values = score_pair(
        FieldView("zeta_score", T.STRING, samples=values),
        FieldView("omega_rank", T.STRING, samples=values),
    )
    without = score_pair(FieldView("zeta_score", T.STRING), FieldView("omega_rank", T.STRING))
    assert with_values.confidence > without.confidence


def test_an_object_flattened_to_its_value_renames_the_value_child() -> None:
    """``StateCode`` {``StateCode.Value``} -> ``statecode``: the child's value is what was
    renamed; the object (a new shape) was removed, not re-spelled into a scalar."""
    before = [
        {"name": "Name", "type": "string"},
        {"name": "Revenue", "type": "object"},
        {"name": "Revenue.Value", "type": "number"},
        {"name": "StateCode", "type": "object"},
        {"name": "StateCode.Value", "type": "integer"},
    ]
    after = [
        {"name": "name", "type": "string"},
        {"name": "revenue", "type": "number"},
        {"name": "statecode", "type": "integer"},
    ]
    d = diff_schemas(before, after)
    assert d["renamed"]["Revenue.Value"] == "revenue"
    assert d["renamed"]["StateCode.Value"] == "statecode"
    assert "Revenue" not in d["renamed"] and "StateCode" not in d["renamed"]
    assert {"Revenue", "StateCode"} <= set(d["removed"])


@pytest.mark.parametrize(
    ("old", "new"),
    [("id:integer|string", "gid"), ("vid:integer", "id"), ("id", "list_id")],
)
def test_the_one_removed_and_one_added_identifier_pair(old: str, new: str) -> None:
    got = diff_schemas(fields("name", old, "email"), fields("name", new, "email"))
    o = old.partition(":")[0]
    assert got["renamed"] == {o: new}
    assert 0.78 <= got["rename_confidence"][o] < 0.9  # plausible, never sure on names


def test_identifiers_of_sub_records_do_not_make_the_pair_ambiguous_or_win() -> None:
    got = diff_schemas(
        fields("id", "workspace.id", "workspace.gid", "name"),
        fields("gid", "workspace.gid", "name"),
    )
    assert got["renamed"] == {"id": "gid"}


def test_two_removed_identifiers_and_one_added_are_not_guessed() -> None:
    got = diff_schemas(fields("euid", "leid", "email"), fields("id", "email"))
    assert got["renamed"] == {}  # either could be it: neither is proposed
    assert sorted(got["removed"]) == ["euid", "leid"] and got["added"] == ["id"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("account_balance:number", "balance:number"),
        ("contact_count:integer", "membership_count:integer"),
    ],
)
def test_the_one_field_replaced_in_place_with_the_same_head_word_is_a_rename(
    old: str, new: str
) -> None:
    got = diff_schemas(fields("name", old, "email"), fields("name", new, "email"))
    o = old.partition(":")[0]
    assert got["renamed"] == {o: new.partition(":")[0]}
    assert got["rename_confidence"][o] < 0.9  # proposed, never applied on names alone


def test_in_place_is_not_enough_for_a_qualifier_or_an_opposite() -> None:
    for old, new in (("email", "primary_email"), ("opened_at:datetime", "closed_at:datetime")):
        got = diff_schemas(fields("name", old, "phone"), fields("name", new, "phone"))
        assert got["renamed"] == {}, (old, new)


def test_in_place_needs_one_field_on_each_side() -> None:
    got = diff_schemas(
        fields("name", "account_balance:number", "email"),
        fields("name", "balance:number", "credit_balance:number", "email"),
    )
    assert got["renamed"] == {}


def test_a_glued_identifier_splits_on_a_word_the_schema_uses() -> None:
    before = [
        {"name": "ACCOUNTID", "type": "string"},
        {"name": "Account Name", "type": "string"},
        {"name": "Phone", "type": "string"},
    ]
    after = [
        {"name": "id", "type": "string"},
        {"name": "Account Name", "type": "string"},
        {"name": "Phone", "type": "string"},
    ]
    got = diff_schemas(before, after)
    assert got["renamed"] == {"ACCOUNTID": "id"}
    assert got["rename_confidence"]["ACCOUNTID"] < 0.9
    # a glued word the schema does not use elsewhere is not split
    got = diff_schemas([before[0], before[2]], [after[0], after[2]])
    assert got["renamed"] == {}


def test_a_reference_object_becomes_its_lookup_value() -> None:
    """OData's ``OwnerId`` {``Id``, ``Name``} -> Dataverse's ``_ownerid_value``: the
    reference's key is renamed; the object and its other children are removed."""
    before = fields("name", "OwnerId:object", "OwnerId.Id", "OwnerId.Name", "phone")
    got = diff_schemas(before, fields("name", "_ownerid_value", "phone"))
    assert got["renamed"] == {"OwnerId.Id": "_ownerid_value"}
    assert 0.78 <= got["rename_confidence"]["OwnerId.Id"] < 0.9
    assert {"OwnerId", "OwnerId.Name"} <= set(got["removed"])
    # an expandable reference collapsed to its key
    got = diff_schemas(fields("name", "customer.id", "phone"), fields("name", "customer", "phone"))
    assert got["renamed"] == {"customer.id": "customer"}
    # another object's key is not this reference
    got = diff_schemas(fields("name", "Manager.Id"), fields("name", "_ownerid_value"))
    assert got["renamed"] == {}


def test_fields_gathered_under_their_common_word() -> None:
    """Lever's ``archivedAt``, ``archiveReason`` -> ``archived`` {``archivedAt``,
    ``reason``}; a ``string|object`` union narrowed to its string is not a new shape."""
    before = fields("name", "archived:boolean", "archivedAt", "archiveReason:string|object")
    after = fields("name", "archived:object", "archived.archivedAt:integer", "archived.reason")
    got = diff_schemas(before, after)
    assert got["renamed"] == {
        "archivedAt": "archived.archivedAt",
        "archiveReason": "archived.reason",
    }
    assert got["type_changed"] == {"archived": ["boolean", "object"]}
    # a level that adds a word the leaf does not say is a new parent, not a regrouping
    got = diff_schemas(fields("name", "city"), fields("name", "billing.city"))
    assert got["renamed"] == {}


def test_a_term_renamed_across_fields_is_a_rename_of_each() -> None:
    before = fields("name", "builds_enabled:boolean", "public_builds:boolean", "email")
    after = fields("name", "email", "jobs_enabled:boolean", "public_jobs:boolean")
    got = diff_schemas(before, after)
    assert got["renamed"] == {"builds_enabled": "jobs_enabled", "public_builds": "public_jobs"}
    assert all(c < 0.9 for c in got["rename_confidence"].values())  # proposed, not applied
    # two unrelated word changes are no term renamed
    before = fields("name", "builds_enabled:boolean", "public_pages:boolean", "email")
    after = fields("name", "email", "jobs_enabled:boolean", "public_sites:boolean")
    assert diff_schemas(before, after)["renamed"] == {}
    # alone, one word of a long name replaced; not one of a short name
    before = fields("name", "only_allow_merge_if_build_succeeds:boolean", "email")
    after = fields("name", "email", "only_allow_merge_if_pipeline_succeeds:boolean")
    got = diff_schemas(before, after)
    assert got["renamed"] == {
        "only_allow_merge_if_build_succeeds": "only_allow_merge_if_pipeline_succeeds"
    }
    before = fields("name", "build_log_url", "email")
    after = fields("name", "email", "job_log_url")
    assert diff_schemas(before, after)["renamed"] == {}
    # the same swap in several fields is still no rename when it is a trap
    for old_word, new_word in (("min", "max"), ("billing", "shipping"), ("line1", "line2")):
        before = fields("name", f"{old_word}_price:number", f"{old_word}_qty:integer", "email")
        after = fields("name", "email", f"{new_word}_price:number", f"{new_word}_qty:integer")
        assert diff_schemas(before, after)["renamed"] == {}, old_word
