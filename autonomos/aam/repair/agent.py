"""The repair agent's work for one tenant: drift event in, proposals (some applied) out.

``RepairService.handle`` reads the drift event and everything the planner needs from SQL
(the two schema versions, the stream's active mappings, landed sample values), plans,
stores the proposals, lets Safe Mode apply the confident non-destructive ones (their view
refreshes are requested in the same transaction, see :mod:`autonomos.dcl.refresh`), then,
after commit, carries out those refreshes and notifies Slack of the new pending
proposals. Handling is idempotent per drift event (a ``repair_runs`` row), so replays and
catch-up scans never duplicate anything. No Ray here: ``actors/repair_agent.py`` is the
shell, and the ports (DCL refresher, notifier, matcher) are given by the composition
root (``autonomos/runtime.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.drift import DriftChange, DriftEvent
from autonomos.aam.errors import InvalidDecision
from autonomos.aam.landing import LandingZone
from autonomos.aam.repair import decisions, store
from autonomos.aam.repair.models import MappingRef, RepairProposal
from autonomos.aam.repair.notify import PendingItem, SlackNotifier
from autonomos.aam.repair.planner import plan_repairs
from autonomos.aam.repair.safe_mode import DEFAULT_THRESHOLD
from autonomos.aam.repair.samples import LandedSamples
from autonomos.aam.repair.suggest import matcher_suggest, tenant_matcher
from autonomos.config import Settings
from autonomos.connectors.schema import StreamSchema, schema_from_dict
from autonomos.dcl import registry
from autonomos.dcl.errors import MappingError
from autonomos.dcl.refresh import RefreshOutcome, RefreshReason, ViewRefresher
from autonomos.ontology import load_ontology
from autonomos.store.aam_models import Connection, DriftEventRow, LandedBatch, SchemaFingerprint
from autonomos.store.base import utcnow
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.models import Tenant
from autonomos.store.repair_models import RepairProposalRow, RepairRun
from autonomos.store.session import Database

__all__ = ["Decision", "HandleResult", "MatcherFactory", "RepairService"]

log = logging.getLogger("autonomos.repair.agent")
SAMPLE_FILES = 3  # newest landed files read per side for sample values
CATCH_UP_LIMIT = 100
CATCH_UP_WINDOW = timedelta(days=7)  # older unhandled drift is history, not work

Decision = Literal["approve", "edit", "reject", "rollback"]
# (tenant session, tenant id) -> a matcher (``suggest(SourceSchema) -> Suggestion``)
MatcherFactory = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]


@dataclass
class HandleResult:
    drift_event_id: str
    already_handled: bool = False
    created: list[str] = field(default_factory=list)  # proposal ids
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    notified: bool = False
    refreshes: list[dict[str, Any]] = field(default_factory=list)  # outcomes, as recorded


@dataclass
class _Inputs:
    event: DriftEvent
    connection_name: str
    old_schema: StreamSchema | None
    new_schema: StreamSchema | None
    mappings: list[MappingRef]
    before_files: list[str]
    after_files: list[str]
    matcher: Any


def _target_type(target: str) -> str | None:
    try:
        return load_ontology().resolve(target)[1].type
    except KeyError:
        return None


class RepairService:
    def __init__(
        self,
        db: Database,
        *,
        default_threshold: float = DEFAULT_THRESHOLD,
        notifier: SlackNotifier | None = None,
        matcher_factory: MatcherFactory | None = None,
        refresher: ViewRefresher | None = None,
        landing: LandingZone | None = None,
    ) -> None:
        """``landing``: where the drift's sample values are read (default: local paths)."""
        self.db = db
        self.landing = landing
        self.default_threshold = default_threshold
        self.notifier = notifier
        self.matcher_factory = matcher_factory
        self.refresher = refresher

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, refresher: ViewRefresher | None
    ) -> RepairService:
        """As the platform configures it: Slack when a webhook is set, the tenant's matcher
        (with its mapping memory), view refreshes through ``refresher`` (built on the DCL
        port of the caller's shell)."""
        url = settings.slack_webhook_url
        return cls(
            db,
            default_threshold=settings.repair_threshold,
            notifier=SlackNotifier(url.get_secret_value()) if url else None,
            matcher_factory=tenant_matcher,
            refresher=refresher,
            landing=LandingZone.from_settings(settings),
        )

    # -- one drift event -----------------------------------------------------------------

    async def handle(self, tenant_id: uuid.UUID, drift_event_id: uuid.UUID) -> HandleResult:
        """Plan, store, auto-apply and announce the repairs of one drift event (once)."""
        result = HandleResult(str(drift_event_id))
        inputs = await self._inputs(tenant_id, drift_event_id)
        if inputs is None:
            result.already_handled = True
            return result
        proposals = await anyio.to_thread.run_sync(self._plan, inputs, drift_event_id)
        try:
            refreshes, notify = await self._store(tenant_id, inputs, proposals, result)
        except IntegrityError:  # a concurrent handler stored them first
            result.already_handled = True
            return result
        if refreshes and self.refresher is not None:
            outcomes = await self.refresher.settle(tenant_id, refreshes)
            result.refreshes = [o.to_dict() for o in outcomes]
        if notify and result.pending:
            result.notified = await self._notify(tenant_id, inputs, result.pending)
        return result

    async def catch_up(
        self, tenant_id: uuid.UUID, limit: int = CATCH_UP_LIMIT
    ) -> list[HandleResult]:
        """Handle the tenant's recent drift events that no run has handled yet (oldest
        first)."""
        async with self.db.tenant_session(tenant_id) as s:
            handled = select(RepairRun.drift_event_id)
            ids = list(
                await s.scalars(
                    select(DriftEventRow.id)
                    .where(
                        DriftEventRow.id.not_in(handled),
                        DriftEventRow.detected_at >= utcnow() - CATCH_UP_WINDOW,
                    )
                    .order_by(DriftEventRow.detected_at)
                    .limit(limit)
                )
            )
        done = []
        for event_id in ids:
            try:
                done.append(await self.handle(tenant_id, event_id))
            except Exception:
                log.exception("tenant %s: repairing drift event %s failed", tenant_id, event_id)
        return done

    # -- a person's decision -------------------------------------------------------------

    async def decide(
        self,
        tenant_id: uuid.UUID,
        proposal_id: uuid.UUID,
        action: Decision,
        decider: decisions.Decider,
        *,
        note: str | None = None,
        edit: decisions.Edit | None = None,
    ) -> tuple[RepairProposalRow, list[RefreshOutcome]]:
        """Approve (as proposed or edited), reject or roll back a proposal in one
        transaction, audited; a decision that changed mappings requests the stream's view
        refresh in that transaction and carries it out after the commit."""
        refreshes: list[uuid.UUID] = []
        async with self.db.tenant_session(tenant_id) as s:
            row = await store.get_proposal(s, proposal_id, for_update=True)
            if edit is not None and not edit.fields():
                raise InvalidDecision("an edit needs a target, transform or new_source_field")
            if action == "reject":
                await decisions.reject(s, row, decider, note)
            elif action == "rollback":
                await decisions.rollback(s, row, decider, note)
            else:
                await decisions.approve(s, row, decider, edit=edit, note=note)
            changed = action != "reject" and any(not st.get("noop") for st in row.applied or [])
            if changed and self.refresher is not None:
                refresh = await self.refresher.request(
                    s,
                    row.connection_id,
                    [row.stream],
                    full=True,
                    reason=RefreshReason.REPAIR,
                    subject_id=row.id,
                )
                refreshes.append(refresh.id)
        outcomes = await self.refresher.settle(tenant_id, refreshes) if self.refresher else []
        return row, outcomes

    # -- steps ---------------------------------------------------------------------------

    async def _inputs(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> _Inputs | None:
        async with self.db.tenant_session(tenant_id) as s:
            if await s.get(RepairRun, event_id) is not None:
                return None
            row = await s.get(DriftEventRow, event_id)
            if row is None:
                raise NotFound(f"drift event {event_id} not found")
            conn = await s.get(Connection, row.connection_id)
            if conn is None:
                raise NotFound("connection not found")
            event = DriftEvent(
                tenant_id=str(tenant_id),
                connection_id=str(row.connection_id),
                stream=row.stream,
                old_fingerprint=row.old_fingerprint or "",
                new_fingerprint=row.new_fingerprint,
                changes=tuple(DriftChange.model_validate(c) for c in row.changes),
                detected_at=row.detected_at,
                severity=row.severity,
            )
            schemas = await self._schemas(s, row)
            mappings = [
                MappingRef.of(m)
                for m in await registry.active_mappings(s, row.connection_id, row.stream)
            ]
            before = await self._files(s, row, row.old_fingerprint)
            after = await self._files(s, row, row.new_fingerprint)
            matcher = await self.matcher_factory(s, tenant_id) if self.matcher_factory else None
            return _Inputs(
                event,
                conn.name,
                schemas.get(row.old_fingerprint or ""),
                schemas.get(row.new_fingerprint),
                mappings,
                before,
                after,
                matcher,
            )

    @staticmethod
    async def _schemas(s: AsyncSession, row: DriftEventRow) -> dict[str, StreamSchema]:
        wanted = [fp for fp in (row.old_fingerprint, row.new_fingerprint) if fp]
        found = await s.scalars(
            select(SchemaFingerprint).where(
                SchemaFingerprint.connection_id == row.connection_id,
                SchemaFingerprint.stream == row.stream,
                SchemaFingerprint.fingerprint.in_(wanted),
            )
        )
        return {f.fingerprint: schema_from_dict(f.schema) for f in found}

    @staticmethod
    async def _files(s: AsyncSession, row: DriftEventRow, fp: str | None) -> list[str]:
        if not fp:
            return []
        return list(
            await s.scalars(
                select(LandedBatch.path)
                .where(
                    LandedBatch.connection_id == row.connection_id,
                    LandedBatch.stream == row.stream,
                    LandedBatch.fingerprint == fp,
                )
                .order_by(LandedBatch.landed_at.desc())
                .limit(SAMPLE_FILES)
            )
        )

    def _plan(self, inputs: _Inputs, event_id: uuid.UUID) -> list[RepairProposal]:
        if self.landing is None:
            samples = LandedSamples(inputs.before_files, inputs.after_files)
        else:
            samples = LandedSamples(
                inputs.before_files, inputs.after_files, opener=self.landing.open
            )
        suggest = None
        if inputs.matcher is not None:
            suggest = matcher_suggest(inputs.matcher, samples=samples.after)
        return plan_repairs(
            inputs.event,
            inputs.mappings,
            old_schema=inputs.old_schema,
            new_schema=inputs.new_schema,
            samples=samples,
            suggest=suggest,
            target_type=_target_type,
            drift_event_id=str(event_id),
        )

    async def _store(
        self,
        tenant_id: uuid.UUID,
        inputs: _Inputs,
        proposals: list[RepairProposal],
        result: HandleResult,
    ) -> tuple[list[uuid.UUID], bool]:
        applied_streams: set[str] = set()
        refreshes: list[uuid.UUID] = []
        async with self.db.tenant_session(tenant_id) as s:
            safe, settings_row = await store.get_settings(s, self.default_threshold)
            rows = await store.save_proposals(s, proposals)
            by_key = {p.dedupe_key(): p for p in proposals}
            for row in rows:
                row_id, stream = str(row.id), row.stream
                result.created.append(row_id)
                ok, why = safe.decide(by_key[row.dedupe_key])
                if ok and await self._auto_apply(s, row, why):
                    result.applied.append(row_id)
                    applied_streams.add(stream)
                else:
                    result.pending.append(row_id)
            s.add(
                RepairRun(
                    drift_event_id=uuid.UUID(result.drift_event_id),
                    connection_id=uuid.UUID(inputs.event.connection_id),
                    proposals=len(rows),
                    applied=len(result.applied),
                )
            )
            await s.flush()
            if applied_streams and self.refresher is not None:
                refresh = await self.refresher.request(
                    s,
                    uuid.UUID(inputs.event.connection_id),
                    applied_streams,
                    full=True,
                    reason=RefreshReason.REPAIR,
                    subject_id=result.drift_event_id,
                )
                refreshes.append(refresh.id)
        notify = settings_row is None or settings_row.notify
        return refreshes, notify

    @staticmethod
    async def _auto_apply(s: AsyncSession, row: RepairProposalRow, why: str) -> bool:
        """Apply in a savepoint: a conflict leaves the proposal pending for a human."""
        try:
            async with s.begin_nested():
                await decisions.approve(
                    s, row, decisions.Decider(decisions.AGENT), note=f"Safe Mode: {why}"
                )
            return True
        except (Conflict, MappingError, NotFound) as e:
            await s.refresh(row)  # the savepoint's rollback expired it
            row.decision_note = f"not applied automatically: {e}"
            return False

    async def _notify(self, tenant_id: uuid.UUID, inputs: _Inputs, pending: list[str]) -> bool:
        if self.notifier is None:
            return False
        async with self.db.tenant_session(tenant_id) as s:
            tenant = await s.get(Tenant, tenant_id)
            rows = list(
                await s.scalars(
                    select(RepairProposalRow).where(
                        RepairProposalRow.id.in_([uuid.UUID(p) for p in pending])
                    )
                )
            )
        items = [
            PendingItem(
                id=str(r.id),
                kind=r.kind,
                connection=inputs.connection_name,
                stream=r.stream,
                summary=r.reason,
                confidence=r.confidence,
                destructive=r.destructive,
            )
            for r in sorted(rows, key=lambda r: (r.kind != "mark_broken", r.created_at))
        ]
        return await self.notifier.pending(tenant.name if tenant else str(tenant_id), items)
