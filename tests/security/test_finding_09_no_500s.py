"""Finding 9: what used to be a 500 is a 4xx in the one error shape, and an unexpected
500 answers without closing the client's keep-alive connection.
"""

from __future__ import annotations

import socket
import uuid

import httpx
import jwt
import pytest

from autonomos.config import Settings
from autonomos.serve_apps.api.app import create_app
from tests.conftest import Tenant
from tests.helpers.api import api_routes, assert_error, fill
from tests.security.live_server import serve

HUGE = str(10**28)


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\xc3", "password": "x"}',  # not UTF-8
        b"\xff\xfe\xfd",
        b"[" * 100_000,  # nested past the parser's recursion limit
        b'{"email": ' * 20_000 + b"1" + b"}" * 20_000,
    ],
    ids=["bad-utf8-string", "bad-utf8-bytes", "deep-list", "deep-object"],
)
async def test_login_refuses_undecodable_json(api: httpx.AsyncClient, body: bytes) -> None:
    r = await api.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert_error(r, 422, "validation_error")


async def test_huge_integers_in_queries_are_4xx(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    spec = api.app.openapi()  # type: ignore[attr-defined]
    checked = 0
    for method, path in api_routes(api):
        if method != "GET":
            continue
        params = spec["paths"][path]["get"].get("parameters", [])
        for p in params:
            if p["in"] != "query" or p.get("schema", {}).get("type") != "integer":
                continue
            r = await api.get(fill(path), headers=tenant_a.headers, params={p["name"]: HUGE})
            assert 400 <= r.status_code < 500, (path, p["name"], r.status_code, r.text)
            checked += 1
    assert checked >= 3  # users' limit/offset at least


async def test_signed_token_with_a_non_uuid_subject_is_401(
    api: httpx.AsyncClient, settings: Settings, tenant_a: Tenant
) -> None:
    claims = jwt.decode(tenant_a.tokens["access_token"], options={"verify_signature": False})
    for sub in ("not-a-uuid", "", "0" * 40):
        forged = jwt.encode(
            {**claims, "sub": sub, "jti": uuid.uuid4().hex},
            settings.development_secret(),
            algorithm="HS256",
            headers={"kid": settings.jwt_kid},
        )
        r = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert_error(r, 401, "unauthorized")


def _exchange(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on ``sock``; the status and the body (by Content-Length)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65_536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    assert headers.get("connection", "").lower() != "close", headers
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65_536)
        assert chunk, "the server closed the connection mid-body"
        rest += chunk
    return int(lines[0].split()[1]), rest


def test_unexpected_500_keeps_the_connection(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    # Ahead of the dashboard's catch-all mount at "/", which would otherwise answer it.
    app.router.routes.insert(0, app.router.routes.pop())

    with serve(app) as url, socket.create_connection(url.removeprefix("http://").split(":")) as s:
        s.settimeout(30)
        status, body = _exchange(s, "/test-only/boom")
        assert status == 500 and b"internal_error" in body and b"a bug" not in body
        status, body = _exchange(s, "/healthz")  # the same connection still works
        assert status == 200
