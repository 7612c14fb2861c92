"""Forged, expired and confused tokens are all 401 at the API, for HS256 and RS256 apps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from autonomos.config import Settings
from autonomos.serve_apps.api.app import create_app
from tests.conftest import Tenant, register
from tests.helpers.api import assert_error


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, sign: callable = lambda _: b"") -> str:  # type: ignore[valid-type]
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def hs(secret: bytes) -> callable:  # type: ignore[valid-type]
    return lambda msg: hmac.new(secret, msg, hashlib.sha256).digest()


@pytest.fixture(scope="module")
def rsa_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    d = tmp_path_factory.mktemp("rsa")
    priv, pub = d / "jwt.key", d / "jwt.pub"
    priv.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return priv, pub


@pytest.fixture(scope="module")
async def rs_api(
    settings: Settings, rsa_files: tuple[Path, Path]
) -> AsyncIterator[httpx.AsyncClient]:
    rs = settings.model_copy(
        update={
            "jwt_algorithm": "RS256",
            "jwt_private_key_file": rsa_files[0],
            "jwt_public_key_file": rsa_files[1],
            "jwt_kid": "rs1",
        }
    )
    app = create_app(rs)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://rs"
        ) as c:
            yield c


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def _refused(client: httpx.AsyncClient, token: str) -> None:
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 401, "unauthorized")


async def test_hs256_attacks(api: httpx.AsyncClient, settings: Settings, tenant_a: Tenant) -> None:
    good = tenant_a.tokens["access_token"]
    claims, header = _claims(good), jwt.get_unverified_header(good)
    secret = settings.development_secret().encode()
    now = int(time.time())
    assert (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).status_code == 200
    # control: a hand-forged token with the real secret passes, so the refusals mean something
    assert (
        await api.get(
            "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {forge(header, claims, hs(secret))}"},
        )
    ).status_code == 200
    attacks = {
        "alg none": forge({"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims),
        "wrong signature": forge(header, claims, hs(b"w" * 40)),
        "expired": forge(
            header, {**claims, "exp": now - 10, "iat": now - 1000, "nbf": now - 1000}, hs(secret)
        ),
        "not yet valid": forge(header, {**claims, "nbf": now + 600}, hs(secret)),
        "wrong aud": forge(header, {**claims, "aud": "someone-else"}, hs(secret)),
        "wrong iss": forge(header, {**claims, "iss": "evil"}, hs(secret)),
        "unknown kid": forge({**header, "kid": "k999"}, claims, hs(secret)),
        "no kid": forge({"alg": "HS256", "typ": "JWT"}, claims, hs(secret)),
        "missing tid": forge(header, {k: v for k, v in claims.items() if k != "tid"}, hs(secret)),
        "bad role": forge(header, {**claims, "role": "superuser"}, hs(secret)),
        "garbage": "not.a.jwt",
    }
    # tampered tid: payload changed, original signature kept
    h, _, sig = good.split(".")
    tampered = {**claims, "tid": str(uuid.uuid4())}
    attacks["tampered tid"] = f"{h}.{b64(json.dumps(tampered).encode())}.{sig}"
    for name, token in attacks.items():
        r = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, (name, r.text)


async def test_rs256_login_and_confusion(
    rs_api: httpx.AsyncClient, rsa_files: tuple[Path, Path]
) -> None:
    t = await register(rs_api, "rs")
    good = t.tokens["access_token"]
    header = jwt.get_unverified_header(good)
    assert header["alg"] == "RS256" and header["kid"] == "rs1"
    assert (await rs_api.get("/api/v1/auth/me", headers=t.headers)).status_code == 200
    claims = _claims(good)
    public_pem = rsa_files[1].read_bytes()
    # HS/RS confusion: HMAC keyed with the public key the server verifies RS256 with
    await _refused(rs_api, forge({**header, "alg": "HS256"}, claims, hs(public_pem)))
    await _refused(rs_api, forge({**header, "alg": "none"}, claims))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await _refused(rs_api, jwt.encode(claims, other, algorithm="RS256", headers={"kid": "rs1"}))


async def test_key_rotation_keeps_old_tokens_valid(
    settings: Settings, tenant_a: Tenant, tmp_path: Path
) -> None:
    old_secret = settings.development_secret()
    rotated = settings.model_copy(
        update={
            "jwt_secret": SecretStr(uuid.uuid4().hex + uuid.uuid4().hex),
            "jwt_kid": "k2",
            "jwt_retired_keys": json.dumps([{"kid": settings.jwt_kid, "secret": old_secret}]),
        }
    )
    for retired, expected in (
        (rotated, 200),
        (rotated.model_copy(update={"jwt_retired_keys": "[]"}), 401),
    ):
        app = create_app(retired)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://r"
            ) as c:
                r = await c.get("/api/v1/auth/me", headers=tenant_a.headers)
                assert r.status_code == expected, r.text
                if expected == 200:
                    login = await c.post(
                        "/api/v1/auth/login",
                        json={"email": tenant_a.email, "password": tenant_a.password},
                    )
                    assert jwt.get_unverified_header(login.json()["access_token"])["kid"] == "k2"
