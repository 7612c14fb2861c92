"""Where tenant actors run on a cluster: a preference per actor kind, never a requirement.

``AUTONOMOS_ACTOR_NODE_LABELS`` names, per kind, the node labels (``ray start --labels``)
its actors prefer, e.g. connectors on ingest nodes and DCL actors on the nodes that serve
views. A preference rather than a requirement because every actor must be able to run
somewhere: when the preferred nodes are gone (the node died, the autoscaler removed it) a
restarted actor must come back on whatever node is left, not wait for one that may never
return. Ray's ``label_selector`` with a ``fallback_strategy`` that selects any node says
exactly that (its older ``NodeLabelSchedulingStrategy`` with only ``soft`` labels ignored
the preference when we measured it on Ray 2.60).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autonomos.config import Settings

ANY_NODE: dict[str, Any] = {"label_selector": {}}


def placement(settings: Settings, kind: str) -> dict[str, Any]:
    """``.options(...)`` that place an actor of ``kind`` as the settings prefer ({}: anywhere)."""
    labels = next((v for k, v in settings.actor_node_labels.items() if k == kind), None)
    if not labels:
        return {}
    return {"label_selector": dict(labels), "fallback_strategy": [dict(ANY_NODE)]}
