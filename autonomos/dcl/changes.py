"""Mapping changes made by a person: set, retire, restore — audited, announced, refreshed.

Each change is one tenant transaction holding the registry write, its audit row, its
``mapping.changed`` event (``events.log.record``) and (when asked) the view refresh
request of the stream it touches (:mod:`autonomos.dcl.refresh`); after the commit the
refresh is carried out and its recorded outcome returned. Repair decisions and batch
mapping take the same refresh path (``aam/repair``, ``jobs``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.dcl import registry
from autonomos.dcl.refresh import RefreshOutcome, RefreshReason, ViewRefresher
from autonomos.dcl.registry import MappingStatus
from autonomos.events.log import record
from autonomos.store.audit import audit
from autonomos.store.dcl_models import MappingRegistry

if TYPE_CHECKING:
    from autonomos.store.session import Database

__all__ = ["Editor", "MappingChanges"]


@dataclass(frozen=True)
class Editor:
    """Who changes a mapping (a user, from an API request)."""

    user_id: uuid.UUID
    request_id: str | None = None

    @property
    def decided_by(self) -> str:
        return f"user:{self.user_id}"


Change = Callable[[AsyncSession], Awaitable[MappingRegistry]]


class MappingChanges:
    def __init__(self, db: Database, refresher: ViewRefresher) -> None:
        self.db, self.refresher = db, refresher

    async def set(
        self,
        tenant_id: uuid.UUID,
        editor: Editor,
        *,
        connection_id: uuid.UUID,
        stream: str,
        source_field: str,
        entity: str,
        field: str,
        transform: str | None = None,
        confidence: float = 1.0,
        status: MappingStatus = MappingStatus.ACTIVE,
        replace_target: bool = False,
        materialize: bool = True,
    ) -> tuple[MappingRegistry, RefreshOutcome | None]:
        """Map a source field onto an ontology field (a new version when anything changed)."""

        async def change(s: AsyncSession) -> MappingRegistry:
            return await registry.set_mapping(
                s,
                connection_id=connection_id,
                stream=stream,
                source_field=source_field,
                entity=entity,
                field=field,
                transform=transform,
                confidence=confidence,
                status=status,
                decided_by=editor.decided_by,
                replace_target=replace_target,
            )

        def details(row: MappingRegistry) -> dict[str, Any]:
            return {
                "stream": row.stream,
                "source_field": row.source_field,
                "target": f"{row.entity}.{row.field}",
            }

        return await self._apply(tenant_id, editor, "mapping.set", change, details, materialize)

    async def retire(
        self,
        tenant_id: uuid.UUID,
        editor: Editor,
        *,
        connection_id: uuid.UUID,
        stream: str,
        source_field: str,
        status: MappingStatus = MappingStatus.RETIRED,
        materialize: bool = True,
    ) -> tuple[MappingRegistry, RefreshOutcome | None]:
        """Switch a field's mapping off (``retired``, or ``broken`` when the source changed)."""

        async def change(s: AsyncSession) -> MappingRegistry:
            return await registry.retire_mapping(
                s,
                connection_id=connection_id,
                stream=stream,
                source_field=source_field,
                status=status,
                decided_by=editor.decided_by,
            )

        return await self._apply(
            tenant_id,
            editor,
            "mapping.retire",
            change,
            lambda row: {"status": row.status},
            materialize,
        )

    async def restore(
        self,
        tenant_id: uuid.UUID,
        editor: Editor,
        mapping_id: uuid.UUID,
        *,
        replace_target: bool = False,
        materialize: bool = True,
    ) -> tuple[MappingRegistry, RefreshOutcome | None]:
        """Re-activate a past version of a field's mapping, as its newest version."""

        async def change(s: AsyncSession) -> MappingRegistry:
            return await registry.restore(
                s, mapping_id, editor.decided_by, replace_target=replace_target
            )

        return await self._apply(
            tenant_id,
            editor,
            "mapping.restore",
            change,
            lambda _: {"restored_from": str(mapping_id)},
            materialize,
        )

    async def _apply(
        self,
        tenant_id: uuid.UUID,
        editor: Editor,
        action: str,
        change: Change,
        details: Callable[[MappingRegistry], dict[str, Any]],
        materialize: bool,
    ) -> tuple[MappingRegistry, RefreshOutcome | None]:
        refresh_id = None
        async with self.db.tenant_session(tenant_id) as s:
            row = await change(s)
            await audit(
                s,
                action,
                "mapping",
                row.id,
                actor_id=editor.user_id,
                request_id=editor.request_id,
                version=row.version,
                **details(row),
            )
            record(
                s,
                "mapping.changed",
                subject={
                    "connection_id": row.connection_id,
                    "stream": row.stream,
                    "mapping_id": row.id,
                },
                action=action.removeprefix("mapping."),
                source_field=row.source_field,
                target=f"{row.entity}.{row.field}",
                status=row.status,
                version=row.version,
                decided_by=row.decided_by,
            )
            if materialize:
                request = await self.refresher.request(
                    s,
                    row.connection_id,
                    [row.stream],
                    full=False,
                    reason=RefreshReason.MAPPING,
                    subject_id=row.id,
                )
                refresh_id = request.id
        if refresh_id is None:
            return row, None
        (outcome,) = await self.refresher.settle(tenant_id, [refresh_id])
        return row, outcome
