"""Build the JWT key ring from Settings.

The active key signs; retired keys (``AUTONOMOS_JWT_RETIRED_KEYS``) only verify, so
rotating a key never logs anybody out: move the old key to the retired list, set a new
active key, and drop the retired one once its last tokens have expired.
"""

from __future__ import annotations

from pathlib import Path

from autonomos.auth.tokens import KeyRing, SigningKey
from autonomos.config import Settings, SettingsError


def _read(path: Path | None, what: str) -> bytes:
    if path is None:
        raise SettingsError(f"{what} is not set")
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise SettingsError(f"cannot read {what} ({path}): {e.strerror}") from None


def build_key_ring(settings: Settings) -> KeyRing:
    try:
        if settings.jwt_algorithm == "HS256":
            active = SigningKey.hmac(settings.jwt_kid, settings.development_secret())
        else:
            active = SigningKey.from_pem(
                settings.jwt_kid,
                settings.jwt_algorithm,
                _read(settings.jwt_private_key_file, "AUTONOMOS_JWT_PRIVATE_KEY_FILE"),
                _read(settings.jwt_public_key_file, "AUTONOMOS_JWT_PUBLIC_KEY_FILE"),
            )
        retired = []
        for spec in settings.retired_keys():
            kid = str(spec.get("kid", ""))
            if "secret" in spec:
                retired.append(SigningKey.hmac(kid, str(spec["secret"])))
            else:
                alg = spec.get("algorithm", settings.jwt_algorithm)
                if alg not in ("RS256", "ES256"):
                    raise SettingsError(f"retired key {kid!r}: unknown algorithm {alg!r}")
                pem = _read(Path(str(spec.get("public_key_file", ""))), f"retired key {kid!r}")
                retired.append(SigningKey.from_pem(kid, alg, None, pem))
    except ValueError as e:  # weak secret, bad PEM, duplicate kid...
        raise SettingsError(f"JWT keys: {e}") from None
    return KeyRing(active, retired, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
