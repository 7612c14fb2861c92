"""Connectors: one module per source kind, all speaking the protocol in ``base``."""

from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    ReadItem,
    RecordBatchMessage,
    SnapshotMessage,
    StateMessage,
)
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

__all__ = [
    "Connector",
    "ConnectorError",
    "FailureType",
    "FieldSpec",
    "FieldType",
    "ReadItem",
    "RecordBatchMessage",
    "SnapshotMessage",
    "StateMessage",
    "StreamSchema",
]
