"""The mapping registry: versioned source field -> ontology field mappings, per connection.

Every function takes a tenant session (``Database.tenant_session``): tenant scoping is the
session's. A mapping is identified by (connection_id, stream, source_field); each change
writes a new row with ``version`` + 1 and marks the previous row ``superseded``, so the
history of a field is its rows by version and any past version can be restored (as a new
version). The current state of a field is its newest row; at most one row per field is
``active``, and per (connection, stream) at most one active source field feeds an
``entity.field`` target (a target fed by two columns would be ambiguous in the unified
view). Both rules are also unique indexes, so concurrent writers cannot break them.

``source_field`` is the landed (normalised) column name, as the landing zone stores it.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.dcl import transforms
from autonomos.dcl.errors import MappingError
from autonomos.ontology import Ontology, load_ontology
from autonomos.store.aam_models import Connection
from autonomos.store.dcl_models import MappingRegistry
from autonomos.store.errors import Conflict, NotFound


class MappingStatus(enum.StrEnum):
    ACTIVE = "active"  # feeds the unified views
    PROPOSED = "proposed"  # suggested (matcher / repair), waiting for a decision
    BROKEN = "broken"  # the source field disappeared or no longer fits (drift)
    RETIRED = "retired"  # switched off on purpose
    SUPERSEDED = "superseded"  # an older version; the field's newer row is its state


SETTABLE = (MappingStatus.ACTIVE, MappingStatus.PROPOSED)
RETIRING = (MappingStatus.BROKEN, MappingStatus.RETIRED)


def _check_text(name: str, value: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{name} must be a non-empty string")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise MappingError(f"{name} must be at most {limit} printable characters")
    return value


def _target(ontology: Ontology, entity: str, field: str) -> None:
    if not ontology.has_entity(entity):
        raise MappingError(f"unknown entity {entity!r}; known: {', '.join(ontology.entity_names)}")
    if not ontology.entity(entity).has_field(field):
        raise MappingError(f"entity {entity!r} has no field {field!r}")


async def _connection(session: AsyncSession, connection_id: uuid.UUID) -> None:
    if await session.get(Connection, connection_id) is None:
        raise NotFound("connection not found")  # another tenant's id lands here too


async def _current(
    session: AsyncSession, connection_id: uuid.UUID, stream: str, source_field: str
) -> MappingRegistry | None:
    return await session.scalar(
        select(MappingRegistry)
        .where(
            MappingRegistry.connection_id == connection_id,
            MappingRegistry.stream == stream,
            MappingRegistry.source_field == source_field,
        )
        .order_by(MappingRegistry.version.desc())
        .limit(1)
        .with_for_update()
    )


async def _write(
    session: AsyncSession, current: MappingRegistry | None, **values: Any
) -> MappingRegistry:
    """Supersede ``current`` and add the next version (flushed; Conflict on a race)."""
    try:
        if current is not None and current.status != MappingStatus.SUPERSEDED:
            current.status = MappingStatus.SUPERSEDED.value
            await session.flush()  # before the insert: the partial unique indexes see it
        row = MappingRegistry(version=(current.version + 1) if current else 1, **values)
        session.add(row)
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "the mapping was changed concurrently (or its connection was deleted); retry"
        ) from None
    return row


async def set_mapping(
    session: AsyncSession,
    *,
    connection_id: uuid.UUID,
    stream: str,
    source_field: str,
    entity: str,
    field: str,
    transform: str | None = None,
    confidence: float = 1.0,
    status: MappingStatus = MappingStatus.ACTIVE,
    decided_by: str,
    replace_target: bool = False,
    ontology: Ontology | None = None,
) -> MappingRegistry:
    """Map ``source_field`` of ``stream`` onto ``entity.field``; returns the current row.

    Writes version + 1 and supersedes the previous version, unless nothing changes (same
    target, transform, confidence and status: the current row is returned, so re-running
    a matcher does not grow the history). ``status`` is ``active`` or ``proposed``. When
    another source field of the stream is the active source of the same target, an
    active mapping raises Conflict, or with ``replace_target`` retires that one first.
    MappingError for an unknown target, a bad transform or a bad value.
    """
    ontology = ontology or load_ontology()
    _check_text("stream", stream, 200)
    _check_text("source_field", source_field, 500)
    _check_text("decided_by", decided_by, 100)
    _target(ontology, entity, field)
    transform = transforms.validate(transform)
    if not isinstance(confidence, int | float) or not 0.0 <= float(confidence) <= 1.0:
        raise MappingError("confidence must be a number between 0 and 1")
    try:
        state = MappingStatus(status)
    except ValueError:
        state = None
    if state not in SETTABLE:
        raise MappingError(
            f"status must be one of {', '.join(SETTABLE)}; use retire_mapping for "
            f"{', '.join(RETIRING)}"
        )
    await _connection(session, connection_id)
    current = await _current(session, connection_id, stream, source_field)
    if (
        current is not None
        and (current.entity, current.field, current.transform, current.status)
        == (entity, field, transform, state.value)
        and abs(current.confidence - float(confidence)) < 1e-9
    ):
        return current
    if state is MappingStatus.ACTIVE:
        holder = await session.scalar(
            select(MappingRegistry).where(
                MappingRegistry.connection_id == connection_id,
                MappingRegistry.stream == stream,
                MappingRegistry.entity == entity,
                MappingRegistry.field == field,
                MappingRegistry.status == MappingStatus.ACTIVE.value,
                MappingRegistry.source_field != source_field,
            )
        )
        if holder is not None:
            if not replace_target:
                raise Conflict(
                    f"{entity}.{field} of stream {stream!r} is already mapped from "
                    f"{holder.source_field!r}; retire that mapping first or replace it"
                )
            await _write(
                session,
                holder,
                **_copy(holder),
                status=MappingStatus.RETIRED.value,
                decided_by=decided_by,
            )
    return await _write(
        session,
        current,
        connection_id=connection_id,
        stream=stream,
        source_field=source_field,
        entity=entity,
        field=field,
        transform=transform,
        confidence=float(confidence),
        status=state.value,
        decided_by=decided_by,
    )


def _copy(row: MappingRegistry) -> dict[str, Any]:
    return {
        "connection_id": row.connection_id,
        "stream": row.stream,
        "source_field": row.source_field,
        "entity": row.entity,
        "field": row.field,
        "transform": row.transform,
        "confidence": row.confidence,
    }


async def retire_mapping(
    session: AsyncSession,
    *,
    connection_id: uuid.UUID,
    stream: str,
    source_field: str,
    status: MappingStatus = MappingStatus.RETIRED,
    decided_by: str,
) -> MappingRegistry:
    """Switch a field's mapping off as ``retired`` or ``broken`` (a new version).

    NotFound when the field was never mapped; a field already in that status is returned
    unchanged.
    """
    _check_text("decided_by", decided_by, 100)
    if status not in RETIRING:
        raise MappingError(f"status must be one of {', '.join(RETIRING)}")
    await _connection(session, connection_id)
    current = await _current(session, connection_id, stream, source_field)
    if current is None:
        raise NotFound(f"no mapping for field {source_field!r} of stream {stream!r}")
    if current.status == status:
        return current
    return await _write(session, current, **_copy(current), status=status, decided_by=decided_by)


async def restore(
    session: AsyncSession,
    mapping_id: uuid.UUID,
    decided_by: str,
    *,
    replace_target: bool = False,
) -> MappingRegistry:
    """Re-activate a past version of a field as its newest version.

    NotFound for an unknown id (or another tenant's). The restored target must still exist
    in the ontology (MappingError otherwise); target conflicts as in :func:`set_mapping`.
    """
    row = await session.get(MappingRegistry, mapping_id)
    if row is None:
        raise NotFound("mapping not found")
    return await set_mapping(
        session,
        connection_id=row.connection_id,
        stream=row.stream,
        source_field=row.source_field,
        entity=row.entity,
        field=row.field,
        transform=row.transform,
        confidence=row.confidence,
        status=MappingStatus.ACTIVE,
        decided_by=decided_by,
        replace_target=replace_target,
    )


async def active_mappings(
    session: AsyncSession, connection_id: uuid.UUID, stream: str | None = None
) -> list[MappingRegistry]:
    """Active mappings of a connection (of one stream), by stream, entity, field."""
    query = select(MappingRegistry).where(
        MappingRegistry.connection_id == connection_id,
        MappingRegistry.status == MappingStatus.ACTIVE.value,
    )
    if stream is not None:
        query = query.where(MappingRegistry.stream == stream)
    query = query.order_by(MappingRegistry.stream, MappingRegistry.entity, MappingRegistry.field)
    return list(await session.scalars(query))


async def current_mappings(
    session: AsyncSession,
    connection_id: uuid.UUID,
    stream: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> list[MappingRegistry]:
    """The current row of every mapped field (any status but superseded, or ``statuses``)."""
    wanted = statuses or tuple(s.value for s in MappingStatus if s != MappingStatus.SUPERSEDED)
    query = select(MappingRegistry).where(
        MappingRegistry.connection_id == connection_id, MappingRegistry.status.in_(wanted)
    )
    if stream is not None:
        query = query.where(MappingRegistry.stream == stream)
    query = query.order_by(
        MappingRegistry.stream, MappingRegistry.source_field, MappingRegistry.version
    )
    return list(await session.scalars(query))


async def history(
    session: AsyncSession, connection_id: uuid.UUID, stream: str, source_field: str
) -> list[MappingRegistry]:
    """Every version of a field's mapping, newest first (empty when never mapped)."""
    return list(
        await session.scalars(
            select(MappingRegistry)
            .where(
                MappingRegistry.connection_id == connection_id,
                MappingRegistry.stream == stream,
                MappingRegistry.source_field == source_field,
            )
            .order_by(MappingRegistry.version.desc())
        )
    )


def mapping_counts_query() -> Select[uuid.UUID, int]:
    """``(connection_id, n)``: active mappings per connection, to embed in a larger query.

    The session's tenant guard scopes it like any statement on the registry (the AAM
    connectors overview joins it as a subquery and stays one query).
    """
    return (
        select(MappingRegistry.connection_id, func.count().label("n"))
        .where(MappingRegistry.status == MappingStatus.ACTIVE.value)
        .group_by(MappingRegistry.connection_id)
    )


async def mapping_counts(session: AsyncSession) -> dict[uuid.UUID, int]:
    """Active mappings per connection of the tenant (connections without any are absent)."""
    rows = await session.execute(mapping_counts_query())
    return {cid: int(n) for cid, n in rows}
