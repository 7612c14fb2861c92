"""/api/v1/dcl end to end on the demo company: sync -> map -> views -> query.

Runs on the in-process executors (sync and DCL inline), against SQLite and Postgres.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from autonomos.config import Settings
from autonomos.store.aam_models import StreamState
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.api import add_user, assert_error
from tests.helpers.dcl import FORBIDDEN
from tests.helpers.views import (
    ACCOUNT_MAP,
    API,
    LIVE_ACCOUNTS,
    OPPORTUNITY_MAP,
    connect,
    demo_source,
    map_stream,
    materialize,
    query,
    sync,
)
from tests.integration.dcl.conftest import tenant_id


@pytest.fixture
async def demo(api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path) -> tuple[str, Path]:
    """Tenant A's CRM extract synced, accounts and opportunities mapped and materialised."""
    src = demo_source(tmp_path, "salesforce_accounts.csv", "salesforce_opportunities.csv")
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    await map_stream(api, tenant_a, cid, "salesforce_accounts", "account", ACCOUNT_MAP)
    await map_stream(api, tenant_a, cid, "salesforce_opportunities", "opportunity", OPPORTUNITY_MAP)
    report = await materialize(api, tenant_a, cid)
    assert {(s["entity"], s["mode"]) for s in report["slices"]} == {
        ("account", "full"),
        ("opportunity", "full"),
    }
    return cid, src


async def test_ontology_and_mappings_listing(
    api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path]
) -> None:
    cid, _ = demo
    onto = (await api.get(f"{API}/ontology", headers=tenant_a.headers)).json()
    assert {"account", "cloud_cost"} <= {e["name"] for e in onto["entities"]}
    assert "domain" in {t["name"] for t in onto["transforms"]}
    listed = (
        await api.get(
            f"{API}/mappings",
            params={"connection_id": cid, "stream": "salesforce_accounts"},
            headers=tenant_a.headers,
        )
    ).json()
    assert listed["total"] == len(ACCOUNT_MAP)
    assert {m["source_field"] for m in listed["mappings"]} == set(ACCOUNT_MAP)
    connectors = (await api.get("/api/v1/aam/connectors", headers=tenant_a.headers)).json()
    mine = next(c for c in connectors["connectors"] if c["id"] == cid)
    assert mine["mapping_count"] == len(ACCOUNT_MAP) + len(OPPORTUNITY_MAP)


async def test_views_end_to_end(
    api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path]
) -> None:
    cid, _ = demo
    views = {
        v["name"]: v
        for v in (await api.get(f"{API}/views", headers=tenant_a.headers)).json()["views"]
    }
    assert views["account"]["rows"] == LIVE_ACCOUNTS and views["account"]["connections"] == [cid]
    assert views["opportunity"]["rows"] == 400 and views["account"]["last_synced_at"]
    page = (
        await api.get(
            f"{API}/views/account",
            params={
                "fields": "account_id,name,domain,annual_revenue",
                "sort": "-annual_revenue",
                "filter": ["country:eq:France", "annual_revenue:notnull"],
                "limit": 5,
            },
            headers=tenant_a.headers,
        )
    ).json()
    assert len(page["rows"]) == 5 and page["next_cursor"]
    revenue = [r["annual_revenue"] for r in page["rows"]]
    assert revenue == sorted(revenue, reverse=True)
    assert all("." in r["domain"] and "/" not in r["domain"] for r in page["rows"])
    nxt = (
        await api.get(
            f"{API}/views/account",
            params={
                "fields": "account_id,name,domain,annual_revenue",
                "sort": "-annual_revenue",
                "filter": ["country:eq:France", "annual_revenue:notnull"],
                "limit": 5,
                "cursor": page["next_cursor"],
            },
            headers=tenant_a.headers,
        )
    ).json()
    assert not {r["account_id"] for r in nxt["rows"]} & {r["account_id"] for r in page["rows"]}
    got = await query(
        api,
        tenant_a,
        "SELECT a.industry, count(*) AS deals, sum(o.amount) AS pipeline "
        "FROM opportunity o JOIN account a USING (account_id) "
        "WHERE NOT o.is_won GROUP BY ALL ORDER BY pipeline DESC",
    )
    assert [c["name"] for c in got["columns"]] == ["industry", "deals", "pipeline"]
    assert got["row_count"] > 0 and not got["truncated"]
    assert (await query(api, tenant_a, "SELECT count(*) FROM account"))["rows"] == [[LIVE_ACCOUNTS]]
    assert (await query(api, tenant_a, "SELECT * FROM opportunity", limit=7))["truncated"]
    bad = await api.get(
        f"{API}/views/account", params={"filter": "name:like:x"}, headers=tenant_a.headers
    )
    assert_error(bad, 400, "bad_request")
    assert_error(await api.get(f"{API}/views/nope", headers=tenant_a.headers), 404, "not_found")


