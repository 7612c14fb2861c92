"""/api/v1/aam: connections CRUD with secrets hidden, check, discover, sync runs, overview."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.conftest import Tenant
from tests.helpers.api import add_user, assert_error, drain

API = "/api/v1/aam"


def source_dir(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "accounts.csv").write_text(
        "Id,Name,Revenue\n" + "".join(f"{i},Co {i},{i}.5\n" for i in range(30))
    )
    (src / "contacts.csv").write_text("Id,Email\n1,a@example.com\n2,b@example.com\n")
    return src


async def create(api: httpx.AsyncClient, t: Tenant, **body: object) -> dict:
    r = await api.post(f"{API}/connections", headers=t.headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_files_connection_lifecycle(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    src = source_dir(tmp_path)
    conn = await create(
        api, tenant_a, name="crm-export", source_type="files", config={"path": str(src)}
    )
    assert conn["drift_policy"] == "propose" and conn["status"] == "active"
    cid = conn["id"]
    check = (await api.post(f"{API}/connections/{cid}/check", headers=tenant_a.headers)).json()
    assert check["ok"] is True and check["latency_ms"] >= 0
    streams = (
        await api.post(f"{API}/connections/{cid}/discover", headers=tenant_a.headers)
    ).json()["streams"]
    assert {s["name"] for s in streams} == {"accounts", "contacts"}
    started = await api.post(
        f"{API}/connections/{cid}/sync", headers=tenant_a.headers, json={"streams": ["accounts"]}
    )
    assert started.status_code == 202 and started.json()["status"] == "queued"
    await drain(api)
    run = (await api.get(f"{API}/runs/{started.json()['run_id']}", headers=tenant_a.headers)).json()
    assert run["status"] == "succeeded", run
    assert (run["records_read"], run["records_written"], run["records_quarantined"]) == (30, 30, 0)
    assert run["started_at"] and run["finished_at"]
    runs = (await api.get(f"{API}/connections/{cid}/runs", headers=tenant_a.headers)).json()["runs"]
    assert [r["id"] for r in runs] == [run["id"]]
    overview = (await api.get(f"{API}/connectors", headers=tenant_a.headers)).json()
    mine = next(c for c in overview["connectors"] if c["id"] == cid)
    # the run's last step: its views brought up to date (sync.queued, started, succeeded,
    # then views.refreshed)
    assert mine["last_event_type"] == "views.refreshed" and mine["mapping_count"] == 0
    assert mine["has_drift"] is False and overview["total"] >= 1
    # finished runs cannot be cancelled
    assert_error(
        await api.post(f"{API}/runs/{run['id']}/cancel", headers=tenant_a.headers), 409, "conflict"
    )
    r = await api.patch(
        f"{API}/connections/{cid}", headers=tenant_a.headers, json={"drift_policy": "block"}
    )
    assert r.json()["drift_policy"] == "block"
    assert (
        await api.delete(f"{API}/connections/{cid}", headers=tenant_a.headers)
    ).status_code == 204
    assert_error(
        await api.get(f"{API}/connections/{cid}", headers=tenant_a.headers), 404, "not_found"
    )


async def test_secrets_never_returned(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    conn = await create(
        api,
        tenant_a,
        name="warehouse",
        source_type="postgres",
        config={"url": "postgresql://reader@127.0.0.1:1/wh", "password": "pg-Secr3t-value"},
    )
    assert conn["config"]["password"] == "***" and conn["config"]["url"] == "***"
    got = await api.get(f"{API}/connections/{conn['id']}", headers=tenant_a.headers)
    listed = await api.get(f"{API}/connections", headers=tenant_a.headers)
    for text in (got.text, listed.text):
        assert "pg-Secr3t-value" not in text and "reader@" not in text
    # updating another field keeps the secret ("***" means unchanged)
    r = await api.patch(
        f"{API}/connections/{conn['id']}",
        headers=tenant_a.headers,
        json={"config": {"password": "***", "schemas": ["public"]}},
    )
    assert r.status_code == 200 and r.json()["config"]["schemas"] == ["public"]
    check = (
        await api.post(f"{API}/connections/{conn['id']}/check", headers=tenant_a.headers)
    ).json()
    assert check["ok"] is False and check["failure"] == "transient"
    assert "pg-Secr3t-value" not in check["error"]
    started = await api.post(f"{API}/connections/{conn['id']}/sync", headers=tenant_a.headers)
    await drain(api)
    run = (await api.get(f"{API}/runs/{started.json()['run_id']}", headers=tenant_a.headers)).json()
    assert run["status"] == "failed" and run["error_type"] == "transient" and run["error"]
    assert "pg-Secr3t-value" not in run["error"]


async def test_invalid_connections_are_4xx(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    h = tenant_a.headers
    assert_error(
        await api.post(f"{API}/connections", headers=h, json={"name": "x", "source_type": "ftp"}),
        422,
        "validation_error",
    )
    assert_error(
        await api.post(
            f"{API}/connections",
            headers=h,
            json={"name": "x", "source_type": "files", "config": {}},
        ),
        422,
        "invalid_connection",
    )
    assert_error(
        await api.post(
            f"{API}/connections",
            headers=h,
            json={"name": "x", "source_type": "salesforce", "config": {"auth": "magic"}},
        ),
        422,
        "invalid_connection",
    )
    src = source_dir(tmp_path)
    await create(api, tenant_a, name="dup", source_type="files", config={"path": str(src)})
    assert_error(
        await api.post(
            f"{API}/connections",
            headers=h,
            json={"name": "dup", "source_type": "files", "config": {"path": str(src)}},
        ),
        409,
        "conflict",
    )
    conn = await create(
        api, tenant_a, name="gone", source_type="files", config={"path": str(tmp_path / "nope")}
    )
    check = (await api.post(f"{API}/connections/{conn['id']}/check", headers=h)).json()
    assert check["ok"] is False and check["failure"] == "configuration"
    r = await api.post(
        f"{API}/connections/{conn['id']}/sync", headers=h, json={"streams": ["missing"]}
    )
    await drain(api)
    run = (await api.get(f"{API}/runs/{r.json()['run_id']}", headers=h)).json()
    assert run["status"] == "failed" and run["error_type"] == "configuration"


async def test_viewer_reads_operator_writes(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    operator = await add_user(api, tenant_a, "operator")
    body = {
        "name": f"v-{uuid.uuid4().hex[:4]}",
        "source_type": "files",
        "config": {"path": str(source_dir(tmp_path))},
    }
    assert_error(
        await api.post(f"{API}/connections", headers=viewer.headers, json=body), 403, "forbidden"
    )
    r = await api.post(f"{API}/connections", headers=operator.headers, json=body)
    assert r.status_code == 201
    cid = r.json()["id"]
    assert (await api.get(f"{API}/connections/{cid}", headers=viewer.headers)).status_code == 200
    assert (await api.get(f"{API}/connectors", headers=viewer.headers)).status_code == 200
    assert_error(
        await api.post(f"{API}/connections/{cid}/sync", headers=viewer.headers), 403, "forbidden"
    )
    assert_error(
        await api.delete(f"{API}/connections/{cid}", headers=operator.headers), 403, "forbidden"
    )
    assert (await api.get(f"{API}/healthz", headers=viewer.headers)).json()["status"] == "ok"
