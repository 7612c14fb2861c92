"""Per-source-type configuration models (pydantic) and secrets inside configurations."""

from autonomos.connectors.configs.base import (
    MASK,
    SourceConfig,
    join,
    merge_update,
    public,
    split,
)
from autonomos.connectors.configs.databases import MongoConfig, PostgresConfig
from autonomos.connectors.configs.files import FilesConfig
from autonomos.connectors.configs.salesforce import SalesforceConfig

CONFIGS: dict[str, type[SourceConfig]] = {
    "files": FilesConfig,
    "postgres": PostgresConfig,
    "salesforce": SalesforceConfig,
    "mongodb": MongoConfig,
}

__all__ = [
    "CONFIGS",
    "MASK",
    "FilesConfig",
    "MongoConfig",
    "PostgresConfig",
    "SalesforceConfig",
    "SourceConfig",
    "join",
    "merge_update",
    "public",
    "split",
]
