"""Finding 1 (paths): a files connection reads only its own tenant's folders.

Tenant A's data sits in its upload area and its landing folder; tenant B tries to read
it directly, through ``..``, through a glob, through a symlink (at create time and
swapped in after), and ``/etc/passwd``. Every attempt is a 422 that does not say where
the path leads, and no byte of A's data reaches B.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from autonomos.aam.connections import InlineSyncLauncher
from tests.conftest import Tenant
from tests.helpers.api import assert_error
from tests.security.edge_lab import (
    CONNECTIONS,
    app_settings,
    create_connection,
    tenant_id,
    write_csv,
)

SECRET_ROWS = [f"{i},Secret Co {i}" for i in range(5)]


async def drain(api: httpx.AsyncClient) -> None:
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher)
    await launcher.drain()


def refused(r: httpx.Response, *hidden: str) -> None:
    error = assert_error(r, 422, "invalid_connection")
    for text in hidden:
        assert text not in r.text, f"the error leaks {text!r}"
    assert error["message"]


@pytest.fixture
async def a_uploads(api: httpx.AsyncClient, tenant_a: Tenant) -> Path:
    """Tenant A's upload area holding a folder of A's rows."""
    area = app_settings(api).data_dir / "uploads" / str(await tenant_id(api, tenant_a))
    write_csv(area / "crm" / "accounts.csv", "Id,Name", SECRET_ROWS)
    return area


async def test_b_cannot_read_a_upload_area(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, a_uploads: Path
) -> None:
    settings = app_settings(api)
    b_area = (settings.data_dir / "uploads") / str(await tenant_id(api, tenant_b))
    data_dir = str(settings.data_dir)
    attempts = [
        str(a_uploads / "crm"),  # directly
        str(a_uploads / "crm" / "accounts.csv"),
        f"{b_area}/../{a_uploads.name}/crm",  # through '..'
        f"../{a_uploads.name}/crm",  # relative to B's own area
        f"{(settings.data_dir / 'uploads')}/*/crm/*.csv",  # by glob over every tenant
        f"{(settings.data_dir / 'uploads')}/*",
        f"file://{a_uploads}/crm",
        data_dir,  # the data dir itself
    ]
    for path in attempts:
        refused(await create_connection(api, tenant_b, {"path": path}), data_dir, "Secret Co")
    # B's own listing does not show A's folder, and B cannot delete it
    listed = await api.get("/api/v1/aam/uploads", headers=tenant_b.headers)
    assert listed.status_code == 200 and "crm" not in listed.text
    r = await api.delete("/api/v1/aam/uploads/crm", headers=tenant_b.headers)
    assert_error(r, 404, "not_found")
    assert (a_uploads / "crm" / "accounts.csv").is_file()


async def test_b_cannot_read_a_landing_folder(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path: Path
) -> None:
    write_csv(tmp_path / "src" / "accounts.csv", "Id,Name", SECRET_ROWS)
    created = await create_connection(api, tenant_a, {"path": str(tmp_path / "src")})
    assert created.status_code == 201, created.text
    started = await api.post(f"{CONNECTIONS}/{created.json()['id']}/sync", headers=tenant_a.headers)
    assert started.status_code == 202
    await drain(api)
    landing = app_settings(api).data_dir / "landing"
    assert any(landing.rglob("*.parquet"))
    for path in (str(landing), f"{landing}/**/*.parquet", str(landing.parent / "dcl")):
        refused(await create_connection(api, tenant_b, {"path": path}), str(landing))


async def test_symlinks_out_of_the_tenant_area_are_refused(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, a_uploads: Path
) -> None:
    b_area = app_settings(api).data_dir / "uploads" / str(await tenant_id(api, tenant_b))
    (b_area / "link").mkdir(parents=True)
    os.symlink(a_uploads / "crm", b_area / "link" / "crm")  # a folder link
    os.symlink(a_uploads / "crm", b_area / "direct")
    refused(await create_connection(api, tenant_b, {"path": "direct"}), str(a_uploads))
    # the folder is B's own, but a file found in it leads out: check and sync refuse
    r = await create_connection(api, tenant_b, {"path": "link"})
    if r.status_code == 201:
        cid = r.json()["id"]
        check = (await api.post(f"{CONNECTIONS}/{cid}/check", headers=tenant_b.headers)).json()
        assert check["ok"] is False and check["failure"] == "configuration"
        assert str(a_uploads) not in check["error"]
    else:
        refused(r, str(a_uploads))


async def test_a_symlink_swapped_in_after_the_check_is_refused_at_read_time(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, a_uploads: Path
) -> None:
    b_area = app_settings(api).data_dir / "uploads" / str(await tenant_id(api, tenant_b))
    own = write_csv(b_area / "mine" / "accounts.csv", "Id,Name", ["1,Mine"])
    r = await create_connection(api, tenant_b, {"path": "mine"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    own.unlink()  # after the create-time check, B's file becomes a link to A's
    os.symlink(a_uploads / "crm" / "accounts.csv", own)
    started = await api.post(f"{CONNECTIONS}/{cid}/sync", headers=tenant_b.headers)
    await drain(api)
    run = (
        await api.get(f"/api/v1/aam/runs/{started.json()['run_id']}", headers=tenant_b.headers)
    ).json()
    assert run["status"] == "failed" and run["error_type"] == "configuration", run
    assert run["records_read"] == 0 and str(a_uploads) not in (run["error"] or "")

    # between a connector's listing and its read: the open itself checks the file
    from autonomos.aam.edge import edge_policy
    from autonomos.connectors.edge import EdgeRefused
    from autonomos.connectors.files import FilesConnector

    own.unlink()
    write_csv(own, "Id,Name", ["1,Mine"])
    edge = edge_policy(app_settings(api), await tenant_id(api, tenant_b))
    connector = FilesConnector({"path": "mine"}, edge=edge)
    [listed] = connector.streams()["accounts"]
    own.unlink()
    os.symlink(a_uploads / "crm" / "accounts.csv", own)
    with pytest.raises(EdgeRefused):
        connector.fs.open(listed).read()
    with pytest.raises(EdgeRefused):
        list(connector.read("accounts", None))


async def test_system_files_are_refused(api: httpx.AsyncClient, tenant_b: Tenant) -> None:
    for config in (
        {"path": "/etc/passwd", "format": "csv", "delimiter": ":"},
        {"path": "/etc", "format": "csv"},
        {"path": "/etc/pass*", "format": "csv"},
        {"path": "/proc/self/environ", "format": "csv"},
        {"path": "file:///etc/passwd", "format": "csv"},
        {"path": "../../../../etc/passwd", "format": "csv"},
    ):
        r = await create_connection(api, tenant_b, config)
        assert r.status_code == 422, (config, r.text)
        assert "root:" not in r.text


async def test_a_connection_stored_before_the_guard_cannot_read_outside(
    api: httpx.AsyncClient, tenant_b: Tenant, a_uploads: Path
) -> None:
    """A row written without the API (an older release) is checked again at check,
    discover and sync time: the policy comes from the settings, not from the row."""
    from autonomos.store.aam_models import Connection
    from autonomos.store.session import Database

    db = Database(app_settings(api).app_database_url)
    try:
        async with db.tenant_session(await tenant_id(api, tenant_b)) as s:
            conn = Connection(
                name=f"old-{uuid.uuid4().hex[:6]}",
                source_type="files",
                config={"path": str(a_uploads / "crm")},
            )
            s.add(conn)
            await s.flush()
            cid = conn.id
    finally:
        await db.dispose()
    h = tenant_b.headers
    check = (await api.post(f"{CONNECTIONS}/{cid}/check", headers=h)).json()
    assert check["ok"] is False and check["failure"] == "configuration"
    refused(await api.post(f"{CONNECTIONS}/{cid}/discover", headers=h), str(a_uploads))
    started = await api.post(f"{CONNECTIONS}/{cid}/sync", headers=h)
    await drain(api)
    run = (await api.get(f"/api/v1/aam/runs/{started.json()['run_id']}", headers=h)).json()
    assert run["status"] == "failed" and run["error_type"] == "configuration"
    assert run["records_read"] == 0
