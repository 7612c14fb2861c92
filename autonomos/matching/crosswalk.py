"""Published crosswalks: cloud cost export columns -> FinOps FOCUS (ontology ``cloud_cost``).

How AWS, Azure and Google Cloud billing exports map to FOCUS columns is published product
knowledge (the providers' own FOCUS exports and conversion guides, the FinOps Foundation's
FOCUS converters), not something to learn from names: ``lineItem/UnblendedCost`` *is* the
billed cost, ``reservation/EffectiveCost`` feeds the effective cost through the CUR rule.
The matcher treats a crosswalk hit like an approved mapping in the tenant's memory. A
crosswalk applies to an object only when enough of its columns are present (a lone
``cost`` column in some other schema is not an Azure export).

Keys are normalised column names (``lineItem/UnblendedCost`` and CUR 2.0's
``line_item_unblended_cost`` are one key); a leading ``properties.`` envelope (Azure's
Consumption API JSON) is ignored. Transforms name steps of :mod:`autonomos.dcl.transforms`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autonomos.common.text import normalize_name

__all__ = ["CROSSWALKS", "MIN_HITS", "Crossing", "Crosswalk", "match_crosswalk"]

MIN_HITS = 4  # columns of one export that must be present before its crosswalk applies


@dataclass(frozen=True)
class Crossing:
    target: str  # "cloud_cost.<focus column>"
    transform: str | None = None
    strength: float = 1.0  # < 1 for a second-best carrier of the same target


@dataclass(frozen=True)
class Crosswalk:
    name: str  # the export it describes
    columns: dict[str, Crossing]  # normalised column name -> crossing


def _cw(name: str, pairs: dict[str, str | tuple[str, str | None, float]]) -> Crosswalk:
    cols: dict[str, Crossing] = {}
    for col, spec in pairs.items():
        target, transform, strength = (spec, None, 1.0) if isinstance(spec, str) else spec
        cols[normalize_name(col)] = Crossing(f"cloud_cost.{target}", transform, strength)
    return Crosswalk(name, cols)


# AWS Cost and Usage Report: the legacy CUR (``lineItem/UnblendedCost``) and CUR 2.0 data
# exports (``line_item_unblended_cost``) normalise to the same names.
AWS_CUR = _cw(
    "AWS Cost and Usage Report (CUR, CUR 2.0)",
    {
        "identity/LineItemId": "cost_line_id",
        "bill/BillingEntity": "provider_name",
        "bill/PayerAccountId": "billing_account_id",
        "bill/BillingPeriodStartDate": "billing_period_start",
        "bill/BillingPeriodEndDate": "billing_period_end",
        "lineItem/UsageAccountId": "sub_account_id",
        "lineItem/LineItemType": ("charge_category", "aws_cur_charge_category", 1.0),
        "lineItem/UsageStartDate": "charge_period_start",
        "lineItem/UsageEndDate": "charge_period_end",
        "lineItem/ProductCode": ("service_category", "aws_service_category", 1.0),
        "product/ProductName": ("service_name", "coalesce:line_item_product_code", 1.0),
        "lineItem/AvailabilityZone": "availability_zone",
        "lineItem/ResourceId": "resource_id",
        "lineItem/UsageAmount": "consumed_quantity",
        "lineItem/CurrencyCode": ("billing_currency", "trim|upper", 1.0),
        "lineItem/UnblendedCost": "billed_cost",
        "product/regionCode": "region_id",
        "product/region": ("region_id", None, 0.9),
        "product/sku": "sku_id",
        "pricing/unit": "consumed_unit",
        "pricing/publicOnDemandCost": ("list_cost", "coalesce:line_item_unblended_cost", 1.0),
        "reservation/EffectiveCost": ("effective_cost", "aws_cur_effective_cost", 1.0),
        "resource_tags": "tags",  # CUR 2.0 keeps tags in one map column
    },
)
# legacy CUR: one column per tag (``resourceTags/user:team``); one of them carries tags
AWS_TAG_PREFIX = "resource_tags_"

# Azure cost details / usage details (EA and MCA exports, Consumption API JSON).
AZURE = _cw(
    "Azure cost details (EA, MCA)",
    {
        "BillingAccountId": "billing_account_id",
        "SubscriptionId": "sub_account_id",
        "SubscriptionGuid": ("sub_account_id", None, 0.9),
        "Date": "charge_period_start",
        "UsageDate": ("charge_period_start", None, 0.9),
        "BillingPeriodStartDate": "billing_period_start",
        "BillingPeriodEndDate": "billing_period_end",
        "CostInBillingCurrency": "billed_cost",
        "Cost": ("billed_cost", None, 0.9),
        "PreTaxCost": ("billed_cost", None, 0.8),
        "BillingCurrencyCode": "billing_currency",
        "BillingCurrency": ("billing_currency", None, 0.9),
        "Quantity": "consumed_quantity",
        "UnitOfMeasure": "consumed_unit",
        "ResourceId": "resource_id",
        "InstanceId": ("resource_id", None, 0.9),
        "ResourceLocation": "region_id",
        "MeterCategory": "service_category",
        "ConsumedService": "service_name",
        "MeterId": "sku_id",
        "ChargeType": "charge_category",
        "Tags": "tags",
        "meterDetails.meterCategory": ("service_category", None, 0.9),
        "meterDetails.unitOfMeasure": ("consumed_unit", None, 0.9),
    },
)

# Google Cloud Billing export to BigQuery (standard usage cost table).
GCP = _cw(
    "Google Cloud Billing export (BigQuery)",
    {
        "billing_account_id": "billing_account_id",
        "service.description": "service_name",
        "sku.id": "sku_id",
        "usage_start_time": "charge_period_start",
        "usage_end_time": "charge_period_end",
        "project.id": "sub_account_id",
        "labels": "tags",
        "location.region": "region_id",
        "location.zone": "availability_zone",
        "cost": "billed_cost",
        "currency": "billing_currency",
        "usage.amount": "consumed_quantity",
        "usage.unit": "consumed_unit",
        "cost_type": "charge_category",
        "resource.global_name": "resource_id",
    },
)

# FOCUS 1.0 columns as the providers export them natively.
FOCUS = _cw(
    "FinOps FOCUS 1.0 export",
    {
        "AvailabilityZone": "availability_zone",
        "BilledCost": "billed_cost",
        "BillingAccountId": "billing_account_id",
        "BillingCurrency": "billing_currency",
        "BillingPeriodEnd": "billing_period_end",
        "BillingPeriodStart": "billing_period_start",
        "ChargeCategory": "charge_category",
        "ChargePeriodEnd": "charge_period_end",
        "ChargePeriodStart": "charge_period_start",
        "ConsumedQuantity": "consumed_quantity",
        "ConsumedUnit": "consumed_unit",
        "EffectiveCost": "effective_cost",
        "ListCost": "list_cost",
        "ProviderName": "provider_name",
        "RegionId": "region_id",
        "ResourceId": "resource_id",
        "ServiceCategory": "service_category",
        "ServiceName": "service_name",
        "SkuId": "sku_id",
        "SubAccountId": "sub_account_id",
        "Tags": "tags",
    },
)

CROSSWALKS: tuple[Crosswalk, ...] = (AWS_CUR, AZURE, GCP, FOCUS)


@functools.lru_cache(maxsize=65536)
def _key(name: str) -> str:
    key = normalize_name(name)
    return key.removeprefix("properties.")


def match_crosswalk(
    names: Sequence[str], crosswalks: Iterable[Crosswalk] = CROSSWALKS
) -> tuple[Crosswalk | None, dict[int, Crossing]]:
    """The crosswalk that describes the object whose columns are ``names`` (the one with
    the most hits, at least :data:`MIN_HITS`), and its crossing for each column index."""
    keys = [_key(n) for n in names]
    best: tuple[Crosswalk | None, dict[int, Crossing]] = (None, {})
    for cw in crosswalks:
        hits = {i: cw.columns[k] for i, k in enumerate(keys) if k in cw.columns}
        if cw is AWS_CUR:
            hits.update(_aws_tags(names, keys, hits))
        if len(hits) >= MIN_HITS and len(hits) > len(best[1]):
            best = (cw, hits)
    return best


def _aws_tags(
    names: Sequence[str], keys: Sequence[str], hits: dict[int, Crossing]
) -> dict[int, Crossing]:
    """Legacy CUR tag columns onto ``tags`` (``tag:<key>`` builds the key-value object);
    the first one wins the one-to-one assignment, the others stay unmapped."""
    out: dict[int, Crossing] = {}
    for i, (name, key) in enumerate(zip(names, keys, strict=True)):
        if i in hits or not key.startswith(AWS_TAG_PREFIX):
            continue
        tag = name.split("/", 1)[1] if "/" in name else key.removeprefix(AWS_TAG_PREFIX)
        out[i] = Crossing("cloud_cost.tags", f"tag:{tag}", 0.95 - 0.01 * min(len(out), 40))
    return out
