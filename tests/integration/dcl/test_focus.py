"""The demo's AWS CUR extract, mapped onto cloud_cost, passes FOCUS conformance checks.

Checks are those of FOCUS 1.0 for the columns the ontology carries: the columns FOCUS
requires non-null are non-null, costs and quantities are decimals, ChargeCategory and
ServiceCategory hold FOCUS's allowed values, currencies are ISO 4217 codes, periods are
ordered, tags are key-value objects. Mappings are set through the registry (not by the
matcher) so the test pins the transforms the mapping needs.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from autonomos.dcl import registry
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.views import CUR_TO_FOCUS, MOCK, connect, demo_source, query, sync
from tests.integration.dcl.conftest import tenant_id

NOT_NULL = (
    "cost_line_id",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "billing_currency",
    "billing_account_id",
    "billing_period_start",
    "billing_period_end",
    "charge_category",
    "charge_period_start",
    "charge_period_end",
    "provider_name",
    "service_name",
    "service_category",
)
DECIMALS = ("billed_cost", "effective_cost", "list_cost", "consumed_quantity")
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)


@pytest.fixture
async def costs(
    api: httpx.AsyncClient, tenant_a: Tenant, db: Database, tmp_path: Path
) -> uuid.UUID:
    cid = await connect(api, tenant_a, demo_source(tmp_path, "aws_cur_costs.csv"))
    await sync(api, tenant_a, cid)
    tid = await tenant_id(api, tenant_a)
    async with db.tenant_session(tid) as s:
        for source, (field, transform) in CUR_TO_FOCUS.items():
            await registry.set_mapping(
                s,
                connection_id=uuid.UUID(cid),
                stream="aws_cur_costs",
                source_field=source,
                entity="cloud_cost",
                field=field,
                transform=transform,
                decided_by="test",
            )
    report = await api.runtime.dcl.materialize(tid, uuid.UUID(cid))  # type: ignore[attr-defined]
    assert [(s["entity"], s["mode"], s["rows"]) for s in report["slices"]] == [
        ("cloud_cost", "full", 5000)
    ]
    return uuid.UUID(cid)


async def test_cloud_costs_pass_focus_checks(
    api: httpx.AsyncClient, tenant_a: Tenant, costs: uuid.UUID
) -> None:
    async def one(sql: str) -> Any:
        return (await query(api, tenant_a, sql))["rows"][0][0]

    assert await one("SELECT count(*) FROM cloud_cost") == 5000
    for col in NOT_NULL:
        assert await one(f"SELECT count(*) FROM cloud_cost WHERE {col} IS NULL") == 0, col
    for col in DECIMALS:
        assert str(await one(f"SELECT any_value(typeof({col})) FROM cloud_cost")).startswith(
            "DECIMAL"
        ), col
    listed = ", ".join(f"'{c}'" for c in CHARGE_CATEGORIES)
    assert (
        await one(f"SELECT count(*) FROM cloud_cost WHERE charge_category NOT IN ({listed})") == 0
    )
    assert await one("SELECT count(DISTINCT charge_category) FROM cloud_cost") == 5
    listed = ", ".join(f"'{c}'" for c in SERVICE_CATEGORIES)
    assert (
        await one(f"SELECT count(*) FROM cloud_cost WHERE service_category NOT IN ({listed})") == 0
    )
    assert (
        await one(
            "SELECT count(*) FROM cloud_cost "
            "WHERE NOT regexp_full_match(billing_currency, '[A-Z]{3}')"
        )
        == 0
    )
    assert (
        await one(
            "SELECT count(*) FROM cloud_cost WHERE charge_period_start >= charge_period_end "
            "OR billing_period_start >= billing_period_end"
        )
        == 0
    )
    assert (
        await one(
            "SELECT count(*) FROM cloud_cost WHERE tags IS NOT NULL AND json_type(tags) <> 'OBJECT'"
        )
        == 0
    )
    assert await one("SELECT count(*) FROM cloud_cost WHERE tags IS NOT NULL") > 0


async def test_cloud_costs_match_the_source(
    api: httpx.AsyncClient, tenant_a: Tenant, costs: uuid.UUID
) -> None:
    src = (
        duckdb.connect()
        .execute(
            f"""SELECT sum("lineItem/UnblendedCost"),
                   sum(CASE "lineItem/LineItemType"
                       WHEN 'DiscountedUsage' THEN "reservation/EffectiveCost"
                       WHEN 'SavingsPlanCoveredUsage' THEN "savingsPlan/SavingsPlanEffectiveCost"
                       WHEN 'SavingsPlanNegation' THEN 0
                       ELSE "lineItem/UnblendedCost" END)
            FROM read_csv('{MOCK / "aws_cur_costs.csv"}')"""
        )
        .fetchone()
    )
    assert src is not None
    got = (
        await query(api, tenant_a, "SELECT sum(billed_cost), sum(effective_cost) FROM cloud_cost")
    )["rows"][0]
    assert got[0] == pytest.approx(float(src[0]), abs=0.01)
    assert got[1] == pytest.approx(float(src[1]), abs=0.01)
    negation = await query(
        api,
        tenant_a,
        "SELECT count(*) FROM cloud_cost c WHERE c.charge_category = 'Usage' AND c.billed_cost < 0 "
        "AND c.effective_cost <> 0",
    )
    assert negation["rows"] == [[0]]  # SavingsPlanNegation lines cost nothing effective