async def test_replayed_sync_changes_nothing(
    api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path], db: Database
) -> None:
    cid, _ = demo
    sql = "SELECT * FROM account ORDER BY _source_key"
    before = await query(api, tenant_a, sql, limit=1000)
    async with db.tenant_session(await tenant_id(api, tenant_a)) as s:  # forget the checkpoints
        await s.execute(delete(StreamState).where(StreamState.connection_id == uuid.UUID(cid)))
    await sync(api, tenant_a, cid)  # lands every row again; the run's hook materialises
    report = await materialize(api, tenant_a, cid)
    assert {s["mode"] for s in report["slices"]} == {"unchanged"}
    after = await query(api, tenant_a, sql, limit=1000)
    assert (after["columns"], after["rows"]) == (before["columns"], before["rows"])


async def test_deletes_propagate(
    api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path], tmp_path: Path
) -> None:
    cid, src = demo
    csv = src / "salesforce_accounts.csv"
    lines = csv.read_text().splitlines()
    victim = lines[1].split(",")[0]
    lines[1] = lines[1].replace(",false,", ",true,", 1)  # soft-deleted in the CRM
    csv.write_text("\n".join(lines) + "\n")
    await sync(api, tenant_a, cid)
    count = await query(
        api, tenant_a, f"SELECT count(*) FROM account WHERE account_id = '{victim}'"
    )
    assert count["rows"] == [[0]]
    total = await query(api, tenant_a, "SELECT count(*) FROM account")
    assert total["rows"] == [[LIVE_ACCOUNTS - 1]]
    # a deleted connection's rows leave every view
    other = await connect(api, tenant_a, demo_source(tmp_path, "salesforce_accounts.csv"))
    await sync(api, tenant_a, other)
    await map_stream(
        api, tenant_a, other, "salesforce_accounts", "account", {"Id": ("account_id", None)}
    )
    await materialize(api, tenant_a, other)
    assert (await query(api, tenant_a, "SELECT count(*) FROM account"))["rows"] == [
        [LIVE_ACCOUNTS - 1 + 200]  # the second copy maps no is_deleted: all 200 rows
    ]
    r = await api.delete(f"/api/v1/aam/connections/{other}", headers=tenant_a.headers)
    assert r.status_code == 204
    await materialize(api, tenant_a, cid)
    assert (await query(api, tenant_a, "SELECT count(DISTINCT _source_connection) FROM account"))[
        "rows"
    ] == [[1]]


