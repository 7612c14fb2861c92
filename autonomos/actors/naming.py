"""Actor names: ``<kind>:<tenant_id>[:<id>]``, unique within the AutonomOS Ray namespace.

A name is the actor's identity (virtual actors): whoever needs the tenant's supervisor
or a connection's actor derives the name and gets-or-creates it, so a passivated or
crashed actor is transparently rebuilt under the same name.
"""

from __future__ import annotations

from typing import get_args
from uuid import UUID

from autonomos.config import ActorKindName as ActorKind

KINDS: frozenset[str] = frozenset(get_args(ActorKind))


def actor_name(kind: str, tenant_id: UUID, child_id: UUID | str | None = None) -> str:
    """The Ray actor name for ``kind`` of ``tenant_id`` (and of ``child_id`` if given)."""
    if kind not in KINDS:
        raise ValueError(f"unknown actor kind {kind!r}; expected one of {sorted(KINDS)}")
    if not isinstance(tenant_id, UUID):
        raise TypeError("tenant_id must be a UUID")
    if child_id is None:
        return f"{kind}:{tenant_id}"
    child = str(child_id)
    if not child or ":" in child:
        raise ValueError(f"child id {child!r} must be non-empty and contain no ':'")
    return f"{kind}:{tenant_id}:{child}"
