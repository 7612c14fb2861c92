"""Map a tenant's streams through the matcher into the mapping registry (core: no Ray).

What :mod:`autonomos.jobs.batch_map` runs: see its docstring for the rules. Inputs are
read in a few batched queries (newest accepted schema and newest landed batch per
stream); each stream's suggestion is written in its own transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.repair.safe_mode import SafeMode
from autonomos.common.errors import FailureType
from autonomos.dcl.refresh import RefreshReason, ViewRefresher
from autonomos.dcl.registry import MappingStatus
from autonomos.jobs.errors import JobError
from autonomos.store.aam_models import Connection, LandedBatch, SchemaFingerprint
from autonomos.store.errors import Conflict
from autonomos.store.session import Database

log = logging.getLogger("autonomos.jobs.mapping")

DECIDED_BY = "batch_map"
ENTITY_MIN_CONFIDENCE = 0.6  # a doubtful entity decision makes every field a proposal
SAMPLE_ROWS = 200
SAMPLES_PER_FIELD = 5


class UsageError(JobError):
    """Bad arguments, an unknown tenant or connection: exit code 2."""

    failure = FailureType.CONFIGURATION


@dataclass
class StreamResult:
    connection_id: str
    stream: str
    entity: str | None = None
    entity_confidence: float | None = None
    active: int = 0
    proposed: int = 0
    unchanged: int = 0
    kept: int = 0  # decided by someone else: left alone
    unmapped: int = 0
    error: str | None = None


@dataclass
class Report:
    tenant_id: str
    streams: list[StreamResult] = field(default_factory=list)
    materialized: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(s.error is None for s in self.streams)


# -- inputs ------------------------------------------------------------------------------


async def find_connections(
    session: AsyncSession, connection_ids: Sequence[uuid.UUID]
) -> list[Connection]:
    """The given connections (each must exist in the tenant) or every active one."""
    if connection_ids:
        rows = {
            c.id: c
            for c in await session.scalars(
                select(Connection).where(Connection.id.in_(connection_ids))
            )
        }
        missing = [str(c) for c in connection_ids if c not in rows]
        if missing:
            raise UsageError(f"connection(s) {', '.join(missing)} not found in this tenant")
        return [rows[c] for c in connection_ids]
    return list(
        await session.scalars(
            select(Connection).where(Connection.status == "active").order_by(Connection.name)
        )
    )


async def latest_schemas(
    session: AsyncSession, connection_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], dict[str, Any]]:
    """(connection, stream) -> the newest accepted schema; one query."""
    newest = (
        select(
            SchemaFingerprint.connection_id,
            SchemaFingerprint.stream,
            func.max(SchemaFingerprint.accepted_at).label("at"),
        )
        .where(
            SchemaFingerprint.connection_id.in_(connection_ids),
            SchemaFingerprint.status == "accepted",
        )
        .group_by(SchemaFingerprint.connection_id, SchemaFingerprint.stream)
        .subquery()
    )
    rows = await session.execute(
        select(SchemaFingerprint.connection_id, SchemaFingerprint.stream, SchemaFingerprint.schema)
        .join(
            newest,
            (newest.c.connection_id == SchemaFingerprint.connection_id)
            & (newest.c.stream == SchemaFingerprint.stream)
            & (newest.c.at == SchemaFingerprint.accepted_at),
        )
        .where(SchemaFingerprint.status == "accepted")
        .order_by(SchemaFingerprint.connection_id, SchemaFingerprint.stream)
    )
    return {(cid, stream): schema for cid, stream, schema in rows}


async def newest_batches(
    session: AsyncSession, connection_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], str]:
    """(connection, stream) -> path of its newest live landed batch; one query."""
    newest = (
        select(
            LandedBatch.connection_id,
            LandedBatch.stream,
            func.max(LandedBatch.landed_at).label("at"),
        )
        .where(LandedBatch.connection_id.in_(connection_ids), LandedBatch.live())
        .group_by(LandedBatch.connection_id, LandedBatch.stream)
        .subquery()
    )
    rows = await session.execute(
        select(LandedBatch.connection_id, LandedBatch.stream, LandedBatch.path).join(
            newest,
            (newest.c.connection_id == LandedBatch.connection_id)
            & (newest.c.stream == LandedBatch.stream)
            & (newest.c.at == LandedBatch.landed_at),
        )
    )
    return {(cid, stream): path for cid, stream, path in rows}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | Decimal | bytes):
        return str(value)
    return value


def sample_values(
    path: str | None, open_file: Callable[[str], Any] | None = None
) -> dict[str, tuple[Any, ...]]:
    """A few distinct non-null values per column of a landed Parquet file (vectorised).

    ``open_file``: opens a manifest value (``LandingZone.open``, which knows object
    storage); default: ``path`` is a local file.
    """
    if not path:
        return {}
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(open_file(path) if open_file else path)
        table = f.read_row_group(0) if f.num_row_groups else f.read()
    except OSError as exc:
        log.warning("cannot read samples from %s: %s", path, exc)
        return {}
    table = table.slice(0, SAMPLE_ROWS)
    out = {}
    for name in table.column_names:
        values = pc.unique(table[name].drop_null())[:SAMPLES_PER_FIELD]
        out[name] = tuple(_plain(v) for v in values.to_pylist())
    return out


def source_schema(connection: Connection, stream: str, doc: dict[str, Any], samples: dict) -> Any:
    from autonomos.matching.schema import SourceField, SourceSchema

    return SourceSchema(
        fields=tuple(
            SourceField(
                name=f["name"],
                type=str(f.get("type") or "string"),
                description=str(f.get("description") or ""),
                samples=samples.get(f["name"], ()),
            )
            for f in doc.get("fields") or []
        ),
        system=connection.source_type,
        object=stream,
    )


# -- the work ----------------------------------------------------------------------------


async def write_suggestion(
    session: AsyncSession,
    connection_id: uuid.UUID,
    stream: str,
    suggestion: Any,
    result: StreamResult,
    *,
    safe_mode: SafeMode,
) -> None:
    """Write one stream's suggestion through the registry (see the module docstring)."""
    from autonomos.dcl import registry

    current = {
        m.source_field: m for m in await registry.current_mappings(session, connection_id, stream)
    }
    sure_entity = suggestion.entity_confidence >= ENTITY_MIN_CONFIDENCE
    for m in suggestion.mappings:
        if not m.target:
            result.unmapped += 1
            continue
        now = current.get(m.source_field)
        if now is not None and now.decided_by != DECIDED_BY:
            result.kept += 1
            continue
        entity, _, target_field = m.target.partition(".")
        confident, _ = safe_mode.allows(float(m.confidence))
        status = MappingStatus.ACTIVE if sure_entity and confident else MappingStatus.PROPOSED
        transform = getattr(m, "transform", None)
        if now is not None and (now.entity, now.field, now.status, now.transform) == (
            entity,
            target_field,
            status,
            transform,
        ):
            result.unchanged += 1  # a confidence that moved a little is no new decision
            continue
        kwargs = {
            "connection_id": connection_id,
            "stream": stream,
            "source_field": m.source_field,
            "entity": entity,
            "field": target_field,
            "confidence": round(float(m.confidence), 4),
            "transform": transform,  # published crosswalks carry one (FOCUS rules)
            "decided_by": DECIDED_BY,
        }
        try:
            row = await registry.set_mapping(session, status=status, **kwargs)
        except Conflict:
            # another source field (someone's decision) feeds that target: only propose
            status = MappingStatus.PROPOSED
            row = await registry.set_mapping(session, status=status, **kwargs)
        if now is not None and row.id == now.id:
            result.unchanged += 1
        elif status == MappingStatus.ACTIVE:
            result.active += 1
        else:
            result.proposed += 1


