"""Per-source-type configuration models: secrets by path, masking, endpoints, updates."""

from __future__ import annotations

import pytest

from autonomos.connectors.base import ConnectorError
from autonomos.connectors.configs import (
    MASK,
    FilesConfig,
    MongoConfig,
    PostgresConfig,
    SalesforceConfig,
    join,
    merge_update,
    public,
    split,
)


def test_files_object_store_secrets_are_split_and_masked() -> None:
    config = {
        "path": "s3://bucket/exports/",
        "storage_options": {
            "key": "AKIAEXAMPLE",
            "secret": "s3-secret",
            "endpoint_url": "https://minio.example.com",
        },
    }
    model = FilesConfig.parse(config)
    plain, secrets = split(model, config)
    assert secrets == {"storage_options.key": "AKIAEXAMPLE", "storage_options.secret": "s3-secret"}
    assert plain["storage_options"] == {
        "key": MASK,
        "secret": MASK,
        "endpoint_url": "https://minio.example.com",
    }
    assert join(plain, secrets) == config
    assert public(plain, secrets) == plain
    assert {str(e) for e in model.endpoints()} == {"s3://bucket", "https://minio.example.com"}
    assert set(model.secret_values()) == {"AKIAEXAMPLE", "s3-secret"}


@pytest.mark.parametrize(
    "config",
    [
        {"path": "gs://b/x", "storage_options": {"token": "google_default"}},
        {"path": "az://c/x", "storage_options": {"account_name": "acct"}},
        {"path": "az://c/x", "storage_options": {"account_name": "acct", "connection_string": "x"}},
        {"path": "s3://b/x", "storage_options": {"key": "k"}},
        {"path": "simplecache::s3://b/x"},
        {"path": "memory://x"},
    ],
)
def test_files_refuses_ambient_credentials_and_unknown_schemes(config: dict) -> None:
    with pytest.raises(ConnectorError):
        FilesConfig.parse(config)


def test_legacy_rows_without_masks_are_still_shown_masked() -> None:
    plain = {"schemas": ["public"]}  # an older release removed the secret keys
    secrets = {"url": "postgresql://u:pw@db/x", "password": "pw"}
    assert public(plain, secrets) == {"schemas": ["public"], "url": MASK, "password": MASK}


def test_merge_update_keeps_masked_secrets_and_tracks_resent_ones() -> None:
    model = PostgresConfig.parse({"url": "postgresql://u@db1/x", "password": "pw"})
    plain, secrets = split(model, {"url": "postgresql://u@db1/x", "password": "pw"})
    merged, resent = merge_update(plain, secrets, {"password": MASK, "batch_size": 5})
    assert merged["password"] == "pw" and merged["url"] == "postgresql://u@db1/x"
    assert resent == set()
    merged, resent = merge_update(plain, secrets, {"url": "postgresql://u@db2/x"})
    assert resent == {"url"} and merged["password"] == "pw"


def test_endpoints() -> None:
    sf = SalesforceConfig.parse({"client_id": "i", "client_secret": "s"})
    assert {str(e) for e in sf.endpoints()} == {"https://login.salesforce.com"}
    assert sf.api_version == "v60.0"
    mongo = MongoConfig.parse(
        {"uri": "mongodb://u:p@a.example.com,b.example.com:27018", "database": "d"}
    )
    assert {str(e) for e in mongo.endpoints()} == {
        "mongodb://a.example.com:27017",
        "mongodb://b.example.com:27018",
    }
    pg = PostgresConfig.parse({"url": "postgresql+asyncpg://u@DB.example.com/x"})
    assert {str(e) for e in pg.endpoints()} == {"postgresql://db.example.com:5432"}


def test_errors_never_quote_secrets() -> None:
    with pytest.raises(ConnectorError) as err:
        PostgresConfig.parse({"url": "postgresql://u:Secr3t-pw@db/x?sslkey=/etc/k", "password": 5})
    assert "Secr3t-pw" not in str(err.value) and "sslkey" in str(err.value)
