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


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket/prefix",
        "gs://bucket",
        "abfs://container@account.dfs.core.windows.net/prefix",
        "file:///mnt/shared/landing",
        "/var/lib/autonomos/landing",
    ],
)
def test_landing_url_accepts_folders_and_object_stores(tmp_path: Path, url: str) -> None:
    assert make(tmp_path, landing_url=url).landing_location == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://host/landing", "unsupported"),
        ("s3://AKIA:secret@bucket/x", "no credentials"),
        ("s3://bucket/x?endpoint_override=evil:9000", "no \\?query"),
        ("s3:///no-bucket", "no bucket"),
        ("abfs://account.dfs.core.windows.net/x", "names its container"),
        ("file://relative/path", "absolute path"),
    ],
)
def test_landing_url_refuses_what_it_cannot_use_safely(tmp_path: Path, url: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        make(tmp_path, landing_url=url)


def test_landing_keys_go_in_pairs_and_endpoint_is_host_only(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        make(tmp_path, landing_access_key_id="AKIA")
    with pytest.raises(ValidationError, match="host"):
        make(tmp_path, landing_endpoint_url="http://minio:9000/bucket")
    s = make(tmp_path, landing_endpoint_url="http://minio:9000/")
    assert s.landing_endpoint_url == "http://minio:9000"
    assert s.landing_location == str(tmp_path.resolve() / "landing")


def test_several_nodes_need_postgres_and_a_shared_landing_zone(tmp_path: Path) -> None:
    local = make(tmp_path)
    local.check_cluster(1)  # one node runs on the embedded defaults
    with pytest.raises(SettingsError) as err:
        local.check_cluster(2)
    message = str(err.value)
    assert "2 nodes" in message and "SQLite" in message and "AUTONOMOS_DATABASE_URL" in message
    assert "AUTONOMOS_LANDING_URL" in message
    pg = "postgresql+asyncpg://app@db:5432/autonomos"
    with pytest.raises(SettingsError, match="local folder") as err:
        make(tmp_path, database_url=pg, landing_url=str(tmp_path / "landing")).check_cluster(3)
    assert "SQLite" not in str(err.value)
    make(tmp_path, database_url=pg, landing_url="s3://bucket/landing").check_cluster(3)
    make(tmp_path, database_url=pg, landing_url="file:///mnt/nfs/landing").check_cluster(3)
