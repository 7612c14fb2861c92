"""The schema a stream is synced with, and the drift it brings (one transaction).

Called by :class:`~autonomos.aam.sync.SyncEngine` on a stream's first batch of a run:
infers (untyped sources) or normalises (typed sources) the schema, compares its
fingerprint with the last accepted one, and records the new fingerprint, the drift
event and the policy's effect (pause, quarantined fields) in the caller's session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.drift import (
    DriftChange,
    DriftPolicy,
    PolicyDecision,
    decide,
    detect_drift,
    overall_severity,
    type_direction,
)
from autonomos.aam.fingerprint import fingerprint
from autonomos.aam.normalize import infer_schema, normalize_name
from autonomos.connectors.schema import FieldSpec, StreamSchema, schema_from_dict, schema_to_dict
from autonomos.events.log import record
from autonomos.store.aam_models import DriftEventRow, SchemaFingerprint, StreamState
from autonomos.store.base import utcnow


@dataclass
class Resolution:
    schema: StreamSchema
    held: tuple[str, ...] = ()  # quarantine policy: normalised fields held aside
    paused: bool = False  # block policy: the stream is paused, nothing is landed
    drift: DriftEventRow | None = None  # flushed, committed with the caller's session
    changes: tuple[DriftChange, ...] = ()
    decision: PolicyDecision | None = None


def _untyped(schema: StreamSchema) -> bool:
    return not schema.fields or all(f.source_type == "csv" for f in schema.fields)


def _normalised(schema: StreamSchema) -> StreamSchema:
    return StreamSchema(
        name=schema.name,
        fields=tuple(
            FieldSpec(normalize_name(f.name), f.type, f.nullable, f.description, f.source_type)
            for f in schema.fields
        ),
        primary_key=tuple(normalize_name(k) for k in schema.primary_key),
        cursor_field=normalize_name(schema.cursor_field) if schema.cursor_field else None,
        description=schema.description,
    )


def _keep_wider_types(inferred: StreamSchema, previous: StreamSchema | None) -> StreamSchema:
    """Inference sees one batch: a column that fits an earlier, wider type keeps it.

    Only a change to a *wider* type (e.g. integer column now holding text) is drift.
    """
    if previous is None:
        return inferred
    fields = []
    for f in inferred.fields:
        old = previous.field(f.name)
        if old is not None and type_direction(f.type, old.type) == "widen":
            f = FieldSpec(f.name, old.type, f.nullable, f.description, f.source_type)
        fields.append(f)
    return StreamSchema(inferred.name, tuple(fields), inferred.primary_key, inferred.cursor_field)


async def resolve_schema(
    s: AsyncSession,
    connection_id: uuid.UUID,
    discovered: StreamSchema,
    first: pa.RecordBatch,
    policy: DriftPolicy,
) -> Resolution:
    """The stream's schema for this run, recording fingerprints and drift in ``s``."""
    stream = discovered.name
    last = await s.scalar(
        select(SchemaFingerprint)
        .where(
            SchemaFingerprint.connection_id == connection_id,
            SchemaFingerprint.stream == stream,
            SchemaFingerprint.status == "accepted",
        )
        .order_by(SchemaFingerprint.accepted_at.desc())
        .limit(1)
    )
    previous = schema_from_dict(last.schema) if last else None
    if _untyped(discovered):
        inferred = infer_schema(first, stream, discovered.primary_key, discovered.cursor_field)
        schema = _keep_wider_types(inferred, previous)
    else:
        schema = _normalised(discovered)
    fp = fingerprint(schema)
    now = utcnow()
    if last is None or previous is None:
        s.add(
            SchemaFingerprint(
                connection_id=connection_id,
                stream=stream,
                fingerprint=fp,
                schema=schema_to_dict(schema),
                accepted_at=now,
            )
        )
        return Resolution(schema)
    if last.fingerprint == fp:
        return Resolution(schema)
    changes = detect_drift(previous, schema)
    decision = decide(policy, changes)
    needs_human = bool(decision.propose) or decision.pause_stream
    s.add(
        SchemaFingerprint(
            connection_id=connection_id,
            stream=stream,
            fingerprint=fp,
            schema=schema_to_dict(schema),
            status="pending" if needs_human else "accepted",
            accepted_at=None if needs_human else now,
        )
    )
    drift = DriftEventRow(
        id=uuid.uuid4(),
        connection_id=connection_id,
        stream=stream,
        old_fingerprint=last.fingerprint,
        new_fingerprint=fp,
        changes=[c.model_dump(mode="json") for c in changes],
        severity=overall_severity(changes),
        decision=decision.model_dump(mode="json"),
        status="open" if needs_human else "applied",
        detected_at=now,
    )
    s.add(drift)
    record(
        s,
        "drift.detected",
        subject={"connection_id": connection_id, "stream": stream, "drift_id": drift.id},
        changes=len(changes),
        severity=overall_severity(changes),
        paused=decision.pause_stream,
    )
    await s.flush()  # the row gets its tenant id: it is published after the commit
    found = Resolution(schema, drift=drift, changes=tuple(changes), decision=decision)
    if decision.pause_stream:
        state = await s.get(StreamState, (connection_id, stream))
        if state is None:
            s.add(StreamState(connection_id=connection_id, stream=stream, state={}, paused=True))
        else:
            state.paused = True
        found.paused = True
        return found
    found.held = tuple(normalize_name(p) for p in decision.quarantine_fields)
    return found
