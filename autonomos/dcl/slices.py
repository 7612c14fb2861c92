"""Descriptions of slices: a (connection, stream) -> entity part of a unified view.

Plain frozen dataclasses, picklable across Ray: what a slice is built from
(:class:`SliceSpec`, :class:`LandedFile`), what is materialised (:class:`SliceState`) and
what one materialisation did (:class:`SliceResult`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow.fs as pafs

from autonomos.dcl._slice_sql import FieldMapping
from autonomos.ontology import Entity

LOGIC_VERSION = 1  # bump when the slice SQL changes meaning: every slice then rebuilds
Mode = Literal["full", "incremental", "unchanged", "dropped", "failed"]
# A landed file's manifest value -> (file system, path in it): the landing zone's
# ``LandingZone.locate``, which knows the store's endpoint and credentials.
Locate = Callable[[str], tuple[pafs.FileSystem, str]]

__all__ = [
    "LOGIC_VERSION",
    "FieldMapping",
    "LandedFile",
    "Locate",
    "Mode",
    "SliceResult",
    "SliceSpec",
    "SliceState",
]


@dataclass(frozen=True)
class LandedFile:
    """A committed landed batch (a ``landed_batches`` row)."""

    batch_id: str
    path: str
    landed_at: datetime
    rows: int = 0


@dataclass(frozen=True)
class SliceSpec:
    """What one (connection, stream) -> entity slice is built from."""

    connection_id: str
    stream: str
    entity: str
    mappings: tuple[FieldMapping, ...]
    primary_key: tuple[str, ...] = ()  # the stream's key columns (fallback source key)

    @property
    def table(self) -> str:
        digest = hashlib.sha256(
            f"{self.entity}\x1f{self.connection_id}\x1f{self.stream}".encode()
        ).hexdigest()
        return f"s_{self.entity}_{digest[:20]}"

    def signature(self, entity: Entity) -> str:
        """Changes whenever the same landed data would give different rows."""
        doc = {
            "logic": LOGIC_VERSION,
            "fields": [(f.name, f.type, f.pk) for f in entity.fields],
            "mappings": sorted((m.source_field, m.field, m.transform or "") for m in self.mappings),
            "pk": list(self.primary_key),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class SliceResult:
    entity: str
    connection_id: str
    stream: str
    mode: Mode
    rows: int
    batches_read: int = 0
    source_rows: int = 0  # landed rows read (before dedup and deletes)
    missing_files: int = 0
    upserted: int | None = None  # rows written by an increment (None for a full build)
    deleted: int | None = None
    signature: str | None = None
    last_synced_at: datetime | None = None
    duration_ms: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SliceState:
    table: str
    entity: str
    connection_id: str
    stream: str
    signature: str
    rows: int
    last_synced_at: datetime | None
    max_landed_at: datetime | None
    materialized_at: datetime
    batch_ids: frozenset[str] = field(default_factory=frozenset)