async def test_mapping_edit_rematerialises_its_slice(
    api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path]
) -> None:
    cid, _ = demo
    body = {
        "connection_id": cid,
        "stream": "salesforce_accounts",
        "source_field": "Name",
        "entity": "account",
        "field": "name",
        "transform": "upper",
    }
    r = await api.put(f"{API}/mappings", headers=tenant_a.headers, json=body)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["mapping"]["version"] == 2
    slices = {(s["entity"], s["stream"]): s["mode"] for s in changed["materialization"]["slices"]}
    assert slices == {("account", "salesforce_accounts"): "full"}  # opportunities untouched
    names = await query(api, tenant_a, "SELECT count(*) FROM account WHERE name <> upper(name)")
    assert names["rows"] == [[0]]
    hist = (
        await api.get(
            f"{API}/mappings/history",
            headers=tenant_a.headers,
            params={"connection_id": cid, "stream": "salesforce_accounts", "source_field": "Name"},
        )
    ).json()["mappings"]
    assert [(h["version"], h["status"], h["transform"]) for h in hist] == [
        (2, "active", "upper"),
        (1, "superseded", None),
    ]
    restored = await api.post(f"{API}/mappings/{hist[1]['id']}/restore", headers=tenant_a.headers)
    assert restored.status_code == 200 and restored.json()["mapping"]["version"] == 3
    names = await query(api, tenant_a, "SELECT count(*) FROM account WHERE name <> upper(name)")
    assert names["rows"][0][0] > 0
    retired = await api.post(
        f"{API}/mappings/retire",
        headers=tenant_a.headers,
        json={"connection_id": cid, "stream": "salesforce_accounts", "source_field": "Name"},
    )
    assert retired.status_code == 200 and retired.json()["mapping"]["status"] == "retired"
    assert (await query(api, tenant_a, "SELECT count(name) FROM account"))["rows"] == [[0]]
    clash = await api.put(
        f"{API}/mappings",
        headers=tenant_a.headers,
        json={**body, "source_field": "Industry", "field": "account_id"},
    )
    assert_error(clash, 409, "conflict")
    bad = await api.put(
        f"{API}/mappings", headers=tenant_a.headers, json={**body, "field": "no_such_field"}
    )
    assert_error(bad, 422, "invalid_mapping")
    bad = await api.put(
        f"{API}/mappings",
        headers=tenant_a.headers,
        json={**body, "transform": "upper; DROP TABLE account"},
    )
    assert_error(bad, 422, "invalid_mapping")


