"""Request and response models of /api/v1/aam."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autonomos.aam.drift import DriftPolicy
from autonomos.serve_apps.api.schemas import Strict

SourceType = Literal["files", "postgres", "salesforce", "mongodb"]
Name = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


class ConnectionCreate(Strict):
    name: str = Name
    source_type: SourceType
    config: dict[str, Any] = Field(default_factory=dict)
    drift_policy: DriftPolicy = DriftPolicy.PROPOSE


class ConnectionUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    drift_policy: DriftPolicy | None = None
    status: Literal["active", "paused"] | None = None


class ConnectionOut(BaseModel):
    id: uuid.UUID
    name: str
    source_type: str
    config: dict[str, Any]  # secrets shown as "***"
    status: str
    drift_policy: str
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]
    total: int


class CheckOut(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None
    failure: str | None = None


class FieldOut(BaseModel):
    name: str
    type: str
    nullable: bool
    description: str | None = None
    source_type: str | None = None


class StreamOut(BaseModel):
    name: str
    fields: list[FieldOut]
    primary_key: list[str]
    cursor_field: str | None


class DiscoverOut(BaseModel):
    streams: list[StreamOut]


class SyncIn(Strict):
    streams: list[str] | None = Field(None, max_length=1000)


class SyncRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    status: str
    streams: list[str] | None
    records_read: int
    records_written: int
    records_quarantined: int
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    error_type: str | None


class SyncStarted(BaseModel):
    run_id: uuid.UUID
    status: str


class SyncRunList(BaseModel):
    runs: list[SyncRunOut]


class DriftEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    stream: str
    old_fingerprint: str | None
    new_fingerprint: str
    changes: list[dict[str, Any]]
    severity: str
    decision: dict[str, Any]
    status: str
    detected_at: datetime


class DriftEventList(BaseModel):
    events: list[DriftEventOut]


class ConnectorDTO(BaseModel):
    id: uuid.UUID
    name: str
    source_type: str
    status: str
    mapping_count: int
    has_drift: bool
    last_event_type: str | None
    last_event_at: datetime | None


class ConnectorList(BaseModel):
    connectors: list[ConnectorDTO]
    total: int


class UploadedFile(BaseModel):
    name: str
    bytes: int


class UploadOut(BaseModel):
    path: str = Field(
        description="The folder, as a files connection's `path` (relative paths are folders "
        "of the tenant's upload area)"
    )
    files: list[UploadedFile]


class UploadFolderOut(BaseModel):
    name: str
    path: str
    files: list[UploadedFile]
    bytes: int


class UploadFolderList(BaseModel):
    folders: list[UploadFolderOut]
