"""Connection secrets are encrypted at rest and keys rotate without losing old secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from autonomos.config import Settings, SettingsError
from autonomos.store.secrets import SecretBox, SecretBoxError


def test_round_trip_and_ciphertext_hides_plaintext(tmp_path: Path) -> None:
    box = SecretBox.from_settings(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    token = box.encrypt({"password": "hunter2-very-secret"})
    assert "hunter2" not in token
    assert box.decrypt(token) == {"password": "hunter2-very-secret"}
    # the generated development key persists
    again = SecretBox.from_settings(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    assert again.decrypt(token)["password"] == "hunter2-very-secret"


def test_rotation_keeps_old_secrets_readable() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt({"k": "v"})
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == {"k": "v"}
    fresh = rotated_box.rotate(token)
    assert SecretBox([new]).decrypt(fresh) == {"k": "v"}
    with pytest.raises(SecretBoxError):
        SecretBox([new]).decrypt(token)


def test_bad_keys_and_tampering() -> None:
    with pytest.raises(SettingsError):
        SecretBox(["not-a-key"])
    box = SecretBox([Fernet.generate_key().decode()])
    token = box.encrypt({"a": 1})
    with pytest.raises(SecretBoxError):
        box.decrypt(token[:-4] + "AAAA")


def test_production_requires_keys(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SECRETS_KEYS"):
        Settings(
            _env_file=None,
            data_dir=tmp_path,
            environment="production",
            demo_mode=False,  # type: ignore[call-arg]
            jwt_secret=SecretStr("q7Lk2Pz9Xv4Rb8Nw1Hm6Tc3Yd5Gf0Js-Ua_Ee"),
        )