async def test_injection_shaped_identifiers(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    evil = 'x"; DROP TABLE account; --'
    src = tmp_path / "evil"
    src.mkdir()
    stream = "odd'stream\"; DROP VIEW account; --"
    (src / f"{stream}.csv").write_text(f'id,"{evil.replace(chr(34), chr(34) * 2)}"\n1,one\n2,two\n')
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    await map_stream(
        api, tenant_a, cid, stream, "account", {"id": ("account_id", None), evil: ("name", None)}
    )
    report = await materialize(api, tenant_a, cid)
    assert report["slices"][0]["rows"] == 2, report
    got = await query(api, tenant_a, "SELECT name, _source_stream FROM account ORDER BY 1")
    assert got["rows"] == [["one", stream], ["two", stream]]
    page = await api.get(
        f"{API}/views/account",
        headers=tenant_a.headers,
        params={"filter": f"_source_stream:eq:{stream}", "sort": "-name"},
    )
    assert [r["name"] for r in page.json()["rows"]] == ["two", "one"]
    bad = await api.get(
        f"{API}/views/account",
        headers=tenant_a.headers,
        params={"sort": 'name"; DROP VIEW account; --'},
    )
    assert_error(bad, 400, "bad_request")
    assert (await query(api, tenant_a, "SELECT count(*) FROM account"))["rows"] == [[2]]


async def test_sandbox_refuses_over_the_api(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    for sql, why in FORBIDDEN:
        if not sql:
            continue
        r = await api.post(f"{API}/query", headers=tenant_a.headers, json={"sql": sql})
        err = assert_error(r, 400, "query_rejected")
        assert err["message"], sql
    slow = await api.post(
        f"{API}/query",
        headers=tenant_a.headers,
        json={
            "sql": "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3",
            "timeout_s": 0.3,
        },
    )
    assert_error(slow, 400, "query_timeout")
    assert_error(
        await api.post(f"{API}/query", headers=tenant_a.headers, json={"sql": ""}),
        422,
        "validation_error",
    )


async def test_no_way_to_another_tenant(
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    tenant_b: Tenant,
    demo: tuple[str, Path],
    settings: Settings,
) -> None:
    cid, _ = demo
    a_file = settings.data_dir / "dcl" / f"{await tenant_id(api, tenant_a)}.duckdb"
    assert a_file.exists()
    assert (await query(api, tenant_b, "SELECT count(*) FROM account"))["rows"] == [[0]]
    b_views = (await api.get(f"{API}/views", headers=tenant_b.headers)).json()["views"]
    assert all(v["rows"] == 0 and not v["connections"] for v in b_views)
    landed = next((settings.data_dir / "landing").rglob("*.parquet"))
    for sql in (
        f"ATTACH '{a_file}' AS a",
        f"SELECT * FROM read_parquet('{landed}')",
        f"SELECT * FROM '{landed}'",
        f"SELECT * FROM '{a_file}'",
        "SELECT * FROM a.main.account",
    ):
        r = await api.post(f"{API}/query", headers=tenant_b.headers, json={"sql": sql})
        assert_error(r, 400, "query_rejected")
    # ids of tenant A are unknown to tenant B on every id-taking route
    mid = (
        await api.get(f"{API}/mappings", params={"connection_id": cid}, headers=tenant_a.headers)
    ).json()["mappings"][0]["id"]
    for method, url, kw in [
        ("GET", f"{API}/mappings", {"params": {"connection_id": cid}}),
        (
            "GET",
            f"{API}/mappings/history",
            {
                "params": {
                    "connection_id": cid,
                    "stream": "salesforce_accounts",
                    "source_field": "Id",
                }
            },
        ),
        (
            "PUT",
            f"{API}/mappings",
            {
                "json": {
                    "connection_id": cid,
                    "stream": "s",
                    "source_field": "f",
                    "entity": "account",
                    "field": "name",
                }
            },
        ),
        (
            "POST",
            f"{API}/mappings/retire",
            {"json": {"connection_id": cid, "stream": "salesforce_accounts", "source_field": "Id"}},
        ),
        ("POST", f"{API}/mappings/{mid}/restore", {}),
        ("POST", f"{API}/materialize", {"json": {"connection_id": cid}}),
    ]:
        r = await api.request(method, url, headers=tenant_b.headers, **kw)  # type: ignore[arg-type]
        assert_error(r, 404, "not_found")
    listed = (
        await api.get(f"{API}/mappings", params={"connection_id": cid}, headers=tenant_a.headers)
    ).json()
    assert {m["version"] for m in listed["mappings"]} == {1}  # nothing changed


async def test_roles(api: httpx.AsyncClient, tenant_a: Tenant, demo: tuple[str, Path]) -> None:
    cid, _ = demo
    viewer = await add_user(api, tenant_a, "viewer")
    assert (await api.get(f"{API}/views", headers=viewer.headers)).status_code == 200
    assert (await query(api, viewer, "SELECT count(*) FROM account"))["rows"] == [[LIVE_ACCOUNTS]]
    mid = (
        await api.get(f"{API}/mappings", params={"connection_id": cid}, headers=viewer.headers)
    ).json()["mappings"][0]["id"]
    for method, url, body in [
        (
            "PUT",
            f"{API}/mappings",
            {
                "connection_id": cid,
                "stream": "s",
                "source_field": "f",
                "entity": "account",
                "field": "name",
            },
        ),
        (
            "POST",
            f"{API}/mappings/retire",
            {"connection_id": cid, "stream": "salesforce_accounts", "source_field": "Id"},
        ),
        ("POST", f"{API}/mappings/{mid}/restore", None),
        ("POST", f"{API}/materialize", {"connection_id": cid}),
    ]:
        r = await api.request(method, url, headers=viewer.headers, json=body)
        assert_error(r, 403, "forbidden")
