"""Request and response models of /api/v1/dcl (mappings, views, SQL sandbox)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from autonomos.serve_apps.api.schemas import Strict

Text = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
SourceField = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")


class OntologyField(BaseModel):
    name: str
    type: str
    description: str
    pk: bool


class OntologyEntity(BaseModel):
    name: str
    description: str
    primary_key: str
    fields: list[OntologyField]


class TransformOut(BaseModel):
    name: str
    description: str
    argument: str | None = None


class OntologyOut(BaseModel):
    version: int
    entities: list[OntologyEntity]
    transforms: list[TransformOut]


class MappingOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    stream: str
    source_field: str
    entity: str
    field: str
    transform: str | None
    confidence: float
    status: str
    version: int
    decided_by: str
    created_at: datetime


class MappingList(BaseModel):
    mappings: list[MappingOut]
    total: int


class MappingIn(Strict):
    """Set (or edit) the mapping of one source field: a new version when anything changes."""

    connection_id: uuid.UUID
    stream: str = Text
    source_field: str = SourceField
    entity: str = Field(min_length=1, max_length=100)
    field: str = Field(min_length=1, max_length=100)
    transform: str | None = Field(None, max_length=500)
    confidence: float = Field(1.0, ge=0, le=1)
    status: Literal["active", "proposed"] = "active"
    replace_target: StrictBool = Field(
        False, description="Retire another source field that is the active source of the target."
    )
    materialize: StrictBool = Field(True, description="Re-materialise the stream's views after it.")


class RetireIn(Strict):
    connection_id: uuid.UUID
    stream: str = Text
    source_field: str = SourceField
    status: Literal["retired", "broken"] = "retired"
    materialize: StrictBool = True


class RestoreIn(Strict):
    replace_target: StrictBool = False
    materialize: StrictBool = True


class RefreshOut(BaseModel):
    """One request to bring a connection's views up to date, and how it ended."""

    id: uuid.UUID
    connection_id: uuid.UUID
    status: Literal["queued", "running", "succeeded", "failed"]
    reason: str = Field(description="sync, repair, mapping, batch_map or manual")
    streams: list[str] | None = Field(None, description="None: every stream")
    full: bool
    error: str | None = None


class RefreshList(BaseModel):
    refreshes: list[RefreshOut]
    limit: int
    offset: int


class MappingChanged(BaseModel):
    mapping: MappingOut
    materialization: dict[str, Any] | None = Field(
        None, description="What re-materialising the stream did (the DCL's report)."
    )
    refresh: RefreshOut | None = Field(
        None, description="The view refresh this change requested, and its outcome."
    )


class MaterializeIn(Strict):
    connection_id: uuid.UUID
    streams: list[str] | None = Field(None, max_length=500)
    full: StrictBool = Field(False, description="Rebuild from every landed batch.")


class SliceOut(BaseModel):
    entity: str
    connection_id: str
    stream: str
    mode: str
    rows: int
    batches_read: int = 0
    source_rows: int = 0
    missing_files: int = 0
    upserted: int | None = None
    deleted: int | None = None
    last_synced_at: datetime | None = None
    duration_ms: float = 0.0
    error: str | None = None


class MaterializeOut(BaseModel):
    connection_id: str
    slices: list[SliceOut]
    resolution: dict[str, Any] | None = None
    duration_ms: float
    refresh: RefreshOut | None = None


class ViewSource(BaseModel):
    connection_id: str
    stream: str
    rows: int
    last_synced_at: datetime | None
    materialized_at: datetime | None


class ViewOut(BaseModel):
    name: str
    kind: Literal["entity", "unified"]
    rows: int
    last_synced_at: datetime | None
    connections: list[str]
    sources: list[ViewSource]


class ViewList(BaseModel):
    views: list[ViewOut]
    total: int


class ViewPage(BaseModel):
    view: str
    fields: list[str]
    rows: list[dict[str, Any]]
    limit: int
    next_cursor: str | None


class QueryIn(Strict):
    sql: str = Field(min_length=1, max_length=20_000)
    limit: int | None = Field(None, ge=1, le=1_000_000, description="Capped by the server.")
    timeout_s: float | None = Field(None, gt=0, le=600, description="Capped by the server.")


class QueryColumn(BaseModel):
    name: str
    type: str


class QueryOut(BaseModel):
    columns: list[QueryColumn]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float
