"""Encryption at rest for connection secrets (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``AUTONOMOS_SECRETS_KEYS`` (comma-separated Fernet keys, newest first, so
a key can be rotated: new secrets use the first key, old ones still decrypt). In
development a key is generated once and kept in the data dir (mode 0600).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from autonomos.config import Settings, SettingsError


class SecretBoxError(Exception):
    """A ciphertext could not be decrypted (wrong key or tampered); never shows plaintext."""


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SettingsError("at least one secrets key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError):
            raise SettingsError(
                "AUTONOMOS_SECRETS_KEYS must hold Fernet keys (32 url-safe base64 bytes)"
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        return cls(settings.secrets_keys_list())

    def encrypt(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except (InvalidToken, ValueError):
            raise SecretBoxError(
                "stored secret cannot be decrypted with the configured keys"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key."""
        return self._fernet.rotate(token.encode()).decode()
