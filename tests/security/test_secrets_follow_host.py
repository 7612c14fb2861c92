"""Finding 2: stored secrets never follow a changed host, and the files connector's
credentials are secrets too (encrypted at rest, shown as ``***``).

Two fake Salesforce servers stand for the real login host and an attacker's: an
operator PATCHes ``login_url`` to the second one; without the secrets in the same
request that is a 422 and the attacker's server hears nothing; with them, the check
sends the new secrets (only) to the new host.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from autonomos.store.aam_models import Connection
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database
from tests.conftest import Tenant, register
from tests.helpers.api import assert_error
from tests.integration.connectors import fake_salesforce as sf
from tests.integration.connectors.fake_salesforce import FakeSalesforceServer
from tests.security.edge_lab import (
    CONNECTIONS,
    app_settings,
    create_connection,
    lab_api,
    tenant_id,
)

__all__ = ["lab_api"]  # the fixture, imported for pytest

NEW_SECRET = "brand-new-secret-value-7"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeSalesforceServer, FakeSalesforceServer]]:
    real, evil = FakeSalesforceServer(), FakeSalesforceServer()
    real.start()
    evil.start()
    yield real, evil
    real.stop()
    evil.stop()


def heard(server: FakeSalesforceServer) -> str:
    return repr(server.fake.token_requests)


async def test_patching_login_url_needs_the_secrets_again(
    lab_api: httpx.AsyncClient, servers: tuple[FakeSalesforceServer, FakeSalesforceServer]
) -> None:
    real, evil = servers
    t = await register(lab_api, "sf")
    config = {
        "login_url": f"http://localhost:{real.port}",
        "instance_url": f"http://localhost:{real.port}",
        "auth": "password",
        "client_id": sf.CLIENT_ID,
        "client_secret": sf.CLIENT_SECRET,
        "username": sf.USERNAME,
        "password": sf.PASSWORD,
        "security_token": sf.SECURITY_TOKEN,
        "objects": ["Account"],
    }
    r = await create_connection(lab_api, t, config, "salesforce")
    assert r.status_code == 201, r.text
    url = f"{CONNECTIONS}/{r.json()['id']}"
    evil_url = f"http://localhost:{evil.port}"

    for patch in (
        {"login_url": evil_url, "instance_url": evil_url},
        {"login_url": evil_url, "instance_url": evil_url, "client_secret": "***"},
        {"instance_url": evil_url},  # the data host is a host too
    ):
        r = await lab_api.patch(url, headers=t.headers, json={"config": patch})
        error = assert_error(r, 422, "invalid_connection")
        assert "client_secret" in error["message"] and "password" in error["message"]
    shown = (await lab_api.get(url, headers=t.headers)).json()["config"]
    assert shown["login_url"] == config["login_url"]
    check = (await lab_api.post(f"{url}/check", headers=t.headers)).json()
    assert check["ok"] is True, check
    assert evil.fake.token_requests == []

    # re-sending every secret that stays is what makes the move legitimate
    r = await lab_api.patch(
        url,
        headers=t.headers,
        json={
            "config": {
                "login_url": evil_url,
                "instance_url": evil_url,
                "auth": "client_credentials",
                "client_secret": NEW_SECRET,
                "username": None,
                "password": None,
                "security_token": None,
            }
        },
    )
    assert r.status_code == 200, r.text
    await lab_api.post(f"{url}/check", headers=t.headers)
    assert evil.fake.token_requests, "the check went to the new host"
    for secret in (sf.CLIENT_SECRET, sf.PASSWORD, sf.SECURITY_TOKEN):
        assert secret not in heard(evil)
    assert NEW_SECRET in heard(evil)


async def test_same_host_edits_keep_the_secrets(
    lab_api: httpx.AsyncClient, servers: tuple[FakeSalesforceServer, FakeSalesforceServer]
) -> None:
    real, _ = servers
    t = await register(lab_api, "sf2")
    r = await create_connection(
        lab_api,
        t,
        {
            "login_url": f"http://localhost:{real.port}",
            "instance_url": f"http://localhost:{real.port}",
            "client_id": sf.CLIENT_ID,
            "client_secret": sf.CLIENT_SECRET,
            "objects": ["Account"],
        },
        "salesforce",
    )
    url = f"{CONNECTIONS}/{r.json()['id']}"
    r = await lab_api.patch(
        url,
        headers=t.headers,
        json={"config": {"login_url": f"http://localhost:{real.port}/", "batch_size": 500}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["config"]["client_secret"] == "***"


async def test_database_hosts_need_the_password_again(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    r = await create_connection(
        api,
        tenant_a,
        {"url": "postgresql://reader@db1.example.com/wh", "password": "pg-Secr3t-value"},
        "postgres",
    )
    assert r.status_code == 201, r.text
    url = f"{CONNECTIONS}/{r.json()['id']}"
    moved = {"url": "postgresql://reader@db2.example.com/wh"}
    assert_error(
        await api.patch(url, headers=tenant_a.headers, json={"config": moved}),
        422,
        "invalid_connection",
    )
    r = await api.patch(
        url, headers=tenant_a.headers, json={"config": {**moved, "password": "other-pw-123"}}
    )
    assert r.status_code == 200, r.text
    same_host = {"url": "postgresql://reader@db2.example.com/other_db"}
    r = await api.patch(url, headers=tenant_a.headers, json={"config": same_host})
    assert r.status_code == 200, r.text


async def test_files_credentials_are_encrypted_and_masked(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    config = {
        "path": "https://exporter:url-pa55word@files.example.com/exports/accounts.csv",
        "storage_options": {"headers": {"Authorization": "Bearer header-token-123"}},
    }
    r = await create_connection(api, tenant_a, config)
    assert r.status_code == 201, r.text
    shown = r.json()["config"]
    assert shown["path"] == "https://***@files.example.com/exports/accounts.csv"
    assert shown["storage_options"]["headers"] == "***"
    url = f"{CONNECTIONS}/{r.json()['id']}"
    for text in (r.text, (await api.get(url, headers=tenant_a.headers)).text):
        assert "url-pa55word" not in text and "header-token-123" not in text

    settings = app_settings(api)
    db = Database(settings.app_database_url)
    try:
        async with db.tenant_session(await tenant_id(api, tenant_a)) as s:
            row = await s.get(Connection, uuid.UUID(r.json()["id"]))
            assert row is not None and row.secrets
            stored = repr(row.config) + row.secrets
            decrypted = SecretBox.from_settings(settings).decrypt(row.secrets)
    finally:
        await db.dispose()
    assert "url-pa55word" not in stored and "header-token-123" not in stored
    assert "url-pa55word" in repr(decrypted) and "header-token-123" in repr(decrypted)

    # sending back what was shown keeps the secrets; moving host needs them again
    r = await api.patch(url, headers=tenant_a.headers, json={"config": shown})
    assert r.status_code == 200, r.text
    moved = {**shown, "path": "https://***@other.example.com/exports/accounts.csv"}
    r = await api.patch(url, headers=tenant_a.headers, json={"config": moved})
    assert "storage_options.headers" in assert_error(r, 422, "invalid_connection")["message"]
