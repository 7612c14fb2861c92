"""Source kinds by name. Connector modules are imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from autonomos.connectors.base import Connector, ConnectorError, FailureType
from autonomos.connectors.configs import CONFIGS, SourceConfig
from autonomos.connectors.edge import EdgePolicy

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


def config_model(source_type: str) -> type[SourceConfig]:
    """The configuration model of ``source_type`` (no connector module imported)."""
    try:
        return CONFIGS[source_type]
    except KeyError:
        raise ConnectorError(
            f"unknown source type {source_type!r}; known: {', '.join(SOURCE_TYPES)}",
            FailureType.CONFIGURATION,
        ) from None


def build_connector(source_type: str, config: Mapping[str, Any], edge: EdgePolicy) -> Connector:
    """Instantiate a connector under the tenant's edge policy; an invalid or refused
    configuration is a CONFIGURATION ConnectorError (the message never quotes a secret)."""
    cls = connector_class(source_type)
    try:
        return cls(config, edge=edge)
    except ConnectorError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise ConnectorError(
            f"invalid {source_type} configuration: {type(e).__name__}", FailureType.CONFIGURATION
        ) from None
