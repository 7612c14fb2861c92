"""Source kinds by name. Connector modules are imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from autonomos.connectors.base import Connector, ConnectorError, FailureType

_KINDS: dict[str, str] = {
    "files": "autonomos.connectors.files:FilesConnector",
    "postgres": "autonomos.connectors.postgres:PostgresConnector",
    "salesforce": "autonomos.connectors.salesforce:SalesforceConnector",
    "mongodb": "autonomos.connectors.mongodb:MongoConnector",
}

SOURCE_TYPES = tuple(sorted(_KINDS))


def connector_class(source_type: str) -> type[Connector]:
    try:
        module, name = _KINDS[source_type].split(":")
    except KeyError:
        raise ConnectorError(
            f"unknown source type {source_type!r}; known: {', '.join(SOURCE_TYPES)}",
            FailureType.CONFIGURATION,
        ) from None
    cls: type[Connector] = getattr(importlib.import_module(module), name)
    return cls


def build_connector(source_type: str, config: Mapping[str, Any]) -> Connector:
    """Instantiate a connector; invalid configuration is a CONFIGURATION ConnectorError."""
    cls = connector_class(source_type)
    try:
        return cls(config)
    except ConnectorError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise ConnectorError(
            f"invalid {source_type} configuration: {e}", FailureType.CONFIGURATION
        ) from None


def split_secrets(
    source_type: str, config: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain config, secrets) — secrets are stored encrypted, never in plain config."""
    secret_keys = set(connector_class(source_type).secret_fields)
    plain = {k: v for k, v in config.items() if k not in secret_keys}
    secrets = {k: v for k, v in config.items() if k in secret_keys}
    return plain, secrets
