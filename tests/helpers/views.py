"""Unified-view helpers over the API: connect a demo source, sync it, map a stream, query."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx

from tests.conftest import Tenant
from tests.helpers.api import drain

API = "/api/v1/dcl"


MOCK = Path(__file__).parents[2] / "mock_sources"


ACCOUNT_MAP = {
    "Id": ("account_id", None),
    "Name": ("name", None),
    "Website": ("domain", "domain"),
    "Industry": ("industry", None),
    "AnnualRevenue": ("annual_revenue", None),
    "NumberOfEmployees": ("employee_count", None),
    "BillingCountry": ("country", None),
    "IsDeleted": ("is_deleted", None),
    "LastModifiedDate": ("updated_at", None),
}


def demo_source(tmp_path: Path, *names: str) -> Path:
    src = tmp_path / f"demo-{uuid.uuid4().hex[:6]}"
    src.mkdir()
    for name in names:
        shutil.copy(MOCK / name, src / name)
    return src


async def connect(api: httpx.AsyncClient, t: Tenant, path: Path) -> str:
    r = await api.post(
        "/api/v1/aam/connections",
        headers=t.headers,
        json={
            "name": f"demo-{uuid.uuid4().hex[:6]}",
            "source_type": "files",
            "config": {"path": str(path)},
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def sync(api: httpx.AsyncClient, t: Tenant, cid: str) -> None:
    r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
    assert r.status_code == 202, r.text
    await drain(api)
    run = (await api.get(f"/api/v1/aam/runs/{r.json()['run_id']}", headers=t.headers)).json()
    assert run["status"] == "succeeded", run


async def map_stream(
    api: httpx.AsyncClient,
    t: Tenant,
    cid: str,
    stream: str,
    entity: str,
    fields: dict[str, tuple[str, str | None]],
) -> None:
    for source, (field, transform) in fields.items():
        r = await api.put(
            f"{API}/mappings",
            headers=t.headers,
            json={
                "connection_id": cid,
                "stream": stream,
                "source_field": source,
                "entity": entity,
                "field": field,
                "transform": transform,
                "materialize": False,
            },
        )
        assert r.status_code == 200, r.text


async def query(api: httpx.AsyncClient, t: Tenant, sql: str, **kw: object) -> dict:
    r = await api.post(f"{API}/query", headers=t.headers, json={"sql": sql, **kw})
    assert r.status_code == 200, r.text
    return r.json()


CUR_TO_FOCUS: dict[str, tuple[str, str | None]] = {
    "identity_line_item_id": ("cost_line_id", None),
    "bill_billing_entity": ("provider_name", None),
    "bill_payer_account_id": ("billing_account_id", None),
    "line_item_usage_account_id": ("sub_account_id", None),
    "product_product_name": ("service_name", "coalesce:line_item_product_code"),
    "line_item_product_code": ("service_category", "aws_service_category"),
    "line_item_resource_id": ("resource_id", None),
    "product_region": ("region_id", None),
    "line_item_line_item_type": ("charge_category", "aws_cur_charge_category"),
    "line_item_usage_start_date": ("charge_period_start", None),
    "line_item_usage_end_date": ("charge_period_end", None),
    "bill_billing_period_start_date": ("billing_period_start", None),
    "bill_billing_period_end_date": ("billing_period_end", None),
    "line_item_availability_zone": ("availability_zone", None),
    "line_item_unblended_cost": ("billed_cost", None),
    # EffectiveCost depends on the line type: the CUR recipe reads its columns by name
    "reservation_effective_cost": ("effective_cost", "aws_cur_effective_cost"),
    "pricing_public_on_demand_cost": ("list_cost", "coalesce:line_item_unblended_cost"),
    "line_item_currency_code": ("billing_currency", "trim|upper"),
    "line_item_usage_amount": ("consumed_quantity", None),
    "pricing_unit": ("consumed_unit", None),
    "product_sku": ("sku_id", None),
    "resource_tags_user_team": ("tags", "tag:user:team"),
}


async def materialize(api: httpx.AsyncClient, t: Tenant, cid: str, **kw: object) -> dict:
    r = await api.post(f"{API}/materialize", headers=t.headers, json={"connection_id": cid, **kw})
    assert r.status_code == 200, r.text
    return r.json()


OPPORTUNITY_MAP = {
    "Id": ("opportunity_id", None),
    "AccountId": ("account_id", None),
    "Name": ("name", None),
    "Amount": ("amount", None),
    "CurrencyIsoCode": ("currency", "upper"),
    "StageName": ("stage", None),
    "IsWon": ("is_won", None),
    "CloseDate": ("close_date", None),
}


LIVE_ACCOUNTS = 197  # 200 in the extract, 3 soft-deleted (IsDeleted=true)
