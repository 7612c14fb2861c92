"""Finding 8: role, active status and the session are read per request, not from the token.

A demoted, deactivated or logged-out user loses access at once in the process that made
the change, and within the short state cache (``auth_state_cache_s``) in any other.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from autonomos.config import Settings
from autonomos.serve_apps.api.app import create_app
from tests.conftest import Tenant, register
from tests.helpers.api import add_user


async def _id(api: httpx.AsyncClient, t: Tenant) -> str:
    return str((await api.get("/api/v1/auth/me", headers=t.headers)).json()["id"])


async def _create_connection(api: httpx.AsyncClient, t: Tenant) -> int:
    r = await api.post(
        "/api/v1/aam/connections",
        headers=t.headers,
        json={"name": f"c-{uuid.uuid4().hex[:6]}", "source_type": "files", "config": {}},
    )
    return r.status_code


async def test_demotion_applies_at_once(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    op = await add_user(api, tenant_a, "operator")
    assert await _create_connection(api, op) != 403  # operators may create connections
    r = await api.patch(
        f"/api/v1/users/{await _id(api, op)}", headers=tenant_a.headers, json={"role": "viewer"}
    )
    assert r.status_code == 200
    assert await _create_connection(api, op) == 403  # the same token, now a viewer's
    assert (await api.get("/api/v1/auth/me", headers=op.headers)).json()["role"] == "viewer"


async def test_deactivation_applies_at_once(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    uid = await _id(api, viewer)
    r = await api.patch(f"/api/v1/users/{uid}", headers=tenant_a.headers, json={"is_active": False})
    assert r.status_code == 200
    r = await api.get("/api/v1/auth/me", headers=viewer.headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


async def test_logout_ends_the_access_token_of_that_session(api: httpx.AsyncClient) -> None:
    t = await register(api, "logout")
    other = await api.post("/api/v1/auth/login", json={"email": t.email, "password": t.password})
    r = await api.post("/api/v1/auth/logout", json={"refresh_token": t.tokens["refresh_token"]})
    assert r.status_code == 204
    assert (await api.get("/api/v1/auth/me", headers=t.headers)).status_code == 401
    # the other session (another device) is not logged out
    headers = {"Authorization": f"Bearer {other.json()['access_token']}"}
    assert (await api.get("/api/v1/auth/me", headers=headers)).status_code == 200


@pytest.fixture(scope="module")
async def replica(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, as another API replica: its own state cache."""
    app = create_app(settings.model_copy(update={"auth_state_cache_s": 1.0}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
            yield client


async def test_another_replica_follows_within_the_cache_time(
    api: httpx.AsyncClient, replica: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    assert (await replica.get("/api/v1/auth/me", headers=viewer.headers)).status_code == 200
    r = await api.patch(
        f"/api/v1/users/{await _id(api, viewer)}",
        headers=tenant_a.headers,
        json={"is_active": False},
    )
    assert r.status_code == 200
    changed = time.monotonic()
    while (await replica.get("/api/v1/auth/me", headers=viewer.headers)).status_code != 401:
        assert time.monotonic() - changed < 3.0, "the replica still accepts a deactivated user"
        await asyncio.sleep(0.1)
