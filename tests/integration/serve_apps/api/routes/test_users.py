"""Users API, role enforcement, and the cross-tenant matrix over every route."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant
from tests.helpers.api import add_user, api_routes, assert_error, fill, tenant_objects

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


async def test_every_private_route_needs_a_token(api: httpx.AsyncClient) -> None:
    private = [r for r in api_routes(api) if r not in PUBLIC]
    assert private, "no private routes found"
    for method, path in private:
        r = await api.request(method, fill(path), json={})
        assert_error(r, 401, "unauthorized")


async def test_admin_creates_and_edits_users(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    op = await add_user(api, tenant_a, "operator")
    users = (await api.get("/api/v1/users", headers=tenant_a.headers)).json()
    assert users["total"] == 2 and {u["email"] for u in users["users"]} == {
        tenant_a.email,
        op.email,
    }
    op_id = (await api.get("/api/v1/auth/me", headers=op.headers)).json()["id"]
    r = await api.patch(f"/api/v1/users/{op_id}", headers=tenant_a.headers, json={"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    audit = (await api.get("/api/v1/audit?action=user.update", headers=tenant_a.headers)).json()
    assert audit["entries"][0]["details"]["after"] == {"role": "viewer"}
    assert audit["entries"][0]["request_id"]
    # deactivated users cannot log in any more
    await api.patch(f"/api/v1/users/{op_id}", headers=tenant_a.headers, json={"is_active": False})
    assert (
        await api.post("/api/v1/auth/login", json={"email": op.email, "password": op.password})
    ).status_code == 401


async def test_admin_cannot_demote_self(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    me = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()["id"]
    r = await api.patch(f"/api/v1/users/{me}", headers=tenant_a.headers, json={"role": "viewer"})
    assert_error(r, 409, "conflict")


async def test_duplicate_user_email_conflicts(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    r = await api.post(
        "/api/v1/users",
        headers=tenant_a.headers,
        json={"email": tenant_b.email, "password": "long enough pw"},
    )
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("role", ["operator", "viewer"])
async def test_non_admins_are_forbidden_admin_routes(
    api: httpx.AsyncClient, tenant_a: Tenant, role: str
) -> None:
    user = await add_user(api, tenant_a, role)
    me = (await api.get("/api/v1/auth/me", headers=user.headers)).json()
    assert me["role"] == role
    assert (await api.get("/api/v1/tenant", headers=user.headers)).status_code == 200
    for method, url, body in [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com", "password": "long enough pw"}),
        ("GET", f"/api/v1/users/{me['id']}", None),
        ("PATCH", f"/api/v1/users/{me['id']}", {"role": "admin"}),
        ("GET", "/api/v1/audit", None),
    ]:
        assert_error(
            await api.request(method, url, headers=user.headers, json=body), 403, "forbidden"
        )
    assert (await api.get("/api/v1/auth/me", headers=user.headers)).json()["role"] == role


async def test_cross_tenant_matrix(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Tenant B's admin token on every route that takes one of tenant A's ids: 404, no change."""
    ids = await tenant_objects(api, tenant_a, tmp_path)
    a_user = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()
    a_conn = (
        await api.get(
            fill("/api/v1/aam/connections/{connection_id}", ids), headers=tenant_a.headers
        )
    ).json()
    patches = {
        "users": {"full_name": "pwned", "role": "viewer"},
        "aam": {"name": "pwned"},
        "aoa": {"owner": "pwned"},
    }
    bodies: dict[str, object] = {"POST": {}, "PUT": {}, "DELETE": None}
    checked = 0
    for method, path in api_routes(api):
        if "{" not in path:
            continue
        body = patches[path.split("/")[3]] if method == "PATCH" else bodies.get(method)
        missing = await api.request(method, fill(path), headers=tenant_b.headers, json=body)
        other = await api.request(method, fill(path, ids), headers=tenant_b.headers, json=body)
        assert_error(other, 404, "not_found")
        assert other.json()["error"]["message"] == missing.json()["error"]["message"], path
        checked += 1
    assert checked >= 8
    assert (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json() == a_user
    after = (
        await api.get(
            fill("/api/v1/aam/connections/{connection_id}", ids), headers=tenant_a.headers
        )
    ).json()
    assert after == a_conn
    b_users = (await api.get("/api/v1/users", headers=tenant_b.headers)).json()
    assert [u["email"] for u in b_users["users"]] == [tenant_b.email]
    assert (await api.get("/api/v1/aam/connectors", headers=tenant_b.headers)).json()["total"] == 0
    b_audit = (await api.get("/api/v1/audit", headers=tenant_b.headers)).json()["entries"]
    assert all(e["target_id"] not in (a_user["id"], ids["connection_id"]) for e in b_audit)
