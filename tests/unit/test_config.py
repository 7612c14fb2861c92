"""Settings refuse insecure production configs and keep a generated dev secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from autonomos.auth.keys import build_key_ring
from autonomos.config import Settings, SettingsError


def make(tmp_path: Path, **kw: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **kw)  # type: ignore[call-arg]


@pytest.mark.parametrize("secret", [None, "short", "a" * 64])
def test_production_refuses_missing_or_weak_secret(tmp_path: Path, secret: str | None) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make(tmp_path, environment="production", demo_mode=False, jwt_secret=secret)


def test_production_refuses_demo_mode(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DEMO_MODE"):
        make(tmp_path, environment="production", jwt_secret="Zx9" * 20)


def test_production_rs256_needs_key_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="KEY_FILE"):
        make(tmp_path, environment="production", demo_mode=False, jwt_algorithm="RS256")


def test_production_accepts_strong_secret(tmp_path: Path) -> None:
    s = make(
        tmp_path,
        environment="production",
        demo_mode=False,
        jwt_secret="q7Lk2Pz9Xv4Rb8Nw1Hm6Tc3Yd5Gf0Js-Ua_Ee",
        secrets_keys=Fernet.generate_key().decode(),
    )
    assert build_key_ring(s).active_kid == "k1"
    assert not (tmp_path / "jwt_secret").exists()


def test_development_generates_and_persists_secret(tmp_path: Path) -> None:
    first = make(tmp_path).development_secret()
    assert len(first) >= 32 and (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600
    assert make(tmp_path).development_secret() == first


def test_env_prefix_and_data_dir_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMOS_SERVE_PORT", "9123")
    monkeypatch.chdir(tmp_path)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.serve_port == 9123 and s.data_dir == tmp_path / ".autonomos"
    assert s.app_database_url == f"sqlite+aiosqlite:///{tmp_path / '.autonomos' / 'autonomos.db'}"


def test_ray_port_cannot_be_redis_port(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="Redis"):
        make(tmp_path, ray_port=6379)


def test_bad_retired_keys(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="RETIRED_KEYS"):
        build_key_ring(make(tmp_path, jwt_retired_keys="{not json"))
    with pytest.raises(SettingsError, match="JWT keys"):
        build_key_ring(make(tmp_path, jwt_retired_keys='[{"kid": "old", "secret": "short"}]'))


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [n for n in Settings.model_fields if f"`AUTONOMOS_{n.upper()}`" not in readme]
    assert missing == []
