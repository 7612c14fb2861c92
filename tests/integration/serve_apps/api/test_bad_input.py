"""Bad input always gets a 4xx in the one error shape: never a 500, never a stack trace."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant
from tests.helpers.api import api_routes, assert_error, fill, tenant_objects

JUNK_BODIES: list[tuple[bytes, str]] = [
    (b"{not json", "application/json"),
    (b"[]", "application/json"),
    (b'{"email": 5, "password": ["x"], "tenant_name": null}', "application/json"),
    (b'{"refresh_token": {"$gt": ""}}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"a=1&b=2", "application/x-www-form-urlencoded"),
    (b"plain text", "text/plain"),
    (
        b'{"role": "god", "email": "x@example.com", "password": "long enough pw"}',
        "application/json",
    ),
]


async def test_malformed_json_is_422(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/v1/auth/register", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert_error(r, 422, "validation_error")
    assert "Traceback" not in r.text


async def test_wrong_types_and_extra_fields(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await api.post(
        "/api/v1/auth/register", json={"tenant_name": 5, "email": "nope", "password": 1}
    )
    err = assert_error(r, 422, "validation_error")
    assert {tuple(d["loc"])[-1] for d in err["details"]} >= {"email", "password"}
    assert "input" not in str(err["details"])  # submitted values (passwords) never echoed
    r = await api.post(
        "/api/v1/users",
        headers=tenant_a.headers,
        json={"email": "x@example.com", "password": "long enough pw", "is_superuser": True},
    )
    assert_error(r, 422, "validation_error")
    r = await api.get("/api/v1/users/not-a-uuid", headers=tenant_a.headers)
    assert_error(r, 422, "validation_error")
    r = await api.get("/api/v1/users?limit=100000", headers=tenant_a.headers)
    assert_error(r, 422, "validation_error")


async def test_login_unsupported_media_type(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/auth/login", content=b"x", headers={"content-type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


async def test_oversized_body_declared(api: httpx.AsyncClient) -> None:
    big = b'{"tenant_name": "' + b"x" * 2_000_000 + b'"}'
    r = await api.post(
        "/api/v1/auth/register", content=big, headers={"content-type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")
    assert r.headers["x-request-id"]


async def test_oversized_body_streamed(api: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65_536

    r = await api.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")


async def test_unknown_route_and_method(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/v1/nope"), 404, "not_found")
    assert_error(await api.delete("/api/v1/auth/login"), 405, "method_not_allowed")


async def test_request_id_echoed(api: httpx.AsyncClient) -> None:
    r = await api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await api.get("/healthz", headers={"X-Request-ID": "bad id\n<script>"})
    assert r.headers["x-request-id"] != "bad id\n<script>" and len(r.headers["x-request-id"]) == 32


@pytest.mark.parametrize("body,ctype", JUNK_BODIES)
async def test_no_route_answers_junk_with_500(
    api: httpx.AsyncClient, tenant_a: Tenant, body: bytes, ctype: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    ids = await tenant_objects(api, tenant_a, tmp_path)
    for method, path in api_routes(api):
        url = fill(path, ids)
        for headers in ({}, tenant_a.headers):
            r = await api.request(
                method, url, content=body, headers={**headers, "content-type": ctype}
            )
            assert r.status_code < 500, (method, url, body, r.text)
            if r.status_code >= 400:
                assert set(r.json()) == {"error"}, r.text
