"""One sync run: read a connection's streams, normalise, fingerprint, detect drift, land.

Exactly once: batches are written to the landing zone first, then one transaction
records their manifest rows, their quarantined records, the run's counters and the
stream's new checkpoint. A crash before the commit leaves orphan files and the old
checkpoint, so the restarted run re-reads those rows and lands them once; a later sync
of the stream deletes the orphans (once older than a grace period, see
``_sweep_orphans``).

Complete snapshots (:mod:`autonomos.aam.snapshots`): batches carry the part and
generation the connector tagged them with, and a stream's snapshot is applied in the
transaction that marks the run ``succeeded`` (never for a failed or cancelled run).

Drift is stored when the stream's first batch resolves its schema
(:mod:`autonomos.aam.schema_resolution`) and then published (``publish_drift``, e.g. to
the tenant's ``drift`` topic); canonical events are published after each commit. Both
are best effort on top of SQL, which stays the record.

The connector is built under the tenant's edge policy, derived again here from the
engine's Settings and the tenant id (never from the stored configuration), so a run in a
Ray actor is held to the same roots and allow-list as the API that accepted it.

This is core logic (no Ray): the ConnectorActor calls :meth:`SyncEngine.run`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
import pyarrow as pa
from sqlalchemy import delete, select

from autonomos.aam.drift import DriftPolicy
from autonomos.aam.edge import EdgePolicies
from autonomos.aam.events import CanonicalEvent, DriftDetected
from autonomos.aam.fingerprint import fingerprint
from autonomos.aam.landing import LandingError, LandingZone
from autonomos.aam.normalize import normalize_batch
from autonomos.aam.schema_resolution import resolve_schema
from autonomos.aam.snapshots import apply_snapshot
from autonomos.aam.sync_runs import SyncStatus, transition
from autonomos.config import Settings
from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    RecordBatchMessage,
    SnapshotMessage,
    StateMessage,
    redact,
)
from autonomos.connectors.configs import join
from autonomos.connectors.configs.base import texts
from autonomos.connectors.edge import EdgePolicy
from autonomos.connectors.registry import build_connector
from autonomos.connectors.schema import StreamSchema
from autonomos.events import EventBus, publisher
from autonomos.events.log import record
from autonomos.store.aam_models import (
    Connection,
    LandedBatch,
    QuarantinedRecord,
    StreamState,
    SyncRun,
)
from autonomos.store.base import utcnow
from autonomos.store.errors import NotFound, is_disconnect
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database

log = logging.getLogger("autonomos.aam.sync")

Publish = Callable[[CanonicalEvent], Awaitable[None]]
PublishDrift = Callable[[DriftDetected], Awaitable[None]]
# An uncommitted landed file older than this is an orphan. A live run commits each file
# within one batch's read time, so an hour is far beyond any writer still in flight.
DEFAULT_ORPHAN_GRACE_S = 3600.0
DEFAULT_SUPERSEDED_KEEP_S = 7 * 86400.0
MAX_QUARANTINE_ROWS_PER_BATCH = 1_000  # beyond this only the count is kept
DEFAULT_RETRY_WINDOW_S = 120.0  # keep retrying an unreachable database / landing store
MAX_BACKOFF_S = 5.0


def unreachable(exc: BaseException) -> bool:
    """The metadata database or the landing store could not be reached: the run waits and
    resumes from its last committed checkpoint rather than failing at once."""
    return isinstance(exc, LandingError) or is_disconnect(exc)


class SyncCancelled(Exception):
    pass


@dataclass
class _Pending:
    """Landed but not yet committed: files, quarantined rows and counters."""

    # path, rows, fingerprint, part, generation
    batches: list[tuple[str, int, str, str | None, str | None]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    written: int = 0
    quarantined: int = 0


async def _in_thread(it: Iterator[Any]) -> Any:
    return await anyio.to_thread.run_sync(next, it, None)


class SyncEngine:
    def __init__(
        self,
        db: Database,
        landing: LandingZone,
        box: SecretBox,
        edges: EdgePolicies,
        *,
        publish: Publish | None = None,
        publish_drift: PublishDrift | None = None,
        orphan_grace_s: float = DEFAULT_ORPHAN_GRACE_S,
        superseded_keep_s: float = DEFAULT_SUPERSEDED_KEEP_S,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
        retry_window_s: float = DEFAULT_RETRY_WINDOW_S,
        connector_factory: Callable[[str, dict[str, Any], EdgePolicy], Connector] = build_connector,
    ) -> None:
        self.db, self.landing, self.box, self.edges = db, landing, box, edges
        self.publish, self.publish_drift = publish, publish_drift
        self.orphan_grace_s = orphan_grace_s
        self.superseded_keep = timedelta(seconds=superseded_keep_s)
        self.max_attempts, self.backoff_s = max_attempts, backoff_s
        self.retry_window_s = retry_window_s
        self.connector_factory = connector_factory
        self._commits = 0  # progress marker: a commit since a failure restarts its window

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        bus: EventBus,
        tenant_id: uuid.UUID,
        box: SecretBox | None = None,
        edges: EdgePolicies | None = None,
    ) -> SyncEngine:
        """The engine of one tenant's syncs (in-process or in its connector actor), landing
        under the data dir and publishing on the tenant's ``canonical``/``drift`` topics."""
        return cls(
            db,
            LandingZone.from_settings(settings),
            box or SecretBox.from_settings(settings),
            edges or EdgePolicies(settings),  # the tenant's policy, from Settings, each run
            publish=publisher(bus, tenant_id, "canonical"),
            publish_drift=publisher(bus, tenant_id, "drift"),
            retry_window_s=settings.sync_retry_window_s,
            superseded_keep_s=settings.landing_superseded_keep_days * 86400,
        )

    async def run(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SyncStatus:
        """Run (or resume) a sync run to a finished status; never raises for source errors.

        While the database or the landing store is unreachable it waits (backoff, up to
        ``retry_window_s`` without progress) and resumes from the last commit; past that
        the run fails as transient, or, when even that cannot be recorded, this raises
        and the run stays ``running`` for its supervisor to resubmit.
        """
        start = await self._retrying(f"sync run {run_id}: start", self._start, tenant_id, run_id)
        if isinstance(start, SyncStatus):
            return start
        conn_id, source_type, config, policy, wanted, edge = start
        final, error, error_type = SyncStatus.SUCCEEDED, None, None
        connector: Connector | None = None
        snapshots: dict[str, dict[str, str]] = {}  # stream -> its complete snapshot's parts
        try:
            connector = await anyio.to_thread.run_sync(
                self.connector_factory, source_type, config, edge
            )
            streams = await anyio.to_thread.run_sync(connector.discover)
            unknown = wanted - {st.name for st in streams}
            if unknown:
                raise ConnectorError(
                    f"unknown stream(s): {', '.join(sorted(unknown))}", FailureType.CONFIGURATION
                )
            for schema in streams:
                if not wanted or schema.name in wanted:
                    parts = await self._with_retries(
                        connector, tenant_id, run_id, conn_id, schema, policy
                    )
                    if parts is not None:
                        snapshots[schema.name] = parts
        except SyncCancelled:
            final = SyncStatus.CANCELLED
        except ConnectorError as e:
            secrets = connector.secrets() if connector else texts(config)
            final, error, error_type = SyncStatus.FAILED, redact(str(e), secrets), e.failure.value
        except LandingError as e:  # the landing store failed: say so (it names no secret)
            log.warning("sync run %s: %s", run_id, e)
            final, error, error_type = SyncStatus.FAILED, str(e), FailureType.TRANSIENT.value
        except Exception as e:
            if is_disconnect(e):  # still unreachable after the retry window
                log.warning("sync run %s: metadata database unreachable: %s", run_id, e)
                final, error, error_type = (
                    SyncStatus.FAILED,
                    f"the metadata database was unreachable for {self.retry_window_s:.0f} s",
                    FailureType.TRANSIENT.value,
                )
            else:  # a bug must still end the run, with the cause recorded
                log.exception("sync run %s failed unexpectedly", run_id)
                final, error, error_type = (
                    SyncStatus.FAILED,
                    f"internal error: {type(e).__name__}",
                    "terminal",
                )
        finally:
            if connector is not None:
                await anyio.to_thread.run_sync(connector.close)
        return await self._retrying(
            f"sync run {run_id}: finish",
            self._finish,
            tenant_id,
            run_id,
            final,
            error,
            error_type,
            snapshots,
        )

    async def _start(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        """The run moved to running and what it needs; its status if already finished."""
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
                record(
                    s,
                    "sync.started",
                    subject={"connection_id": run.connection_id, "run_id": run_id},
                    streams=run.streams,
                )
            wanted = set(run.streams or ())
            config = join(conn.config, self.box.decrypt(conn.secrets) if conn.secrets else {})
            source_type, policy = conn.source_type, DriftPolicy(conn.drift_policy)
            edge = await self.edges.for_tenant(s, tenant_id)
            return conn.id, source_type, config, policy, wanted, edge

    def _backoff(self, failures: int, remaining_s: float) -> float:
        return max(0.0, min(self.backoff_s * 2 ** (failures - 1), MAX_BACKOFF_S, remaining_s))

    async def _retrying(self, what: str, step: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """``step(*args)``, retried while the database or landing store is unreachable
        (for up to ``retry_window_s``); its own transaction makes each attempt whole."""
        began, failures = time.monotonic(), 0
        while True:
            try:
                return await step(*args)
            except Exception as e:
                remaining = self.retry_window_s - (time.monotonic() - began)
                if not unreachable(e) or remaining <= 0:
                    raise
                failures += 1
                delay = self._backoff(failures, remaining)
                log.warning(
                    "%s: %s unreachable, retry %d in %.1fs", what, _what(e), failures, delay
                )
                await asyncio.sleep(delay)

    async def _with_retries(
        self,
        connector: Connector,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        connection_id: uuid.UUID,
        discovered: StreamSchema,
        policy: DriftPolicy,
    ) -> dict[str, str] | None:
        """Sync one stream (its complete snapshot's parts, if any, see :meth:`_sync_stream`);
        a transient source error is retried ``max_attempts`` times, an
        unreachable database or landing store for ``retry_window_s`` without a commit.
        Each retry starts again from the stream's committed checkpoint (files landed but
        not committed are orphans, swept later), so nothing is lost or landed twice."""
        attempt, outage_began, failures, commits = 0, 0.0, 0, self._commits
        while True:
            try:
                return await self._sync_stream(
                    connector, tenant_id, run_id, connection_id, discovered, policy
                )
            except ConnectorError as e:
                attempt += 1
                if not e.retryable or attempt >= self.max_attempts:
                    raise
                delay = e.retry_after_s or self.backoff_s * 2 ** (attempt - 1)
                log.warning(
                    "stream %s: transient error, retry %d in %.1fs", discovered.name, attempt, delay
                )
            except Exception as e:
                if not unreachable(e):
                    raise
                now = time.monotonic()
                if failures == 0 or self._commits != commits:  # a new outage
                    outage_began, failures, commits = now, 0, self._commits
                remaining = self.retry_window_s - (now - outage_began)
                if remaining <= 0:
                    if isinstance(e, LandingError):
                        raise LandingError(f"{e} (retried for {now - outage_began:.0f} s)") from e
                    raise
                failures += 1
                delay = self._backoff(failures, remaining)
                log.warning(
                    "stream %s: %s unreachable, retry %d in %.1fs",
                    discovered.name,
                    _what(e),
                    failures,
                    delay,
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
    ) -> dict[str, str] | None:
        """Read one stream to its end; its complete snapshot's parts, if it ended with one
        and quarantined nothing (a record that failed normalisation is not a deleted one)."""
        stream = discovered.name
        async with self.db.tenant_session(tenant_id) as s:
            row = await s.get(StreamState, (connection_id, stream))
            if row is not None and row.paused:
                return None  # blocked by drift policy until a human resumes it
            checkpoint = dict(row.state) if row and row.state else None
        await self._sweep_orphans(tenant_id, connection_id, stream)
        items = iter(connector.read(stream, checkpoint))
        schema: StreamSchema | None = None
        held: tuple[str, ...] = ()
        pending = _Pending()
        read_at = utcnow()
        snapshot: dict[str, str] | None = None
        quarantined = 0
        while (item := await _in_thread(items)) is not None:
            if isinstance(item, RecordBatchMessage):
                if item.batch.num_rows == 0 and schema is None:
                    continue
                if schema is None:
                    resolved = await self._resolve_schema(
                        tenant_id, run_id, connection_id, discovered, item.batch, policy
                    )
                    if resolved is None:
                        return None  # paused
                    schema, held = resolved
                await anyio.to_thread.run_sync(
                    self._land, tenant_id, connection_id, schema, held, item, pending
                )
            elif isinstance(item, StateMessage):
                events = await self._commit(
                    tenant_id, run_id, connection_id, stream, item.state, pending
                )
                quarantined += pending.quarantined
                pending = _Pending()
                await self._publish(
                    events, tenant_id, connection_id, stream, run_id, item.state, read_at
                )
            elif isinstance(item, SnapshotMessage):
                # only batches already acknowledged can make up a snapshot
                snapshot = None if pending.batches else dict(item.parts)
        if pending.batches or pending.read:  # connector ended without a final state
            await self._commit(tenant_id, run_id, connection_id, stream, checkpoint, pending)
            quarantined += pending.quarantined
        if snapshot is not None and quarantined:
            log.warning(
                "stream %s: %d record(s) quarantined; its snapshot deletes nothing this run",
                stream,
                quarantined,
            )
            return None
        return snapshot

    def _land(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        schema: StreamSchema,
        held: tuple[str, ...],
        item: RecordBatchMessage,
        pending: _Pending,
    ) -> None:
        batch = item.batch
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
            pending.batches.append(
                (str(path), good.num_rows, fingerprint(schema), item.part, item.generation)
            )

    async def _resolve_schema(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        connection_id: uuid.UUID,
        discovered: StreamSchema,
        first: pa.RecordBatch,
        policy: DriftPolicy,
    ) -> tuple[StreamSchema, tuple[str, ...]] | None:
        """The stream's schema for this run (None: paused); drift is published once stored."""
        async with self.db.tenant_session(tenant_id) as s:
            found = await resolve_schema(s, connection_id, discovered, first, policy)
        if found.drift is not None and self.publish_drift is not None:
            row = found.drift
            assert found.decision is not None
            await self.publish_drift(
                DriftDetected(
                    event_id=row.id,
                    tenant_id=str(tenant_id),
                    connection_id=str(connection_id),
                    stream=row.stream,
                    old_fingerprint=row.old_fingerprint or "",
                    new_fingerprint=row.new_fingerprint,
                    changes=found.changes,
                    detected_at=row.detected_at,
                    severity=row.severity,
                    sync_run_id=run_id,
                    status=row.status,
                    decision=found.decision,
                )
            )
        return None if found.paused else (found.schema, found.held)

    async def _sweep_orphans(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str
    ) -> int:
        """Remove the stream's landed files that no committed manifest row lists (left by
        a crash between write and commit), if older than ``orphan_grace_s``: a younger
        file may belong to a run of this connection still on its way to its commit.

        Batches superseded by a complete snapshot longer than ``superseded_keep`` ago
        leave the manifest first, so their files go with the orphans (no view reads a
        superseded batch: the DCL plans from live ones only)."""
        async with self.db.tenant_session(tenant_id) as s:
            expired = await s.execute(
                delete(LandedBatch).where(
                    LandedBatch.connection_id == connection_id,
                    LandedBatch.stream == stream,
                    LandedBatch.superseded_at < utcnow() - self.superseded_keep,
                )
            )
            if expired.rowcount:  # type: ignore[attr-defined]
                log.info(
                    "stream %s: %d superseded batch(es) left the manifest",
                    stream,
                    expired.rowcount,  # type: ignore[attr-defined]
                )
            # the whole connection's files: two stream names may share a directory
            keep = set(
                await s.scalars(
                    select(LandedBatch.path).where(LandedBatch.connection_id == connection_id)
                )
            )
        removed = await anyio.to_thread.run_sync(
            lambda: self.landing.sweep(
                tenant_id, connection_id, stream, keep, older_than_s=self.orphan_grace_s
            )
        )
        if removed:
            log.warning("stream %s: removed %d orphan landed file(s)", stream, removed)
        return removed

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
                    part=part,
                    generation=generation,
                )
                for path, rows, fp, part, generation in pending.batches
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
        self._commits += 1
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
        snapshots: dict[str, dict[str, str]] | None = None,
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
            # only a succeeded run's snapshots count: a failed one's may rest on a partial read
            applied = dict(snapshots or {}) if final is SyncStatus.SUCCEEDED else {}
            superseded = 0
            for stream, parts in sorted(applied.items()):
                superseded += await apply_snapshot(
                    s, run.connection_id, stream, parts, run_id, run.finished_at
                )
            record(
                s,
                f"sync.{final.value}",
                subject={"connection_id": run.connection_id, "run_id": run_id},
                read=run.records_read,
                written=run.records_written,
                quarantined=run.records_quarantined,
                snapshots=sorted(applied),
                superseded_batches=superseded,
                error=error,
            )
        return final


def _what(exc: BaseException) -> str:
    return "landing store" if isinstance(exc, LandingError) else "database"
