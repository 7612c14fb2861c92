"""/api/v1/aam/uploads: the tenant's upload area, read by files connections."""

from __future__ import annotations

import stat
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from autonomos.aam.connections import InlineSyncLauncher
from tests.conftest import Tenant, make_settings, register
from tests.helpers.api import add_user, assert_error

UPLOADS = "/api/v1/aam/uploads"
CONNECTIONS = "/api/v1/aam/connections"


def csv(rows: int, start: int = 0) -> bytes:
    return ("Id,Name\n" + "".join(f"{i},Co {i}\n" for i in range(start, start + rows))).encode()


async def upload(
    api: httpx.AsyncClient, t: Tenant, folder: str, *files: tuple[str, bytes]
) -> httpx.Response:
    return await api.post(
        UPLOADS,
        params={"folder": folder},
        headers=t.headers,
        files=[("file", (name, body, "text/csv")) for name, body in files],
    )


async def sync(api: httpx.AsyncClient, t: Tenant, cid: str) -> dict:
    started = await api.post(f"{CONNECTIONS}/{cid}/sync", headers=t.headers)
    assert started.status_code == 202, started.text
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher)
    await launcher.drain()
    run = await api.get(f"/api/v1/aam/runs/{started.json()['run_id']}", headers=t.headers)
    return dict(run.json())


async def test_upload_then_read_with_a_files_connection(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    r = await upload(api, tenant_a, "crm", ("accounts.csv", csv(30)), ("contacts.csv", csv(2)))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["path"] == "crm"
    assert body["files"] == [
        {"name": "accounts.csv", "bytes": len(csv(30))},
        {"name": "contacts.csv", "bytes": len(csv(2))},
    ]
    me = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()
    folder = api.runtime.settings.uploads_dir / me["tenant_id"] / "crm"  # type: ignore[attr-defined]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "accounts.csv").stat().st_mode) == 0o600

    conn = await api.post(
        CONNECTIONS,
        headers=tenant_a.headers,
        json={
            "name": f"up-{uuid.uuid4().hex[:6]}",
            "source_type": "files",
            "config": {"path": body["path"]},
        },
    )
    assert conn.status_code == 201, conn.text
    cid = conn.json()["id"]
    run = await sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_read"] == 32, run

    # a changed export arrives under the same name and replaces the old file
    r = await upload(api, tenant_a, "crm", ("accounts.csv", csv(40)))
    assert r.status_code == 201, r.text
    assert (folder / "accounts.csv").read_bytes() == csv(40)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    run = await sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_read"] == 40, run

    listed = (await api.get(UPLOADS, headers=tenant_a.headers)).json()["folders"]
    [crm] = [f for f in listed if f["name"] == "crm"]
    assert crm["path"] == "crm" and crm["bytes"] == len(csv(40)) + len(csv(2))
    assert {f["name"] for f in crm["files"]} == {"accounts.csv", "contacts.csv"}

    assert (await api.delete(f"{UPLOADS}/crm", headers=tenant_a.headers)).status_code == 204
    assert not folder.exists()
    assert_error(await api.delete(f"{UPLOADS}/crm", headers=tenant_a.headers), 404, "not_found")
    check = (await api.post(f"{CONNECTIONS}/{cid}/check", headers=tenant_a.headers)).json()
    assert check["ok"] is False and check["failure"] == "configuration"


async def test_names_are_checked_before_anything_is_written(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    good = ("ok.csv", csv(1))
    for folder in ("../x", ".hidden", "a/b", "", "x" * 200, "..", "a\x00b", "trailing."):
        r = await upload(api, tenant_a, folder, good)
        assert_error(r, 422, "validation_error")  # the folder pattern is in the schema
    for name in ("../../evil.csv", ".env.csv", "a/b.csv", "run.sh", "notes", "x\\y.csv"):
        r = await upload(api, tenant_a, "bad-names", good, (name, csv(1)))
        assert_error(r, 422, "invalid_upload")
    r = await upload(api, tenant_a, "bad-names", good, good)
    assert_error(r, 422, "invalid_upload")
    listed = (await api.get(UPLOADS, headers=tenant_a.headers)).json()["folders"]
    assert "bad-names" not in {f["name"] for f in listed}
    assert_error(
        await api.delete(f"{UPLOADS}/.hidden", headers=tenant_a.headers), 422, "validation_error"
    )
    r = await api.post(UPLOADS, params={"folder": "x"}, headers=tenant_a.headers)
    assert_error(r, 422, "validation_error")  # no file at all


async def test_roles(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    operator = await add_user(api, tenant_a, "operator")
    assert_error(await upload(api, viewer, "v", ("a.csv", csv(1))), 403, "forbidden")
    assert (await upload(api, operator, "ops", ("a.csv", csv(1)))).status_code == 201
    assert (await api.get(UPLOADS, headers=viewer.headers)).status_code == 200
    assert_error(await api.delete(f"{UPLOADS}/ops", headers=viewer.headers), 403, "forbidden")
    assert (await api.delete(f"{UPLOADS}/ops", headers=operator.headers)).status_code == 204
    r = await api.post(UPLOADS, params={"folder": "x"}, files=[("file", ("a.csv", b"x"))])
    assert_error(r, 401, "unauthorized")


async def test_uploads_have_their_own_size_limit(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    """Bigger than the JSON body limit (1 MiB) is fine here, up to the upload limit."""
    big = csv(100_000)
    assert len(big) > api.runtime.settings.max_body_bytes  # type: ignore[attr-defined]
    r = await upload(api, tenant_a, "big", ("big.csv", big))
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
async def small_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("small"), upload_max_bytes=4096))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_past_the_upload_limit_is_413(small_api: httpx.AsyncClient) -> None:
    t = await register(small_api, "small")
    r = await upload(small_api, t, "crm", ("a.csv", csv(2_000)))
    assert_error(r, 413, "payload_too_large")
    listed = (await small_api.get(UPLOADS, headers=t.headers)).json()["folders"]
    assert listed == []
    assert (await upload(small_api, t, "crm", ("a.csv", csv(5)))).status_code == 201
