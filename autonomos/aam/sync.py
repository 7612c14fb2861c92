"""One sync run: read a connection's streams, normalise, fingerprint, detect drift, land.

Exactly once: batches are written to the landing zone first, then one transaction
records their manifest rows, their quarantined records, the run's counters and the
stream's new checkpoint. A crash before the commit leaves orphan files and the old
checkpoint, so the restarted run re-reads those rows and lands them once.

This is core logic (no Ray): the ConnectorActor calls :meth:`SyncEngine.run`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pyarrow as pa
from sqlalchemy import select

from autonomos.aam.drift import DriftPolicy, decide, detect_drift, overall_severity, type_direction
from autonomos.aam.events import CanonicalEvent
from autonomos.aam.fingerprint import fingerprint
from autonomos.aam.landing import LandingZone
from autonomos.aam.normalize import infer_schema, normalize_batch, normalize_name
from autonomos.aam.sync_runs import SyncStatus, transition
from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    RecordBatchMessage,
    StateMessage,
    redact,
)
from autonomos.connectors.registry import build_connector
from autonomos.connectors.schema import FieldSpec, StreamSchema, schema_from_dict, schema_to_dict
from autonomos.store.aam_models import (
    Connection,
    DriftEventRow,
    EventLogEntry,
    LandedBatch,
    QuarantinedRecord,
    SchemaFingerprint,
    StreamState,
    SyncRun,
)
from autonomos.store.base import utcnow
from autonomos.store.errors import NotFound
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database

log = logging.getLogger("autonomos.aam.sync")

Publish = Callable[[CanonicalEvent], Awaitable[None]]
MAX_QUARANTINE_ROWS_PER_BATCH = 1_000  # beyond this only the count is kept


class SyncCancelled(Exception):
    pass


@dataclass
class _Pending:
    """Landed but not yet committed: files, quarantined rows and counters."""

    batches: list[tuple[str, int, str]] = field(default_factory=list)  # path, rows, fp
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    written: int = 0
    quarantined: int = 0


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


async def _in_thread(it: Iterator[Any]) -> Any:
    return await anyio.to_thread.run_sync(next, it, None)


class SyncEngine:
    def __init__(
        self,
        db: Database,
        landing: LandingZone,
        box: SecretBox,
        *,
        publish: Publish | None = None,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
        connector_factory: Callable[[str, dict[str, Any]], Connector] = build_connector,
    ) -> None:
        self.db, self.landing, self.box = db, landing, box
        self.publish = publish
        self.max_attempts, self.backoff_s = max_attempts, backoff_s
        self.connector_factory = connector_factory

    async def run(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SyncStatus:
        """Run (or resume) a sync run to a finished status; never raises for source errors."""
        async with self.db.tenant_session(tenant_id) as s:
            run = await s.get(SyncRun, run_id)
            if run is None:
                raise NotFound(f"sync run {run_id} not found")
            status = SyncStatus(run.status)
            if status.finished:
                return status
            conn = await s.get(Connection, run.connection_id)
            if conn is None:
                raise NotFound("connection not found")
            if status is SyncStatus.QUEUED:
                run.status = transition(status, SyncStatus.RUNNING)
                run.started_at = utcnow()
            wanted = set(run.streams or ())
            config = {**conn.config, **(self.box.decrypt(conn.secrets) if conn.secrets else {})}
            source_type, policy = conn.source_type, DriftPolicy(conn.drift_policy)
        final, error, error_type = SyncStatus.SUCCEEDED, None, None
        connector: Connector | None = None
        try:
            connector = self.connector_factory(source_type, config)
            streams = await anyio.to_thread.run_sync(connector.discover)
            unknown = wanted - {st.name for st in streams}
            if unknown:
                raise ConnectorError(
                    f"unknown stream(s): {', '.join(sorted(unknown))}", FailureType.CONFIGURATION
                )
            for schema in streams:
                if not wanted or schema.name in wanted:
                    await self._with_retries(connector, tenant_id, run_id, conn.id, schema, policy)
        except SyncCancelled:
            final = SyncStatus.CANCELLED
        except ConnectorError as e:
            secrets = connector.secrets() if connector else [str(v) for v in config.values()]
            final, error, error_type = SyncStatus.FAILED, redact(str(e), secrets), e.failure.value
        except Exception as e:  # a bug must still end the run, with the cause recorded
            log.exception("sync run %s failed unexpectedly", run_id)
            final, error, error_type = (
                SyncStatus.FAILED,
                f"internal error: {type(e).__name__}",
                "terminal",
            )
        finally:
            if connector is not None:
                await anyio.to_thread.run_sync(connector.close)
        return await self._finish(tenant_id, run_id, final, error, error_type)

    async def _with_retries(
        self,
        connector: Connector,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        connection_id: uuid.UUID,
        discovered: StreamSchema,
        policy: DriftPolicy,
    ) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._sync_stream(
                    connector, tenant_id, run_id, connection_id, discovered, policy
                )
                return
            except ConnectorError as e:
                if not e.retryable or attempt == self.max_attempts:
                    raise
                delay = e.retry_after_s or self.backoff_s * 2 ** (attempt - 1)
                log.warning(
                    "stream %s: transient error, retry %d in %.1fs", discovered.name, attempt, delay
                )
                await asyncio.sleep(delay)

    async def _sync_stream(
        self,
        connector: Connector,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        connection_id: uuid.UUID,
        discovered: StreamSchema,
        policy: DriftPolicy,
    ) -> None:
        stream = discovered.name
        async with self.db.tenant_session(tenant_id) as s:
            row = await s.get(StreamState, (connection_id, stream))
            if row is not None and row.paused:
                return  # blocked by drift policy until a human resumes it
            checkpoint = dict(row.state) if row and row.state else None
        items = iter(connector.read(stream, checkpoint))
        schema: StreamSchema | None = None
        held: tuple[str, ...] = ()
        pending = _Pending()
        read_at = utcnow()
        while (item := await _in_thread(items)) is not None:
            if isinstance(item, RecordBatchMessage):
                if item.batch.num_rows == 0 and schema is None:
                    continue
                if schema is None:
                    resolved = await self._resolve_schema(
                        tenant_id, connection_id, discovered, item.batch, policy
                    )
                    if resolved is None:
                        return  # paused
                    schema, held = resolved
                await anyio.to_thread.run_sync(
                    self._land, tenant_id, connection_id, schema, held, item.batch, pending
                )
            elif isinstance(item, StateMessage):
                events = await self._commit(
                    tenant_id, run_id, connection_id, stream, item.state, pending
                )
                pending = _Pending()
                await self._publish(
                    events, tenant_id, connection_id, stream, run_id, item.state, read_at
                )
        if pending.batches or pending.read:  # connector ended without a final state
            await self._commit(tenant_id, run_id, connection_id, stream, checkpoint, pending)

    def _land(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        schema: StreamSchema,
        held: tuple[str, ...],
        batch: pa.RecordBatch,
        pending: _Pending,
    ) -> None:
        result = normalize_batch(batch, schema)
        good = result.batch
        if held:  # quarantine policy: keep loading, hold drifted fields aside
            keep = [n for n in good.schema.names if n not in held]
            good = good.select(keep)
        pending.read += batch.num_rows
        pending.written += good.num_rows
        pending.quarantined += len(set(result.quarantined.column("row_index").to_pylist()))
        for q in result.quarantined.slice(0, MAX_QUARANTINE_ROWS_PER_BATCH).to_pylist():
            pending.quarantine.append(
                {"field": q["field"], "reason": q["reason"], "record": q["record"]}
            )
        if good.num_rows:
            path = self.landing.write(tenant_id, connection_id, schema.name, good)
            pending.batches.append((str(path), good.num_rows, fingerprint(schema)))

    async def _resolve_schema(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        discovered: StreamSchema,
        first: pa.RecordBatch,
        policy: DriftPolicy,
    ) -> tuple[StreamSchema, tuple[str, ...]] | None:
        """The stream's schema for this run, recording fingerprints and drift."""
        stream = discovered.name
        async with self.db.tenant_session(tenant_id) as s:
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
                inferred = infer_schema(
                    first, stream, discovered.primary_key, discovered.cursor_field
                )
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
                return schema, ()
            if last.fingerprint == fp:
                return schema, ()
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
            s.add(
                DriftEventRow(
                    connection_id=connection_id,
                    stream=stream,
                    old_fingerprint=last.fingerprint,
                    new_fingerprint=fp,
                    changes=[c.model_dump(mode="json") for c in changes],
                    severity=overall_severity(changes),
                    decision=decision.model_dump(mode="json"),
                    status="open" if needs_human else "applied",
                )
            )
            s.add(
                EventLogEntry(
                    type="drift.detected",
                    connection_id=connection_id,
                    stream=stream,
                    payload={
                        "changes": len(changes),
                        "severity": overall_severity(changes),
                        "paused": decision.pause_stream,
                    },
                )
            )
            if decision.pause_stream:
                state = await s.get(StreamState, (connection_id, stream))
                if state is None:
                    s.add(
                        StreamState(
                            connection_id=connection_id, stream=stream, state={}, paused=True
                        )
                    )
                else:
                    state.paused = True
                return None
            return schema, tuple(normalize_name(p) for p in decision.quarantine_fields)

    async def _commit(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        connection_id: uuid.UUID,
        stream: str,
        state: dict[str, Any] | None,
        pending: _Pending,
    ) -> list[LandedBatch]:
        async with self.db.tenant_session(tenant_id) as s:
            run = await s.get(SyncRun, run_id, with_for_update=True)
            assert run is not None
            if run.status == SyncStatus.CANCELLED.value:
                raise SyncCancelled
            landed = [
                LandedBatch(
                    connection_id=connection_id,
                    stream=stream,
                    sync_run_id=run_id,
                    path=path,
                    rows=rows,
                    fingerprint=fp,
                )
                for path, rows, fp in pending.batches
            ]
            s.add_all(landed)
            s.add_all(
                QuarantinedRecord(
                    connection_id=connection_id, stream=stream, sync_run_id=run_id, **q
                )
                for q in pending.quarantine
            )
            row = await s.get(StreamState, (connection_id, stream))
            if row is None:
                s.add(StreamState(connection_id=connection_id, stream=stream, state=state or {}))
            else:
                row.state = state or {}
            run.records_read += pending.read
            run.records_written += pending.written
            run.records_quarantined += pending.quarantined
        return landed

    async def _publish(
        self,
        landed: list[LandedBatch],
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        stream: str,
        run_id: uuid.UUID,
        state: dict[str, Any],
        read_at: Any,
    ) -> None:
        if self.publish is None:
            return
        for b in landed:
            await self.publish(
                CanonicalEvent(
                    event_id=b.id,
                    tenant_id=tenant_id,
                    connection_id=connection_id,
                    stream=stream,
                    schema_fingerprint=b.fingerprint,
                    source_cursor=state,
                    rows=b.rows,
                    path=b.path,
                    sync_run_id=run_id,
                    source_read_at=read_at,
                )
            )

    async def _finish(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        final: SyncStatus,
        error: str | None,
        error_type: str | None,
    ) -> SyncStatus:
        async with self.db.tenant_session(tenant_id) as s:
            run = await s.get(SyncRun, run_id, with_for_update=True)
            assert run is not None
            current = SyncStatus(run.status)
            if current.finished:  # cancelled meanwhile
                return current
            run.status = transition(current, final)
            run.finished_at = utcnow()
            run.error, run.error_type = error, error_type
            s.add(
                EventLogEntry(
                    type=f"sync.{final.value}",
                    connection_id=run.connection_id,
                    payload={
                        "run_id": str(run_id),
                        "read": run.records_read,
                        "written": run.records_written,
                        "quarantined": run.records_quarantined,
                    },
                )
            )
        return final
