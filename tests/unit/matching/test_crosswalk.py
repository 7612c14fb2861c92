"""Published cloud-export crosswalks: a CUR export maps completely onto FOCUS columns, with
the transforms the DCL's FOCUS rules need, whether it arrives raw or as landed columns."""

import pytest

from autonomos.common.text import normalize_name
from autonomos.matching import Matcher, SourceField, SourceSchema
from autonomos.matching.crosswalk import MIN_HITS, match_crosswalk

# what the DCL's FOCUS conformance check needs of the demo's CUR (see tests/integration/dcl)
CUR = {
    "identity/LineItemId": ("cost_line_id", None),
    "bill/BillingEntity": ("provider_name", None),
    "bill/PayerAccountId": ("billing_account_id", None),
    "lineItem/UsageAccountId": ("sub_account_id", None),
    "product/ProductName": ("service_name", "coalesce:line_item_product_code"),
    "lineItem/ProductCode": ("service_category", "aws_service_category"),
    "lineItem/ResourceId": ("resource_id", None),
    "product/region": ("region_id", None),
    "lineItem/LineItemType": ("charge_category", "aws_cur_charge_category"),
    "lineItem/UsageStartDate": ("charge_period_start", None),
    "lineItem/UsageEndDate": ("charge_period_end", None),
    "bill/BillingPeriodStartDate": ("billing_period_start", None),
    "bill/BillingPeriodEndDate": ("billing_period_end", None),
    "lineItem/AvailabilityZone": ("availability_zone", None),
    "lineItem/UnblendedCost": ("billed_cost", None),
    "reservation/EffectiveCost": ("effective_cost", "aws_cur_effective_cost"),
    "pricing/publicOnDemandCost": ("list_cost", "coalesce:line_item_unblended_cost"),
    "lineItem/CurrencyCode": ("billing_currency", "trim|upper"),
    "lineItem/UsageAmount": ("consumed_quantity", None),
    "pricing/unit": ("consumed_unit", None),
    "product/sku": ("sku_id", None),
    "resourceTags/user:team": ("tags", "tag:user:team"),
}
OTHER = ["lineItem/UnblendedRate", "lineItem/BlendedCost", "resourceTags/user:env"]


@pytest.mark.parametrize("landed", [False, True])
def test_a_cur_export_maps_completely_with_its_focus_transforms(lexical_matcher, landed):
    names = [*CUR, *OTHER]
    if landed:  # what the repair agent and batch mapping see: normalised landed columns
        names = [normalize_name(n) for n in names]
    s = lexical_matcher.suggest(
        SourceSchema(tuple(SourceField(n, "string") for n in names), "aws", "cur")
    )
    assert s.entity == "cloud_cost"
    got = {m.source_field: (m.target, m.transform) for m in s.mappings if m.target}
    for raw, (target, transform) in CUR.items():
        name = normalize_name(raw) if landed else raw
        if landed and transform == "tag:user:team":
            transform = "tag:user_team"  # landing normalised the tag column's name
        assert got.get(name) == (f"cloud_cost.{target}", transform), raw
        conf = next(m.confidence for m in s.mappings if m.source_field == name)
        assert conf >= 0.9
    assert not {normalize_name(n) if landed else n for n in OTHER} & set(got)


def test_a_lone_cost_column_is_not_a_cloud_export():
    cw, hits = match_crosswalk(["id", "cost", "currency", "name"])
    assert cw is None and hits == {}
    cw, hits = match_crosswalk(["cost", "currency", "usage_start_time", "project.id", "labels"])
    assert cw is not None and len(hits) >= MIN_HITS


def test_azure_consumption_api_envelope_is_ignored():
    cw, hits = match_crosswalk(
        [
            "properties.subscriptionId",
            "properties.costInBillingCurrency",
            "properties.date",
            "properties.resourceId",
            "properties.billingCurrencyCode",
        ]
    )
    assert cw is not None and cw.name.startswith("Azure")
    assert {h.target for h in hits.values()} >= {
        "cloud_cost.billed_cost",
        "cloud_cost.sub_account_id",
    }


def test_crosswalks_can_be_switched_off(ontology):
    m = Matcher(ontology, crosswalks=False)
    s = m.suggest(SourceSchema(tuple(SourceField(n, "string") for n in CUR), "aws", "cur"))
    assert all(x.transform is None for x in s.mappings)
