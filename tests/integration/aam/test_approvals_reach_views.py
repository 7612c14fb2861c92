"""A user's path from a drifted export to the views, in one process (inline executors).

A files connection over the demo's Salesforce accounts is synced and mapped; the export
then changes (``Phone`` -> ``PhoneNumber``, ``AnnualRevenue`` -> ``Annual_Revenue__c``,
new values in both). A person approves the repair agent's proposals over HTTP, and the
account view carries the new values as soon as the approval answers, with the refresh
recorded. Editing and rolling back take the same path. (The Ray deployment runs the same
scenario in tests/integration/actors/test_pipeline_ray.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Tenant
from tests.helpers.drift import REPAIR, drifted_export, new_values
from tests.helpers.views import MOCK, connect, map_stream, sync

LIVE_ACCOUNTS = 197


async def pending(api: httpx.AsyncClient, t: Tenant, cid: str) -> list[dict[str, Any]]:
    r = await api.get(
        f"{REPAIR}/proposals",
        headers=t.headers,
        params={"status": "pending", "connection_id": cid, "limit": 200},
    )
    assert r.status_code == 200, r.text
    return list(r.json()["proposals"])


async def test_approved_repairs_reach_the_views(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    src = tmp_path / "crm"
    src.mkdir()
    original = (MOCK / "salesforce_accounts.csv").read_text()
    (src / "salesforce_accounts.csv").write_text(original)
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    await map_stream(
        api,
        tenant_a,
        cid,
        "salesforce_accounts",
        "account",
        {
            "Id": ("account_id", None),
            "Name": ("name", None),
            "Phone": ("phone", None),
            "AnnualRevenue": ("annual_revenue", None),
            "IsDeleted": ("is_deleted", None),
        },
    )
    assert await new_values(api, tenant_a) == (0, 0)
    # a person decides every repair of this tenant
    r = await api.put(f"{REPAIR}/settings", headers=tenant_a.headers, json={"auto_apply": False})
    assert r.status_code == 200, r.text

    (src / "salesforce_accounts.csv").write_text(drifted_export(original))
    await sync(api, tenant_a, cid)
    proposals = await pending(api, tenant_a, cid)
    assert proposals, "the drift must have produced proposals"
    # a removed field's 'broken' mapping first, so the new field may take its target
    proposals.sort(key=lambda p: p["kind"] != "mark_broken")
    for p in proposals:
        r = await api.post(f"{REPAIR}/proposals/{p['id']}/approve", headers=tenant_a.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "applied"
        if any(not step["noop"] for step in body["applied"]):
            assert body["refresh"]["status"] == "succeeded", body["refresh"]
    # the approvals answered after the views were rebuilt: the new values are there now
    assert await new_values(api, tenant_a) == (LIVE_ACCOUNTS, LIVE_ACCOUNTS)
    refreshes = (
        await api.get(
            "/api/v1/dcl/refreshes",
            headers=tenant_a.headers,
            params={"connection_id": cid, "status": "succeeded"},
        )
    ).json()["refreshes"]
    assert {r["reason"] for r in refreshes} >= {"repair", "sync"}

    # rolling the phone repair back takes the same path: the view loses the new phones
    applied = (
        await api.get(
            f"{REPAIR}/proposals",
            headers=tenant_a.headers,
            params={"status": "applied", "connection_id": cid},
        )
    ).json()["proposals"]
    phone = [p for p in applied if p["target"] == "account.phone" and p["kind"] != "mark_broken"]
    assert phone, applied
    r = await api.post(f"{REPAIR}/proposals/{phone[0]['id']}/rollback", headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["refresh"]["status"] == "succeeded"
    assert (await new_values(api, tenant_a))[0] == 0


async def test_a_failed_refresh_is_recorded_with_its_reason(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    src = tmp_path / "crm"
    src.mkdir()
    (src / "salesforce_accounts.csv").write_text((MOCK / "salesforce_accounts.csv").read_text())
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    runtime = api.runtime  # type: ignore[attr-defined]

    class Broken:  # the tenant's DCL refuses: the refresh must say so, not vanish
        async def materialize(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise OSError("disk full")

    real = runtime.refresher.dcl
    runtime.refresher.dcl = Broken()
    try:
        r = await api.put(
            "/api/v1/dcl/mappings",
            headers=tenant_a.headers,
            json={
                "connection_id": cid,
                "stream": "salesforce_accounts",
                "source_field": "Name",
                "entity": "account",
                "field": "name",
            },
        )
    finally:
        runtime.refresher.dcl = real
    assert r.status_code == 200, r.text  # the mapping change itself is committed
    refresh = r.json()["refresh"]
    assert refresh["status"] == "failed" and "disk full" in refresh["error"]
    got = await api.get(f"/api/v1/dcl/refreshes/{refresh['id']}", headers=tenant_a.headers)
    assert got.json()["status"] == "failed" and got.json()["reason"] == "mapping"
