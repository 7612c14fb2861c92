import numpy as np
import pytest

from autonomos.matching.field_types import normalise_type, type_compat
from autonomos.matching.names import soft_dice
from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.signals import FEATURES, TargetIndex, pair_features, prepare_source


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("string|null", "string"),
        ("integer|null", "integer"),
        ("number", "decimal"),
        ("datetime|null", "timestamp"),
        ("array<string>|null", "json"),
        ("object|string|null", "json"),
        ("boolean", "boolean"),
        ("varchar(255)", "string"),
        ("", "unknown"),
    ],
)
def test_normalise_type(raw, norm):
    assert normalise_type(raw) == norm


def test_type_compatibility_orders_plausibility():
    assert type_compat("timestamp", "timestamp") == 1.0
    assert type_compat("date", "timestamp") > type_compat("string", "timestamp")
    assert type_compat("integer", "decimal") > type_compat("decimal", "string")
    assert type_compat("boolean", "timestamp") == 0.0
    assert 0 < type_compat("unknown", "boolean") < 1


def test_soft_dice_weighs_structural_tokens_less():
    assert soft_dice(("a", "b"), ("a", "b")) == 1.0
    # sharing only "at" says little; sharing the event word says a lot
    assert soft_dice(("creat", "at"), ("updat", "at")) < 0.3
    assert soft_dice(("creat", "at"), ("creat", "date")) > 0.7


@pytest.fixture(scope="module")
def index(ontology):
    return TargetIndex(ontology)


def name_sim(index, entity, source, target, stype="string", others=()):
    fields = [SourceField(source, stype), *[SourceField(n, "string") for n in others]]
    prepared = prepare_source(SourceSchema(tuple(fields)))
    bm = index.bm25_scores([f.query for f in prepared])
    x = pair_features(index, prepared, entity, bm, None)
    names = [t.name for t in index.targets[index.slices[entity]]]
    return float(x[0, names.index(target), FEATURES.index("name")])


@pytest.mark.parametrize(
    ("entity", "source", "stype", "target"),
    [
        ("opportunity", "CreatedDate", "timestamp", "created_at"),
        ("contact", "last_modified_date", "timestamp", "updated_at"),
        ("account", "number_of_employees", "integer", "employee_count"),
        ("account", "NumberOfEmployees", "integer", "employee_count"),
        ("invoice", "customer", "string", "account_id"),
        ("invoice", "subscription", "string", "subscription_id"),
        ("ticket", "organization_id", "integer", "account_id"),
        ("account", "IsDeleted", "boolean", "is_deleted"),
        ("account", "deleted", "boolean", "is_deleted"),
        ("opportunity", "stage_name", "string", "stage"),
        ("subscription", "plan.id", "string", "plan"),
        ("account", "id", "string", "account_id"),
        ("account", "parent_id", "string", "parent_account_id"),
        ("cloud_cost", "product/region", "string", "region_id"),
    ],
)
def test_relaxed_names_match(index, entity, source, stype, target):
    assert name_sim(index, entity, source, target, stype) >= 0.75


@pytest.mark.parametrize(
    ("entity", "source", "stype", "target"),
    [
        ("ticket", "created_at", "timestamp", "updated_at"),
        ("ticket", "is_public", "boolean", "is_deleted"),
        ("account", "industry", "string", "phone"),
        ("contact", "owner_id", "string", "account_id"),
    ],
)
def test_different_names_do_not_match(index, entity, source, stype, target):
    assert name_sim(index, entity, source, target, stype) < 0.5


def test_shadowed_and_nested_fields_are_flagged(index):
    fields = prepare_source(
        SourceSchema(
            (SourceField("created", "timestamp"), SourceField("plan.created", "timestamp"))
        )
    )
    bm = index.bm25_scores([f.query for f in fields])
    x = pair_features(index, fields, "subscription", bm, None)
    names = [t.name for t in index.targets[index.slices["subscription"]]]
    j = names.index("created_at")
    assert x[0, j, FEATURES.index("shadowed")] == 0
    assert x[1, j, FEATURES.index("shadowed")] == 1
    assert x[1, j, FEATURES.index("depth")] > x[0, j, FEATURES.index("depth")]


def test_bm25_uses_descriptions(index):
    fields = prepare_source(
        SourceSchema((SourceField("zz_web", "string", "The public website of the company"),))
    )
    bm = index.bm25_scores([f.query for f in fields])
    best = index.targets[int(np.argmax(bm[0]))]
    assert best.key == "account.domain"


def test_vendor_prefixes_are_dropped(index):
    fields = prepare_source(
        SourceSchema(
            (SourceField("hubspot_owner_id"), SourceField("hs_is_closed", "boolean")),
            system="hubspot",
        )
    )
    bm = index.bm25_scores([f.query for f in fields])
    x = pair_features(index, fields, "opportunity", bm, None)
    names = [t.name for t in index.targets[index.slices["opportunity"]]]
    assert x[0, names.index("owner_id"), FEATURES.index("name")] > 0.9
    assert x[1, names.index("is_closed"), FEATURES.index("name")] > 0.9


def test_depth_counts_from_the_schemas_usual_level_and_skips_wrappers(index):
    names = ("amount", "dealname", "closedate", "pipeline")
    nested = SourceSchema((*(SourceField(f"properties.{n}") for n in names), SourceField("id")))
    fields = prepare_source(nested)
    bm = index.bm25_scores([f.query for f in fields])
    x = pair_features(index, fields, "opportunity", bm, None)
    assert (x[:, :, FEATURES.index("depth")] == 0).all()


def _keys(names, entity, obj):
    from autonomos.matching.signals import record_keys

    fields = prepare_source(SourceSchema(tuple(SourceField(n, "string") for n in names)))
    own, foreign = record_keys(fields, entity, obj)
    return {names[i] for i in own}, {names[i] for i in foreign}


def test_the_bare_id_is_the_records_own_key_and_other_ids_are_foreign():
    assert _keys(["id", "invoice_id", "customer_id", "owner.id"], "invoice", "transactions") == (
        {"id"},
        {"invoice_id", "customer_id"},
    )


def test_without_a_bare_id_the_id_named_for_the_record_is_its_key():
    assert _keys(["ContactID", "AccountNumber", "BrandingThemeID"], "account", "contacts") == (
        {"ContactID"},
        {"BrandingThemeID"},
    )
    assert _keys(["accountid", "_parentaccountid_value"], "account", "accounts")[0] == {"accountid"}
    assert _keys(["sys_id", "caller_id"], "ticket", "incident") == ({"sys_id"}, {"caller_id"})
    assert _keys(["guid", "owner_id"], "account", "companies") == ({"guid"}, {"owner_id"})


def test_own_and_foreign_key_signals_sit_on_the_entitys_key(index):
    fields = prepare_source(
        SourceSchema(
            tuple(SourceField(n, "string") for n in ("id", "invoice_id", "amount")),
            "x",
            "transactions",
        )
    )
    bm = index.bm25_scores([f.query for f in fields])
    x = pair_features(index, fields, "invoice", bm, None, object_name="transactions")
    names = [t.name for t in index.targets[index.slices["invoice"]]]
    key = names.index("invoice_id")
    own, foreign = FEATURES.index("own_key"), FEATURES.index("foreign_key")
    assert x[0, key, own] == 1.0 and x[1, key, foreign] == 1.0
    assert x[:, :, own].sum() == 1.0 and x[:, :, foreign].sum() == 1.0
