"""Realistic labelled schemas the project owns, for fitting and checking the matcher.

- the demo sources in ``mock_sources/`` (Salesforce, Stripe, Zendesk, AWS CUR imitations with
  sample values): their correspondence to the ontology is known by construction of the demo
  generator (DEMO_TRUTH);
- ``corpus/<system>.json``: real schemas of other systems (connector JSON schemas of
  singer-io taps and Airbyte sources, and objects written from vendors' public API
  documentation), each with its provenance and hand labels: ``truth`` (source field ->
  ontology field), ``also`` (defensible partial carriers, left out like the scorer does) and
  every other field unmapped; ``entity`` is null for objects no ontology entity describes.

Evaluation sets are never read here, and the corpus holds no system the evaluation keeps
aside (see the corpus README).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from pathlib import Path

from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.synth import LabelledSchema

ROOT = Path(__file__).resolve().parents[2]
IGNORE = "?"  # a defensible but not canonical answer: left out of training, like the scorer
CORPUS = Path(__file__).with_name("corpus")

# mock_sources/<file>: (entity, {column: ontology field | None | IGNORE}); known by construction
DEMO_TRUTH: dict[str, tuple[str, dict[str, str | None]]] = {
    "salesforce_accounts.csv": (
        "account",
        {
            "Id": "account_id",
            "IsDeleted": "is_deleted",
            "Name": "name",
            "ParentId": "parent_account_id",
            "Website": "domain",
            "Industry": "industry",
            "AnnualRevenue": "annual_revenue",
            "NumberOfEmployees": "employee_count",
            "Phone": "phone",
            "BillingCity": "city",
            "BillingCountry": "country",
            "OwnerId": "owner_id",
            "CreatedDate": "created_at",
            "LastModifiedDate": "updated_at",
            "SystemModstamp": IGNORE,
        },
    ),
    "salesforce_contacts.csv": (
        "contact",
        {
            "Id": "contact_id",
            "IsDeleted": "is_deleted",
            "AccountId": "account_id",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Email": "email",
            "Phone": "phone",
            "Title": "title",
            "OwnerId": "owner_id",
            "CreatedDate": "created_at",
            "LastModifiedDate": "updated_at",
            "SystemModstamp": IGNORE,
        },
    ),
    "salesforce_opportunities.csv": (
        "opportunity",
        {
            "Id": "opportunity_id",
            "IsDeleted": "is_deleted",
            "AccountId": "account_id",
            "Name": "name",
            "Type": IGNORE,
            "StageName": "stage",
            "Amount": "amount",
            "CurrencyIsoCode": "currency",
            "Probability": "probability",
            "CloseDate": "close_date",
            "IsClosed": "is_closed",
            "IsWon": "is_won",
            "OwnerId": "owner_id",
            "CreatedDate": "created_at",
            "LastModifiedDate": "updated_at",
            "SystemModstamp": IGNORE,
        },
    ),
    "stripe_customers.csv": (
        "account",
        {
            "id": "account_id",
            "name": "name",
            "email": None,
            "phone": "phone",
            "description": None,
            "address_city": "city",
            "address_country": "country",
            "currency": None,
            "delinquent": None,
            "invoice_prefix": None,
            "metadata.sf_account_id": IGNORE,
            "created": "created_at",
            "livemode": None,
        },
    ),
    "stripe_invoices.csv": (
        "invoice",
        {
            "id": "invoice_id",
            "number": "number",
            "customer": "account_id",
            "subscription": "subscription_id",
            "status": "status",
            "collection_method": None,
            "currency": "currency",
            "subtotal": "subtotal",
            "tax": "tax",
            "total": "total",
            "amount_due": "amount_due",
            "amount_paid": "amount_paid",
            "amount_remaining": IGNORE,
            "created": IGNORE,
            "period_start": None,
            "period_end": None,
            "due_date": "due_at",
            "status_transitions.paid_at": "paid_at",
        },
    ),
    "stripe_payments.csv": (
        "payment",
        {
            "id": "payment_id",
            "customer": "account_id",
            "invoice": "invoice_id",
            "amount": "amount",
            "amount_refunded": None,
            "currency": "currency",
            "status": "status",
            "paid": None,
            "refunded": None,
            "created": IGNORE,
            "payment_method_type": "method",
            "card_brand": None,
            "failure_code": None,
            "failure_message": None,
        },
    ),
    "stripe_subscriptions.csv": (
        "subscription",
        {
            "id": "subscription_id",
            "customer": "account_id",
            "status": "status",
            "plan_id": "plan",
            "plan_nickname": IGNORE,
            "plan_amount": None,
            "plan_interval": None,
            "quantity": "quantity",
            "currency": "currency",
            "collection_method": None,
            "created": "created_at",
            "start_date": "started_at",
            "current_period_start": None,
            "current_period_end": "current_period_end",
            "cancel_at_period_end": None,
            "canceled_at": "canceled_at",
            "ended_at": None,
            "trial_start": "trial_start",
            "trial_end": "trial_end",
        },
    ),
    "zendesk_organizations.csv": (
        "account",
        {
            "id": "account_id",
            "name": "name",
            "domain_names": "domain",
            "external_id": None,
            "created_at": "created_at",
            "updated_at": "updated_at",
        },
    ),
    "zendesk_users.csv": (
        "contact",
        {
            "id": "contact_id",
            "name": None,
            "email": "email",
            "phone": "phone",
            "role": None,
            "organization_id": "account_id",
            "created_at": "created_at",
            "updated_at": "updated_at",
            "suspended": None,
        },
    ),
    "zendesk_tickets.csv": (
        "ticket",
        {
            "id": "ticket_id",
            "url": None,
            "type": "type",
            "subject": "subject",
            "description": "description",
            "priority": "priority",
            "status": "status",
            "requester_id": "contact_id",
            "requester_email": None,
            "assignee_id": "assignee_id",
            "organization_id": "account_id",
            "organization_name": None,
            "tags": "tags",
            "via_channel": "channel",
            "satisfaction_rating": None,
            "created_at": "created_at",
            "updated_at": "updated_at",
            "solved_at": "resolved_at",
        },
    ),
    "aws_cur_costs.csv": (
        "cloud_cost",
        {
            "identity/LineItemId": "cost_line_id",
            "identity/TimeInterval": None,
            "bill/InvoiceId": None,
            "bill/BillingEntity": "provider_name",
            "bill/BillType": None,
            "bill/PayerAccountId": "billing_account_id",
            "bill/BillingPeriodStartDate": "billing_period_start",
            "bill/BillingPeriodEndDate": "billing_period_end",
            "lineItem/UsageAccountId": "sub_account_id",
            "lineItem/LineItemType": "charge_category",
            "lineItem/UsageStartDate": "charge_period_start",
            "lineItem/UsageEndDate": "charge_period_end",
            "lineItem/ProductCode": "service_category",
            "lineItem/UsageType": None,
            "lineItem/Operation": None,
            "lineItem/AvailabilityZone": "availability_zone",
            "lineItem/ResourceId": "resource_id",
            "lineItem/UsageAmount": "consumed_quantity",
            "lineItem/CurrencyCode": "billing_currency",
            "lineItem/UnblendedRate": None,
            "lineItem/UnblendedCost": "billed_cost",
            "lineItem/BlendedRate": None,
            "lineItem/BlendedCost": None,
            "lineItem/LineItemDescription": None,
            "product/ProductName": "service_name",
            "product/productFamily": IGNORE,
            "product/region": "region_id",
            "product/sku": "sku_id",
            "pricing/unit": "consumed_unit",
            "pricing/publicOnDemandRate": None,
            "pricing/publicOnDemandCost": "list_cost",
            "reservation/EffectiveCost": "effective_cost",
            "savingsPlan/SavingsPlanEffectiveCost": IGNORE,
            "resourceTags/user:team": IGNORE,
            "resourceTags/user:env": IGNORE,
        },
    ),
}


def _csv_type(values: list[str]) -> str:
    vals = [v for v in values if v]
    if not vals:
        return "string"
    if all(v.lower() in ("true", "false") for v in vals):
        return "boolean"
    try:
        [int(v) for v in vals]
        return "integer"
    except ValueError:
        pass
    try:
        [float(v) for v in vals]
        return "number"
    except ValueError:
        return "string"


def demo_schemas(rng: random.Random, with_samples: bool = True) -> list[LabelledSchema]:
    """The demo sources as labelled schemas (types sniffed from the CSV, samples optional)."""
    out = []
    for fname, (entity, labels) in DEMO_TRUTH.items():
        path = ROOT / "mock_sources" / fname
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        sample = rows[:: max(1, len(rows) // 40)][:40]
        fields = []
        truth: dict[str, str] = {}
        for col in rows[0]:
            vals = [r[col] for r in sample]
            fields.append(
                SourceField(col, _csv_type(vals), "", tuple(vals) if with_samples else ())
            )
            lab = labels.get(col)
            truth[col] = IGNORE if lab == IGNORE else f"{entity}.{lab}" if lab else ""
        truth = {k: v for k, v in truth.items() if v}
        obj = fname.split("_", 1)[1].removesuffix(".csv")
        out.append(
            LabelledSchema(SourceSchema(tuple(fields), fname.split("_")[0], obj), entity, truth)
        )
    rng.shuffle(out)
    return out


def corpus_schemas(systems: Iterable[str] | None = None) -> list[LabelledSchema]:
    """The labelled corpus (all systems, or those named), in a stable order."""
    wanted = set(systems) if systems is not None else None
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        system = doc["system"]
        if wanted is not None and system not in wanted:
            continue
        for sc in doc["schemas"]:
            ent = sc["entity"]
            truth = {k: f"{ent}.{v}" for k, v in sc["truth"].items()}
            also = {k: f"{ent}.{v}" for k, v in sc.get("also", {}).items() if k not in truth}
            truth.update({k: IGNORE for k in also})
            schema = SourceSchema.from_dict(
                {"system": system, "object": sc["object"], "fields": sc["fields"]}
            )
            out.append(LabelledSchema(schema, ent, truth, also))
    return out
