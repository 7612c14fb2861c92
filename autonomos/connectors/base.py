"""The connector protocol: ``check``, ``discover``, ``read``.

A connector is plain synchronous Python (no Ray import); the ConnectorActor runs it.
``read`` yields Arrow record batches and, after each batch it is safe to resume from, a
state message (the cursor). The caller persists the state in the same transaction as
the rows it acknowledges, so a crash resumes exactly after the last acknowledged batch.

Errors are data: every failure is a :class:`ConnectorError` with a failure type, and only
transient ones are retried. Messages must never contain secrets (use :func:`redact`).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from autonomos.common.errors import FailureType
from autonomos.connectors.errors import ConnectorError, redact
from autonomos.connectors.schema import StreamSchema

__all__ = [
    "Connector",
    "ConnectorError",
    "FailureType",
    "ReadItem",
    "RecordBatchMessage",
    "StateMessage",
    "redact",
]

if TYPE_CHECKING:
    from autonomos.connectors.configs import SourceConfig
    from autonomos.connectors.edge import EdgePolicy


@dataclass(frozen=True)
class RecordBatchMessage:
    batch: pa.RecordBatch


@dataclass(frozen=True)
class StateMessage:
    """Resume point after every batch yielded so far (JSON-serialisable)."""

    state: dict[str, Any]


ReadItem = RecordBatchMessage | StateMessage


class Connector(abc.ABC):
    """Base of every connector. ``config`` is already decrypted; keep it off logs.

    ``config`` is validated by the source type's model (``options``). ``edge`` is the
    tenant's edge policy: the platform always passes one (see ``registry``); ``None``
    trusts the configuration, for library use and protocol tests only.
    """

    kind: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]

    def __init__(self, config: Mapping[str, Any], *, edge: EdgePolicy | None = None) -> None:
        self.options = self.config_model.parse(config)  # ConnectorError when invalid
        self.config = dict(config)
        self.edge = edge
        if edge is not None:
            self.options.check_edge(edge)

    def secrets(self) -> list[str]:
        return self.options.secret_values()

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ConnectorError when the source cannot be reached or read."""

    @abc.abstractmethod
    def discover(self) -> list[StreamSchema]:
        """Streams with their schema, primary key and cursor field."""

    @abc.abstractmethod
    def read(self, stream: str, state: Mapping[str, Any] | None) -> Iterator[ReadItem]:
        """Batches of ``stream`` after ``state`` (None = from the start), with states."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
