"""New fields get a mapping suggestion from the matcher (``autonomos.matching``).

The matcher decides the object's entity and a one-to-one assignment over *all* fields of
the schema, so the whole new schema is given to it and only the new fields' suggestions
are kept. Contract used: ``matcher.suggest(SourceSchema) -> Suggestion`` whose
``mappings`` are ``FieldSuggestion(source_field, target, confidence, signals,
alternatives)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.normalize import normalize_name
from autonomos.aam.repair.planner import Suggest
from autonomos.connectors.schema import FieldSpec, StreamSchema
from autonomos.dcl.registry import MappingStatus

__all__ = ["matcher_suggest", "source_schema", "tenant_matcher", "tenant_memory"]


def source_schema(
    schema: StreamSchema,
    *,
    system: str = "",
    samples: Callable[[str], list[str]] | None = None,
) -> Any:
    """The matcher's ``SourceSchema`` of a stream (names as landed, with samples)."""
    from autonomos.matching.schema import SourceField, SourceSchema

    fields = tuple(
        SourceField(
            name=normalize_name(f.name),
            type=(f.source_type or f.type.value),
            description=f.description or "",
            samples=tuple(samples(normalize_name(f.name)) if samples else ()),
        )
        for f in schema.fields
    )
    return SourceSchema(fields=fields, system=system, object=schema.name)


def matcher_suggest(
    matcher: Any,
    *,
    system: str = "",
    samples: Callable[[str], list[str]] | None = None,
) -> Suggest:
    """A ``Suggest`` for :func:`~autonomos.aam.repair.planner.plan_repairs` backed by
    ``matcher`` (anything with ``suggest(SourceSchema) -> Suggestion``)."""

    def suggest(
        fields: Sequence[FieldSpec], schema: StreamSchema, entity: str | None
    ) -> Mapping[str, Any]:
        wanted = {normalize_name(f.name) for f in fields}
        source = source_schema(schema, system=system, samples=samples)
        # a stream that already maps to an entity keeps it (the matcher must not flip it)
        result = matcher.suggest(source, entity=entity) if entity else matcher.suggest(source)
        return {
            normalize_name(s.source_field): s
            for s in result.mappings
            if normalize_name(s.source_field) in wanted
        }

    return suggest


MACHINE_DECIDERS = ("system", "repair-agent", "batch_map")  # never count as human approvals


async def tenant_memory(session: AsyncSession, tenant_id: uuid.UUID) -> Any:
    """The tenant's mapping memory: mappings people decided (registry rows decided_by a
    user: approvals, edits, manual mappings) and the suggestions they rejected."""
    from autonomos.matching.memory import MappingMemory
    from autonomos.store.dcl_models import MappingRegistry
    from autonomos.store.repair_models import RepairProposalRow

    memory = MappingMemory(tenant_id=str(tenant_id))
    rows = await session.execute(
        select(MappingRegistry.source_field, MappingRegistry.entity, MappingRegistry.field)
        .where(
            MappingRegistry.decided_by.not_in(MACHINE_DECIDERS),
            MappingRegistry.status.in_((MappingStatus.ACTIVE, MappingStatus.SUPERSEDED)),
        )
        .order_by(MappingRegistry.created_at)
    )
    for source_field, entity, field in rows:
        memory.approve(source_field, f"{entity}.{field}")
    rejected = await session.execute(
        select(RepairProposalRow.source_field, RepairProposalRow.target).where(
            RepairProposalRow.status == "rejected",
            RepairProposalRow.kind == "new_mapping",
            RepairProposalRow.target.is_not(None),
        )
    )
    for source_field, target in rejected:
        memory.reject(source_field, str(target))
    return memory


async def tenant_matcher(session: AsyncSession, tenant_id: uuid.UUID) -> Any:
    """A matcher that knows the tenant's past decisions (lexical signals, no embedder:
    the repair agent runs in a light actor; the memory carries the tenant's knowledge)."""
    from autonomos.matching.matcher import Matcher

    return Matcher(memory=await tenant_memory(session, tenant_id), tenant_id=tenant_id)
