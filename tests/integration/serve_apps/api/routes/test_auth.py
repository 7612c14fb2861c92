"""Register, login (JSON and OAuth2 form), refresh rotation and reuse, logout, me, lockout."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, register
from tests.helpers.api import assert_error


async def test_register_then_me(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await api.get("/api/v1/auth/me", headers=tenant_a.headers)
    assert r.status_code == 200
    me = r.json()
    assert me["email"] == tenant_a.email and me["role"] == "admin" and me["full_name"] == "Ada"
    r = await api.get("/api/v1/tenant", headers=tenant_a.headers)
    assert r.json()["name"] == tenant_a.name and r.json()["id"] == me["tenant_id"]


async def test_register_never_confirms_a_taken_email_or_name(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    """A taken e-mail or tenant name is not a 409 (that would tell strangers who exists)."""
    from sqlalchemy import func, select

    from autonomos.store.models import Tenant as TenantRow

    dup_email = {"tenant_name": "other-x" + tenant_a.name, "email": tenant_a.email}
    r = await api.post("/api/v1/auth/register", json={**dup_email, "password": "x" * 12 + "yz"})
    assert r.status_code == 202 and r.json()["status"] == "accepted"
    # ...yet nothing was made: no tenant of that name, and that password opens nothing
    async with api.runtime.db.global_session() as s:  # type: ignore[attr-defined]
        named = select(func.count()).where(TenantRow.name == dup_email["tenant_name"])
        assert await s.scalar(named) == 0
    bad = await api.post(
        "/api/v1/auth/login", json={"email": tenant_a.email, "password": "x" * 12 + "yz"}
    )
    assert_error(bad, 401, "unauthorized")
    # a taken tenant name is just a name: a second, separate tenant
    dup_name = {"tenant_name": tenant_a.name, "email": f"n-{tenant_a.email}", "password": "a" * 14}
    assert (await api.post("/api/v1/auth/register", json=dup_name)).status_code == 202
    login = await api.post(
        "/api/v1/auth/login", json={"email": dup_name["email"], "password": "a" * 14}
    )
    assert login.status_code == 200


async def test_login_json_and_form(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await api.post(
        "/api/v1/auth/login", json={"email": tenant_a.email.upper(), "password": tenant_a.password}
    )
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    r = await api.post(
        "/api/v1/auth/login", data={"username": tenant_a.email, "password": tenant_a.password}
    )
    assert r.status_code == 200
    token = r.json()["access_token"]
    assert (
        await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_login_wrong_password_and_unknown_user(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    wrong = await api.post("/api/v1/auth/login", json={"email": tenant_a.email, "password": "nope"})
    unknown = await api.post(
        "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "nope"}
    )
    assert (
        assert_error(wrong, 401, "unauthorized")["message"]
        == assert_error(unknown, 401, "unauthorized")["message"]
    )


async def test_repeated_failures_lock_with_retry_after(api: httpx.AsyncClient) -> None:
    t = await register(api, "lock")
    for _ in range(3):  # login_max_failures=3 in the test settings
        assert (
            await api.post("/api/v1/auth/login", json={"email": t.email, "password": "bad"})
        ).status_code == 401
    r = await api.post("/api/v1/auth/login", json={"email": t.email, "password": t.password})
    err = assert_error(r, 429, "too_many_requests")
    assert 0 < int(r.headers["Retry-After"]) <= 61 and err["details"]["retry_after_s"] > 0


async def test_refresh_rotates(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await api.post(
        "/api/v1/auth/refresh", json={"refresh_token": tenant_a.tokens["refresh_token"]}
    )
    assert r.status_code == 200
    new = r.json()
    assert new["refresh_token"] != tenant_a.tokens["refresh_token"]
    assert (
        await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    ).status_code == 200
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert r.status_code == 200


async def test_refresh_reuse_revokes_family(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    first = tenant_a.tokens["refresh_token"]
    second = (await api.post("/api/v1/auth/refresh", json={"refresh_token": first})).json()[
        "refresh_token"
    ]
    # an attacker replays the rotated token: refused, and the legitimate chain dies too
    assert_error(
        await api.post("/api/v1/auth/refresh", json={"refresh_token": first}), 401, "unauthorized"
    )
    assert_error(
        await api.post("/api/v1/auth/refresh", json={"refresh_token": second}), 401, "unauthorized"
    )
    # another login (another family) is unaffected
    other = (
        await api.post(
            "/api/v1/auth/login", json={"email": tenant_a.email, "password": tenant_a.password}
        )
    ).json()
    assert (
        await api.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200
    # the revoked family's access tokens stopped working too; the other login's did not
    assert (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).status_code == 401
    headers = {"Authorization": f"Bearer {other['access_token']}"}
    audit = (await api.get("/api/v1/audit?action=auth.refresh_reused", headers=headers)).json()
    assert len(audit["entries"]) == 1


async def test_logout_revokes_refresh(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    token = tenant_a.tokens["refresh_token"]
    assert (await api.post("/api/v1/auth/logout", json={"refresh_token": token})).status_code == 204
    assert_error(
        await api.post("/api/v1/auth/refresh", json={"refresh_token": token}), 401, "unauthorized"
    )


async def test_bad_refresh_tokens(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    tid = (
        (await api.get("/api/v1/auth/me", headers=tenant_a.headers))
        .json()["tenant_id"]
        .replace("-", "")
    )
    for token in [
        "garbage-token",
        f"rt.{tid}.forged-secret-value",
        "rt.nothex.whatever123",
        "rt." + "0" * 32 + ".abcdefgh",
    ]:
        assert_error(
            await api.post("/api/v1/auth/refresh", json={"refresh_token": token}),
            401,
            "unauthorized",
        )
        assert_error(
            await api.post("/api/v1/auth/logout", json={"refresh_token": token}),
            401,
            "unauthorized",
        )


async def test_me_requires_token(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/v1/auth/me")
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"