async def run_batch_map(
    db: Database,
    tenant_id: uuid.UUID,
    connection_ids: Sequence[uuid.UUID],
    matcher: Any,
    *,
    safe_mode: SafeMode = SafeMode(),
    refresher: ViewRefresher | None = None,
    open_file: Callable[[str], Any] | None = None,
) -> Report:
    """Map the streams of ``connection_ids`` (all active ones when empty) and materialise.

    Each stream commits on its own, so one bad stream costs only itself.
    """
    report = Report(tenant_id=str(tenant_id))
    async with db.tenant_session(tenant_id) as s:
        connections = await find_connections(s, connection_ids)
        ids = [c.id for c in connections]
        schemas = await latest_schemas(s, ids)
        batches = await newest_batches(s, ids)
    by_id = {c.id: c for c in connections}
    for (cid, stream), doc in schemas.items():
        result = StreamResult(connection_id=str(cid), stream=stream)
        report.streams.append(result)
        try:
            samples = await asyncio.to_thread(sample_values, batches.get((cid, stream)), open_file)
            schema = source_schema(by_id[cid], stream, doc, samples)
            suggestion = await asyncio.to_thread(matcher.suggest, schema)
            result.entity = suggestion.entity
            result.entity_confidence = round(float(suggestion.entity_confidence), 4)
            async with db.tenant_session(tenant_id) as s:
                await write_suggestion(s, cid, stream, suggestion, result, safe_mode=safe_mode)
        except Exception as exc:  # one stream's failure is reported, the others go on
            log.exception("stream %s of connection %s failed", stream, cid)
            result.error = f"{type(exc).__name__}: {exc}"
    if refresher is None:
        return report
    from autonomos.dcl import registry

    for cid in ids:
        async with db.tenant_session(tenant_id) as s:
            streams = sorted({m.stream for m in await registry.active_mappings(s, cid)})
        # Mappings this run changed: rebuild the connection's slices (and drop those whose
        # mappings went); otherwise bring its mapped streams up to date with new batches.
        changed = any(r.active or r.proposed for r in report.streams if r.connection_id == str(cid))
        if not streams and not changed:
            continue
        outcome = await refresher.refresh(
            tenant_id,
            cid,
            None if changed else streams,
            full=changed,
            reason=RefreshReason.BATCH_MAP,
        )
        report.materialized[str(cid)] = outcome.report
        if outcome.error:
            report.errors.append(f"materialise {cid}: {outcome.error}")
    return report
