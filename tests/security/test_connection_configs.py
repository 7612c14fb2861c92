"""Finding 1 (config models) and finding 9 (files check/discover): every source type's
configuration is validated at create/patch time (422 with a clear message, no secret
echoed), and a bad configuration stored anyway never makes check or discover a 500."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from autonomos.store.aam_models import Connection
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.api import assert_error
from tests.security.edge_lab import (
    CONNECTIONS,
    app_settings,
    create_connection,
    tenant_id,
    write_csv,
)

BAD: list[tuple[str, dict, str]] = [
    ("files", {"path": "crm", "bogus": 1}, "bogus"),
    ("files", {"path": "crm", "streams": ["accounts"]}, "streams"),
    ("files", {"path": "crm", "streams": {"a": "/etc/*.csv"}}, "streams"),
    ("files", {"path": "crm", "streams": {"a": "../other/*.csv"}}, "streams"),
    ("files", {"path": "crm", "primary_key": ["Id"]}, "primary_key"),
    ("files", {"path": "crm", "batch_size": -1}, "batch_size"),
    ("files", {"path": "crm", "batch_size": 10**400}, "batch_size"),
    ("files", {"path": "crm", "batch_size": "many"}, "batch_size"),
    ("files", {"path": "crm", "block_size": 0}, "block_size"),
    ("files", {"path": "crm", "delimiter": "ab"}, "delimiter"),
    ("files", {"path": "crm", "delimiter": "x"}, "delimiter"),
    ("files", {"path": "crm", "format": "xlsx"}, "format"),
    ("files", {"path": "crm", "storage_options": {"anon": True}}, "storage_options"),
    ("files", {"path": 12}, "path"),
    ("files", {"path": ""}, "path"),
    (
        "files",
        {"path": "https://files.example.com/x.csv", "storage_options": {"client_kwargs": {}}},
        "client_kwargs",
    ),
    ("files", {"path": "s3://bucket/x/", "storage_options": {"profile": "prod"}}, "profile"),
    ("files", {"path": "s3://bucket/x/"}, "s3 needs"),  # never the server's own identity
    ("files", {"path": "gs://bucket/x/", "storage_options": {"token": "/etc/key.json"}}, "token"),
    ("postgres", {"url": "postgresql://u:pw-Secr3t@db.example.com/x?passfile=/etc/x"}, "passfile"),
    ("postgres", {"url": "postgresql://u:pw-Secr3t@h1,h2/x"}, "url"),
    ("postgres", {"url": "mysql://u:pw-Secr3t@db.example.com/x"}, "url"),
    ("postgres", {"url": "postgresql://db.example.com/x", "batch_size": 0}, "batch_size"),
    ("salesforce", {"client_id": "i", "client_secret": "s", "batch_size": 5}, "batch_size"),
    ("salesforce", {"client_id": "i", "client_secret": "s", "objects": ["A; DROP"]}, "objects"),
    ("salesforce", {"client_id": "i", "client_secret": "s", "login_url": "ftp://x"}, "login_url"),
    ("salesforce", {"client_id": "i", "client_secret": "s", "auth": "password"}, "password"),
    ("mongodb", {"uri": "mongodb://u:pw-Secr3t@db.example.com", "database": "d", "x": 1}, "x"),
    ("mongodb", {"uri": "mongodb://db.example.com", "database": "d", "sample_size": -1}, "sample"),
    ("mongodb", {"uri": "http://db.example.com", "database": "d"}, "uri"),
]


@pytest.mark.parametrize(("source_type", "config", "mentions"), BAD)
async def test_bad_configs_are_422_at_create(
    api: httpx.AsyncClient, tenant_a: Tenant, source_type: str, config: dict, mentions: str
) -> None:
    r = await create_connection(api, tenant_a, config, source_type)
    error = assert_error(r, 422, "invalid_connection")
    assert mentions in error["message"], error
    assert "pw-Secr3t" not in r.text


async def test_bad_configs_are_422_at_patch(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    write_csv(tmp_path / "src" / "accounts.csv", "Id", ["1"])
    r = await create_connection(api, tenant_a, {"path": str(tmp_path / "src")})
    assert r.status_code == 201, r.text
    url = f"{CONNECTIONS}/{r.json()['id']}"
    for patch in ({"batch_size": -1}, {"block_size": 0}, {"nope": True}, {"delimiter": ";;"}):
        r = await api.patch(url, headers=tenant_a.headers, json={"config": patch})
        assert_error(r, 422, "invalid_connection")
    r = await api.patch(url, headers=tenant_a.headers, json={"config": {"delimiter": ";"}})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "config",
    [
        {"streams": "accounts"},
        {"primary_key": ["Id"]},
        {"batch_size": "lots"},
        {"block_size": 0},
        {"delimiter": "::"},
    ],
)
async def test_check_and_discover_of_a_bad_stored_config_are_4xx(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, config: dict
) -> None:
    """A row stored by an older release (or by hand) with a bad configuration: check
    reports a configuration failure, discover a 422, never a 500."""
    src = write_csv(tmp_path / "src" / "accounts.csv", "Id,Name", ["1,a"]).parent
    db = Database(app_settings(api).app_database_url)
    try:
        async with db.tenant_session(await tenant_id(api, tenant_a)) as s:
            conn = Connection(
                name=f"old-{uuid.uuid4().hex[:6]}",
                source_type="files",
                config={"path": str(src), **config},
            )
            s.add(conn)
            await s.flush()
            cid = conn.id
    finally:
        await db.dispose()
    h = tenant_a.headers
    check = await api.post(f"{CONNECTIONS}/{cid}/check", headers=h)
    assert check.status_code == 200, check.text
    assert check.json()["ok"] is False and check.json()["failure"] == "configuration"
    assert_error(
        await api.post(f"{CONNECTIONS}/{cid}/discover", headers=h), 422, "invalid_connection"
    )
