"""The connector protocol: ``check``, ``discover``, ``read``.

A connector is plain synchronous Python (no Ray import); the ConnectorActor runs it.
``read`` yields Arrow record batches and, after each batch it is safe to resume from, a
state message (the cursor). The caller persists the state in the same transaction as
the rows it acknowledges, so a crash resumes exactly after the last acknowledged batch.

Complete snapshots: a connector that re-reads a stream in full (a files export read
again, a full-refresh table) tags each batch with the *part* of the stream it comes from
and the *generation* of that part's full read (kept in its state, so a read resumed
after a crash stays in the same generation), and, once every row of the stream as it is
now has been yielded and acknowledged, yields a :class:`SnapshotMessage` naming the
generation of every part. Rows landed in any other generation (or in a part that is
gone) are no longer in the source: the platform removes them from the views. A read
that filters rows (a cursor) or skips what it could not read must not yield one.

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
    "SnapshotMessage",
    "StateMessage",
    "redact",
]

if TYPE_CHECKING:
    from autonomos.connectors.configs import SourceConfig
    from autonomos.connectors.edge import EdgePolicy


@dataclass(frozen=True)
class RecordBatchMessage:
    batch: pa.RecordBatch
    part: str | None = None  # the part of the stream it comes from (a file; "" for all)
    generation: str | None = None  # which full read of that part (None: not a full read)


@dataclass(frozen=True)
class StateMessage:
    """Resume point after every batch yielded so far (JSON-serialisable)."""

    state: dict[str, Any]


@dataclass(frozen=True)
class SnapshotMessage:
    """The stream is complete: as of this read, its rows are exactly those of the batches
    tagged with these (part, generation) pairs. Yielded after the state message that
    acknowledges the last of them, and only when nothing was skipped or filtered out."""

    parts: dict[str, str]


ReadItem = RecordBatchMessage | StateMessage | SnapshotMessage


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
