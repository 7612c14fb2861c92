"""KeyRing JWT issue/decode, including the classic JWT attacks and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from autonomos.auth.tokens import AccessClaims, KeyRing, SigningKey, TokenError

ISS = "https://auth.autonomos.test"
AUD = "autonomos-api"
TENANT = str(uuid.uuid4())
HS_SECRET = "x" * 32

# Asymmetric key generation is the slow part; do it once per module.
RS_KEY = SigningKey.generate("rs-1", "RS256")
ES_KEY = SigningKey.generate("es-1", "ES256")
HS_KEY = SigningKey.hmac("hs-1", HS_SECRET)


def ring(active: SigningKey, retired: tuple[SigningKey, ...] = (), **kw: Any) -> KeyRing:
    return KeyRing(active, retired, issuer=ISS, audience=AUD, **kw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def valid_payload(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISS,
        "aud": AUD,
        "sub": "user-1",
        "tid": TENANT,
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    payload.update(overrides)
    return payload


def hs_sign(payload: dict[str, Any], *, kid: str | None = "hs-1", secret: str = HS_SECRET) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers)


def assert_rejected(keyring: KeyRing, token: str, reason: str | None = None) -> None:
    with pytest.raises(TokenError) as excinfo:
        keyring.decode(token)
    message = str(excinfo.value)
    if token:
        assert token not in message
    if reason is not None:
        assert reason in message


# --- round trips -----------------------------------------------------------


@pytest.mark.parametrize("key", [HS_KEY, RS_KEY, ES_KEY], ids=lambda k: k.algorithm)
def test_round_trip(key: SigningKey) -> None:
    keyring = ring(key)
    token = keyring.issue("user-1", TENANT, "member", ttl_s=300, now=None)
    header = jwt.get_unverified_header(token)
    assert header["kid"] == key.kid
    assert header["alg"] == key.algorithm

    claims = keyring.decode(token)
    assert isinstance(claims, AccessClaims)
    assert (claims.sub, claims.tid, claims.role) == ("user-1", TENANT, "member")
    assert claims.exp - claims.iat == 300
    assert len(claims.jti) == 32 and int(claims.jti, 16) >= 0


def test_payload_has_all_required_claims() -> None:
    token = ring(HS_KEY).issue("u", TENANT, "member", ttl_s=60, now=1_700_000_000)
    payload = json.loads(unb64url(token.split(".")[1]))
    assert payload == {
        "iss": ISS,
        "aud": AUD,
        "sub": "u",
        "tid": TENANT,
        "role": "member",
        "iat": 1_700_000_000,
        "nbf": 1_700_000_000,
        "exp": 1_700_000_060,
        "jti": payload["jti"],
    }


def test_jti_unique_per_token() -> None:
    keyring = ring(HS_KEY)
    jtis = {keyring.decode(keyring.issue("u", TENANT, "r", ttl_s=60)).jti for _ in range(5)}
    assert len(jtis) == 5


def test_tid_is_canonicalised() -> None:
    keyring = ring(HS_KEY)
    claims = keyring.decode(keyring.issue("u", TENANT.upper(), "r", ttl_s=60))
    assert claims.tid == TENANT


def test_ids_are_parsed_once_per_verified_token() -> None:
    keyring = ring(HS_KEY)
    user, session = uuid.uuid4(), uuid.uuid4()
    token = keyring.issue(str(user).upper(), TENANT, "member", ttl_s=60, sid=str(session))
    claims = keyring.decode(token)
    assert claims.ids == (user, uuid.UUID(TENANT), session)
    again = keyring.decode(token)  # the remembered claims, with their ids
    assert again is claims and again.ids is claims.ids
    no_session = keyring.decode(keyring.issue(str(user), TENANT, "member", ttl_s=60))
    assert no_session.ids == (user, uuid.UUID(TENANT), None)


@pytest.mark.parametrize(
    ("sub", "sid", "reason"),
    [("user-1", None, "invalid sub claim"), (str(uuid.uuid4()), "s-1", "invalid sid claim")],
)
def test_ids_of_a_non_uuid_claim_are_a_token_error(sub: str, sid: str | None, reason: str) -> None:
    keyring = ring(HS_KEY)
    claims = keyring.decode(keyring.issue(sub, TENANT, "member", ttl_s=60, sid=sid))
    with pytest.raises(TokenError, match=reason):
        claims.ids


# --- attacks and invalid tokens ---------------------------------------------


def test_alg_none_rejected() -> None:
    header = b64url_json({"alg": "none", "typ": "JWT", "kid": "hs-1"})
    token = f"{header}.{b64url_json(valid_payload())}."
    assert_rejected(ring(HS_KEY), token, "algorithm not allowed")


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
def test_alg_none_case_variants_rejected(alg: str) -> None:
    header = b64url_json({"alg": alg, "typ": "JWT", "kid": "hs-1"})
    token = f"{header}.{b64url_json(valid_payload())}."
    assert_rejected(ring(HS_KEY), token)


def test_hs_rs_key_confusion_rejected() -> None:
    """Token HMAC-signed with the RSA *public* PEM as secret, claiming the RS kid."""
    public_pem = RS_KEY.verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url_json({"alg": "HS256", "typ": "JWT", "kid": RS_KEY.kid})
    body = b64url_json(valid_payload())
    signing_input = f"{header}.{body}".encode()
    signature = b64url(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    token = f"{header}.{body}.{signature}"
    assert_rejected(ring(RS_KEY), token, "algorithm not allowed")


def test_header_alg_mismatch_between_asymmetric_algs_rejected() -> None:
    token = jwt.encode(
        valid_payload(), ES_KEY.signing_key, algorithm="ES256", headers={"kid": RS_KEY.kid}
    )
    assert_rejected(ring(RS_KEY, (ES_KEY,)), token, "algorithm not allowed")


@pytest.mark.parametrize("key", [HS_KEY, RS_KEY, ES_KEY], ids=lambda k: k.algorithm)
def test_wrong_signature_rejected(key: SigningKey) -> None:
    # Same kid and algorithm, different key material.
    impostor = SigningKey.generate(key.kid, key.algorithm)
    token = ring(impostor).issue("u", TENANT, "admin", ttl_s=60)
    assert_rejected(ring(key), token, "invalid signature")


def test_wrong_hmac_secret_rejected() -> None:
    token = hs_sign(valid_payload(), secret="y" * 32)
    assert_rejected(ring(HS_KEY), token, "invalid signature")


def test_signature_stripped_rejected() -> None:
    token = ring(HS_KEY).issue("u", TENANT, "r", ttl_s=60)
    head, body, _ = token.split(".")
    assert_rejected(ring(HS_KEY), f"{head}.{body}.")


def test_expired_rejected() -> None:
    keyring = ring(HS_KEY)
    token = keyring.issue("u", TENANT, "r", ttl_s=60, now=int(time.time()) - 3600)
    assert_rejected(keyring, token, "token expired")


def test_leeway_tolerates_small_clock_skew() -> None:
    now = int(time.time())
    token = ring(HS_KEY).issue("u", TENANT, "r", ttl_s=60, now=now - 70)
    assert_rejected(ring(HS_KEY), token, "token expired")
    assert ring(HS_KEY, leeway_s=30).decode(token).sub == "u"


def test_not_yet_valid_rejected() -> None:
    now = int(time.time())
    token = hs_sign(valid_payload(iat=now, nbf=now + 600, exp=now + 1200))
    assert_rejected(ring(HS_KEY), token, "not yet valid")


def test_issued_in_future_rejected() -> None:
    keyring = ring(HS_KEY)
    token = keyring.issue("u", TENANT, "r", ttl_s=60, now=int(time.time()) + 600)
    assert_rejected(keyring, token, "not yet valid")


def test_wrong_audience_rejected() -> None:
    token = KeyRing(HS_KEY, issuer=ISS, audience="other-api").issue("u", TENANT, "r", ttl_s=60)
    assert_rejected(ring(HS_KEY), token, "invalid audience")


def test_wrong_issuer_rejected() -> None:
    token = KeyRing(HS_KEY, issuer="https://evil", audience=AUD).issue("u", TENANT, "r", ttl_s=60)
    assert_rejected(ring(HS_KEY), token, "invalid issuer")


@pytest.mark.parametrize("key", [HS_KEY, RS_KEY, ES_KEY], ids=lambda k: k.algorithm)
def test_tampered_tid_rejected(key: SigningKey) -> None:
    keyring = ring(key)
    token = keyring.issue("u", TENANT, "member", ttl_s=60)
    head, body, sig = token.split(".")
    payload = json.loads(unb64url(body))
    payload["tid"] = str(uuid.uuid4())
    tampered = f"{head}.{b64url_json(payload)}.{sig}"
    assert_rejected(keyring, tampered, "invalid signature")


def test_unknown_kid_rejected() -> None:
    token = hs_sign(valid_payload(), kid="nope")
    assert_rejected(ring(HS_KEY), token, "unknown key id")


def test_missing_kid_rejected() -> None:
    token = hs_sign(valid_payload(), kid=None)
    assert_rejected(ring(HS_KEY), token, "missing key id")


def test_non_string_kid_rejected() -> None:
    header = b64url_json({"alg": "HS256", "typ": "JWT", "kid": 1})
    body = b64url_json(valid_payload())
    sig = b64url(hmac.new(HS_SECRET.encode(), f"{header}.{body}".encode(), "sha256").digest())
    assert_rejected(ring(HS_KEY), f"{header}.{body}.{sig}")


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "tid", "role", "iat", "nbf", "exp", "jti"])
def test_missing_required_claim_rejected(claim: str) -> None:
    payload = valid_payload()
    del payload[claim]
    assert_rejected(ring(HS_KEY), hs_sign(payload))


def test_missing_custom_claim_reason_names_it() -> None:
    payload = valid_payload()
    del payload["tid"]
    assert_rejected(ring(HS_KEY), hs_sign(payload), "missing required claim: tid")


@pytest.mark.parametrize(
    "overrides",
    [
        {"tid": "not-a-uuid"},
        {"tid": 123},
        {"role": ["admin"]},
        {"role": ""},
        {"sub": 42},
        {"jti": 7},
        {"exp": "soon"},
        {"iat": True},
    ],
    ids=repr,
)
def test_bad_claim_types_rejected(overrides: dict[str, Any]) -> None:
    assert_rejected(ring(HS_KEY), hs_sign(valid_payload(**overrides)))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "...", "eyJ.eyJ.sig", "x" * 10_000, "ü.ü.ü"],
    ids=lambda t: t[:12] or "empty",
)
def test_malformed_input_rejected(token: str) -> None:
    assert_rejected(ring(HS_KEY), token)


def test_non_string_input_rejected() -> None:
    with pytest.raises(TokenError):
        ring(HS_KEY).decode(b"a.b.c")  # type: ignore[arg-type]


def test_error_message_never_leaks_key() -> None:
    token = hs_sign(valid_payload(), secret="y" * 32)
    with pytest.raises(TokenError) as excinfo:
        ring(HS_KEY).decode(token)
    assert HS_SECRET not in str(excinfo.value)
    assert HS_SECRET not in repr(HS_KEY)


# --- remembered verifications -------------------------------------------------


def test_a_remembered_token_still_expires() -> None:
    """A verified token is remembered, yet the clock is checked again on every use."""
    keyring = ring(HS_KEY)
    token = keyring.issue("u", TENANT, "r", ttl_s=60, now=int(time.time()) - 59)
    assert keyring.decode(token).sub == "u"
    assert keyring.decode(token) is keyring.decode(token)  # no second verification
    time.sleep(1.1)
    assert_rejected(keyring, token, "token expired")
    assert_rejected(keyring, token, "token expired")  # forgotten, and still refused


def test_a_remembered_token_does_not_vouch_for_a_tampered_copy() -> None:
    keyring = ring(HS_KEY)
    token = keyring.issue("u", TENANT, "admin", ttl_s=60)
    assert keyring.decode(token).role == "admin"
    head, body, sig = token.split(".")
    forged = b64url_json({**json.loads(unb64url(body)), "role": "owner"})
    assert_rejected(keyring, f"{head}.{forged}.{sig}", "invalid signature")
    assert_rejected(keyring, f"{head}.{body}.{sig[:-2]}AA")
    assert keyring.decode(token).role == "admin"


def test_the_memory_of_verified_tokens_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from autonomos.auth import tokens

    monkeypatch.setattr(tokens, "_VERIFIED_CACHE_SIZE", 3)
    keyring = ring(HS_KEY)
    issued = [keyring.issue(f"u{i}", TENANT, "r", ttl_s=60) for i in range(5)]
    assert [keyring.decode(t).sub for t in issued] == [f"u{i}" for i in range(5)]
    assert list(keyring._verified) == issued[2:]  # the oldest were dropped


# --- rotation ----------------------------------------------------------------


@pytest.mark.parametrize("old", [HS_KEY, RS_KEY, ES_KEY], ids=lambda k: k.algorithm)
def test_rotation_old_tokens_verify_until_key_dropped(old: SigningKey) -> None:
    new = SigningKey.generate("new-1", "ES256")
    token = ring(old).issue("u", TENANT, "r", ttl_s=300)

    rotated = ring(new, (old,))
    assert rotated.decode(token).sub == "u"
    # New tokens are signed by the new key.
    assert jwt.get_unverified_header(rotated.issue("u", TENANT, "r", ttl_s=60))["kid"] == "new-1"

    assert_rejected(ring(new), token, "unknown key id")


def test_retired_key_never_signs() -> None:
    rotated = ring(ES_KEY, (RS_KEY,))
    for _ in range(3):
        header = jwt.get_unverified_header(rotated.issue("u", TENANT, "r", ttl_s=60))
        assert header["kid"] == ES_KEY.kid


def test_verify_only_key_from_pem_can_be_retired() -> None:
    public_pem = RS_KEY.verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    old_verify_only = SigningKey.from_pem(RS_KEY.kid, "RS256", None, public_pem)
    assert not old_verify_only.can_sign
    token = ring(RS_KEY).issue("u", TENANT, "r", ttl_s=60)
    assert ring(ES_KEY, (old_verify_only,)).decode(token).tid == TENANT
    with pytest.raises(ValueError):
        ring(old_verify_only)  # cannot be the active (signing) key


def test_duplicate_kid_rejected() -> None:
    with pytest.raises(ValueError):
        ring(HS_KEY, (SigningKey.generate(HS_KEY.kid, "HS256"),))


# --- key construction --------------------------------------------------------


def test_hmac_secret_too_short_rejected() -> None:
    with pytest.raises(ValueError):
        SigningKey.hmac("k", "x" * 31)


def test_from_pem_round_trip() -> None:
    private_pem = RS_KEY.signing_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    public_pem = RS_KEY.verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    key = SigningKey.from_pem("pem-1", "RS256", private_pem, public_pem)
    keyring = ring(key)
    assert keyring.decode(keyring.issue("u", TENANT, "r", ttl_s=60)).sub == "u"


def test_from_pem_rejects_mismatched_pair_and_wrong_type() -> None:
    rs_private = RS_KEY.signing_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    other_public = SigningKey.generate("x", "RS256").verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    es_public = ES_KEY.verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "RS256", rs_private, other_public)
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "RS256", None, es_public)
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "ES256", None, other_public)


def test_issue_validates_inputs() -> None:
    keyring = ring(HS_KEY)
    with pytest.raises(ValueError):
        keyring.issue("u", "not-a-uuid", "r", ttl_s=60)
    with pytest.raises(ValueError):
        keyring.issue("u", TENANT, "r", ttl_s=0)
    with pytest.raises(ValueError):
        keyring.issue("", TENANT, "r", ttl_s=60)


def test_from_pem_bad_input_raises_value_error() -> None:
    """Config errors must surface as ValueError (callers map it to a settings error)."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption

    public_pem = RS_KEY.verification_key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    encrypted_private = RS_KEY.signing_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw")
    )
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "RS256", None, b"-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "RS256", encrypted_private, public_pem)
    with pytest.raises(ValueError):
        SigningKey.from_pem("k", "HS256", None, public_pem)
