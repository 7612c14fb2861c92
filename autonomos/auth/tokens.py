"""Access-token (JWT) issuing and verification with key rotation.

Verification is deliberately strict: the key is chosen by the header ``kid``
and the algorithm is pinned to *that key's* algorithm, never taken from the
token. This closes the classic ``alg: none`` and HS/RS key-confusion attacks,
where an attacker picks an algorithm that turns a public key into an HMAC
secret.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal, get_args

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from autonomos.auth.errors import AuthError

__all__ = ["AccessClaims", "Algorithm", "KeyRing", "SigningKey", "TokenError"]

Algorithm = Literal["HS256", "RS256", "ES256"]
_ALGORITHMS: frozenset[str] = frozenset(get_args(Algorithm))

_MIN_HMAC_SECRET_BYTES = 32  # RFC 7518 §3.2: key >= hash output size
_MIN_RSA_BITS = 2048
# Far above any legitimate access token; stops us base64/JSON-decoding
# megabytes of attacker input on every request.
_MAX_TOKEN_CHARS = 8192
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "tid", "role", "iat", "nbf", "exp", "jti"]
# Tokens this ring has verified, by their exact text (see KeyRing.decode).
_VERIFIED_CACHE_SIZE = 4096


class TokenError(AuthError):
    """Token rejected. The message is a short reason that is safe to show
    clients: it never contains the token, its claims' values, or key material.
    """


@dataclass(frozen=True)
class SigningKey:
    """One key of the ring, identified by ``kid``.

    ``signing_key`` is ``None`` for verify-only keys (e.g. a retired key whose
    private half has been destroyed). Key material is excluded from ``repr``
    so keys never leak into logs or tracebacks.
    """

    kid: str
    algorithm: Algorithm
    signing_key: Any = field(repr=False)
    verification_key: Any = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kid, str) or not self.kid:
            raise ValueError("kid must be a non-empty string")
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"unsupported algorithm; expected one of {sorted(_ALGORITHMS)}")
        if self.verification_key is None:
            raise ValueError("verification_key is required")

    @property
    def can_sign(self) -> bool:
        return self.signing_key is not None

    def verify_only(self) -> SigningKey:
        """Copy without the private half, for keys that must never sign again.

        For HS256 the secret stays as ``verification_key`` (HMAC is symmetric),
        so this only stops *this code* from signing with it.
        """
        return replace(self, signing_key=None)

    @classmethod
    def hmac(cls, kid: str, secret: str) -> SigningKey:
        """HS256 key from a shared secret of at least 32 bytes (UTF-8)."""
        if not isinstance(secret, str):
            raise TypeError("secret must be a str")
        raw = secret.encode("utf-8")
        if len(raw) < _MIN_HMAC_SECRET_BYTES:
            raise ValueError(f"HMAC secret must be at least {_MIN_HMAC_SECRET_BYTES} bytes")
        return cls(kid=kid, algorithm="HS256", signing_key=raw, verification_key=raw)

    @classmethod
    def from_pem(
        cls,
        kid: str,
        algorithm: str,
        private_pem: bytes | None,
        public_pem: bytes,
    ) -> SigningKey:
        """Asymmetric key from PEM. ``private_pem=None`` gives a verify-only key.

        ``algorithm`` is a plain ``str`` (``"RS256"`` or ``"ES256"``) because it
        usually comes from config; it is validated here, along with the key
        types, so a bad deployment config fails at startup with ``ValueError``
        (also for unparsable, encrypted or unsupported PEM), not on the first
        request.
        """
        alg: Literal["RS256", "ES256"]
        if algorithm == "RS256":
            alg = "RS256"
        elif algorithm == "ES256":
            alg = "ES256"
        else:
            raise ValueError("from_pem supports RS256 and ES256 only")
        try:
            public = load_pem_public_key(public_pem)
            private = (
                None if private_pem is None else load_pem_private_key(private_pem, password=None)
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # Don't chain: cryptography's messages can quote PEM content.
            raise ValueError(f"invalid PEM for key {kid!r}") from None
        _check_key_type(alg, public)
        if private is not None:
            _check_key_type(alg, private)
            if _spki(private.public_key()) != _spki(public):
                raise ValueError("private and public PEM are not a key pair")
        return cls(kid=kid, algorithm=alg, signing_key=private, verification_key=public)

    @classmethod
    def generate(cls, kid: str, algorithm: Algorithm) -> SigningKey:
        """Fresh key: 256-bit HS256 secret, RSA-2048, or EC P-256."""
        if algorithm == "HS256":
            return cls.hmac(kid, secrets.token_urlsafe(48))
        private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if algorithm == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=_MIN_RSA_BITS)
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unsupported algorithm; expected one of {sorted(_ALGORITHMS)}")
        return cls(
            kid=kid,
            algorithm=algorithm,
            signing_key=private,
            verification_key=private.public_key(),
        )


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _check_key_type(algorithm: str, key: object) -> None:
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            raise ValueError("RS256 requires an RSA key")
        if key.key_size < _MIN_RSA_BITS:
            raise ValueError(f"RSA key must be at least {_MIN_RSA_BITS} bits")
    elif algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            raise ValueError("ES256 requires an EC key")
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("ES256 requires the P-256 curve")


@dataclass(frozen=True)
class AccessClaims:
    """The verified contents of an access token."""

    sub: str
    tid: str  # tenant id, canonical UUID string
    role: str
    jti: str
    iat: int
    exp: int
    sid: str | None = None  # the login session (optional here; the API requires it)

    @cached_property
    def ids(self) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]:
        """(user, tenant, session) as UUIDs; ``TokenError`` if ``sub`` or ``sid`` is not
        one. Parsed once per token: :class:`KeyRing` hands out the claims it verified."""
        try:
            user_id = uuid.UUID(self.sub)
        except (ValueError, TypeError):
            raise TokenError("invalid sub claim") from None
        try:
            session_id = None if self.sid is None else uuid.UUID(self.sid)
        except (ValueError, TypeError):
            raise TokenError("invalid sid claim") from None
        return user_id, uuid.UUID(self.tid), session_id  # tid: canonical already


# pyjwt exception -> client-safe reason. Order matters: subclasses first
# (InvalidSignatureError is a DecodeError; all are InvalidTokenError).
_ERROR_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "invalid audience"),
    (jwt.InvalidIssuerError, "invalid issuer"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidIssuedAtError, "invalid iat claim"),
    (jwt.DecodeError, "malformed token"),
    (jwt.InvalidKeyError, "invalid key"),
)


def _reason(exc: Exception) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing required claim: {exc.claim}"
    for exc_type, reason in _ERROR_REASONS:
        if isinstance(exc, exc_type):
            return reason
    return "invalid token"


class KeyRing:
    """Signs with one active key; verifies with the active key and retired ones.

    Rotation: build a new ring with the new key active and the previous key in
    ``retired`` until every token it signed has expired, then drop it. Retired
    keys are stored verify-only, so they cannot sign even by mistake.

    A ring never changes after it is built, so it remembers the tokens it has
    verified (by their exact text, a bounded map): a client sends the same access
    token on every request, and pyjwt's decoding was a third of an authenticated
    request's time. Only the clock can turn a verified token bad (``exp``), so a
    remembered one is checked against it again; whether its user may still act is
    not the token's business (``session_state.py``).
    """

    def __init__(
        self,
        active: SigningKey,
        retired: Sequence[SigningKey] = (),
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 0,
    ) -> None:
        if not active.can_sign:
            raise ValueError("active key must have a signing key")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        if leeway_s < 0:
            raise ValueError("leeway_s must be >= 0")
        keys: dict[str, SigningKey] = {active.kid: active}
        for key in retired:
            if key.kid in keys:
                raise ValueError(f"duplicate kid {key.kid!r} in key ring")
            keys[key.kid] = key.verify_only()
        self._active = active
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._verified: dict[str, AccessClaims] = {}  # insertion order: oldest first

    @property
    def active_kid(self) -> str:
        return self._active.kid

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def issue(
        self,
        sub: str,
        tid: str,
        role: str,
        ttl_s: int,
        now: int | None = None,
        sid: str | None = None,
    ) -> str:
        """Sign an access token with the active key. ``now`` is unix seconds (for tests);
        ``sid`` names the login session the token belongs to."""
        if not isinstance(sub, str) or not sub:
            raise ValueError("sub must be a non-empty string")
        if not isinstance(role, str) or not role:
            raise ValueError("role must be a non-empty string")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be > 0")
        tenant = _canonical_uuid(tid)
        if tenant is None:
            raise ValueError("tid must be a UUID")
        issued_at = int(time.time()) if now is None else int(now)
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "tid": tenant,
            "role": role,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + int(ttl_s),
            "jti": uuid.uuid4().hex,
        }
        if sid is not None:
            payload["sid"] = sid
        key = self._active
        return jwt.encode(
            payload,
            key.signing_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        )

    def decode(self, token: str) -> AccessClaims:
        """Verify ``token`` and return its claims, or raise ``TokenError``."""
        if not isinstance(token, str) or not token:
            raise TokenError("malformed token")
        if len(token) > _MAX_TOKEN_CHARS:
            raise TokenError("token too large")
        known = self._verified.get(token)
        if known is not None:
            # pyjwt's own rule: expired once exp <= now - leeway
            if known.exp > time.time() - self.leeway_s:
                return known
            self._verified.pop(token, None)  # and let pyjwt say why below
        claims = self._verify(token)
        self._verified[token] = claims
        while len(self._verified) > _VERIFIED_CACHE_SIZE:
            try:
                del self._verified[next(iter(self._verified))]
            except (KeyError, RuntimeError, StopIteration):  # another thread got there
                break
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed token") from None
        except (ValueError, TypeError):
            raise TokenError("malformed token") from None

        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("missing key id")
        key = self._keys.get(kid)
        if key is None:
            raise TokenError("unknown key id")
        # Pin the algorithm to the key, never to the token: rejects "none"
        # and HS256-with-an-RSA-public-key confusion before any crypto runs.
        if header.get("alg") != key.algorithm:
            raise TokenError("algorithm not allowed")

        try:
            payload = jwt.decode(
                token,
                key.verification_key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={
                    "require": list(_REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError(_reason(exc)) from None
        except (ValueError, TypeError):
            raise TokenError("malformed token") from None
        return _claims_from_payload(payload)


def _canonical_uuid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _claims_from_payload(payload: dict[str, Any]) -> AccessClaims:
    """Type-check claims pyjwt does not (it only checks presence for custom ones)."""
    strings: dict[str, str] = {}
    for name in ("sub", "role", "jti"):
        value = payload.get(name)
        if not isinstance(value, str) or not value:
            raise TokenError(f"invalid {name} claim")
        strings[name] = value
    tid = _canonical_uuid(payload.get("tid"))
    if tid is None:
        raise TokenError("invalid tid claim")
    sid = payload.get("sid")
    if sid is not None and (not isinstance(sid, str) or not sid):
        raise TokenError("invalid sid claim")
    ints: dict[str, int] = {}
    for name in ("iat", "exp"):
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TokenError(f"invalid {name} claim")
        ints[name] = value
    return AccessClaims(
        sub=strings["sub"],
        tid=tid,
        role=strings["role"],
        jti=strings["jti"],
        iat=ints["iat"],
        exp=ints["exp"],
        sid=sid,
    )
