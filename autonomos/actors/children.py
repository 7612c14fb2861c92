"""The kinds of child actor a TenantSupervisor can own, and how each is created.

A kind is registered by one :class:`ChildSpec` in :data:`CHILD_KINDS`. The spec names the
``@ray.remote`` class by import path (``"package.module:Class"``) so that this module,
which every supervisor process imports, never imports the children's heavy modules: a
class is imported only when its first actor is created.

Contract of a child class:

- constructor ``(settings, tenant_id)``, or ``(settings, tenant_id, child_id)`` when the
  kind is ``keyed`` (one actor per id, e.g. per connection); the id is a string;
- a ``ping()`` method (any return value): the supervisor's liveness probe;
- all durable state in SQL or on disk, so that it can be passivated (killed when idle)
  and rebuilt by its constructor at any time;
- optionally a method named by ``busy`` returning True while it has work in flight that
  the supervisor cannot see (it is then not passivated);
- optionally (one-per-tenant kinds only) a method named by ``on_drift``: the supervisor
  calls it with each drift event (``drift_monitor.drift_event_dict``) of every finished
  run, creating the child if needed. It must be idempotent (events may be re-sent).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from autonomos.actors.naming import KINDS, actor_name
from autonomos.actors.warm import get_or_create

if TYPE_CHECKING:
    from autonomos.config import Settings


@dataclass(frozen=True)
class ChildSpec:
    actor: str  # "package.module:Class" of a @ray.remote class
    keyed: bool = False  # one actor per child id (else one per tenant)
    busy: str | None = None  # name of an optional "do not passivate me" method
    on_drift: str | None = None  # name of a method that receives drift events
    options: Mapping[str, Any] = field(default_factory=dict)  # extra .options(...)

    def actor_class(self) -> Any:
        module, _, name = self.actor.partition(":")
        if not module or not name:
            raise ValueError(f"actor path {self.actor!r} is not 'package.module:Class'")
        return getattr(importlib.import_module(module), name)


# Built-in kinds. Another kind is one more entry here, e.g.
#   "repair": ChildSpec("autonomos.actors.repair_agent:RepairAgent", busy="busy",
#                       on_drift="handle_drift"),
#   "dcl": ChildSpec("autonomos.actors.dcl:<class>", busy=...),
# (its kind must also be one of naming.KINDS).
CHILD_KINDS: dict[str, ChildSpec] = {
    "connector": ChildSpec("autonomos.actors.connector:ConnectorActor", keyed=True),
    "drift": ChildSpec("autonomos.actors.drift_monitor:DriftMonitor", on_drift="notify"),
    "repair": ChildSpec(
        "autonomos.actors.repair_agent:RepairAgent", busy="busy", on_drift="handle_drift"
    ),
    # detached like ``actors.dcl.dcl_handle`` (the API's way in): one actor whoever creates it
    "dcl": ChildSpec("autonomos.actors.dcl:DCL", busy="busy", options={"lifetime": "detached"}),
}


def check_kinds(kinds: Mapping[str, ChildSpec]) -> None:
    for kind, spec in kinds.items():
        if kind == "supervisor" or kind not in KINDS:
            raise ValueError(f"child kind {kind!r} must be one of naming.KINDS (not supervisor)")
        if not isinstance(spec, ChildSpec):
            raise TypeError(f"child kind {kind!r}: expected a ChildSpec")
        if spec.keyed and spec.on_drift:
            raise ValueError(f"child kind {kind!r}: on_drift needs a one-per-tenant kind")


def create_child(
    spec: ChildSpec,
    kind: str,
    settings: Settings,
    tenant_id: UUID,
    child_id: str | None,
    namespace: str,
) -> Any:
    """Get or create the named child (owned by the calling actor: it shares our fate)."""
    if spec.keyed != (child_id is not None):
        raise ValueError(f"child kind {kind!r} {'needs' if spec.keyed else 'takes no'} child id")
    args: tuple[Any, ...] = (settings, tenant_id) + ((child_id,) if spec.keyed else ())
    name = actor_name(kind, tenant_id, child_id)
    return get_or_create(
        settings, spec.actor_class(), kind, name, namespace, args, options=spec.options
    )
