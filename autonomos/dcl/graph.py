"""The tenant's data graph, for the dashboard: where every unified record comes from.

    connection ──has_stream──► stream ──maps_to──► entity ──resolves_into──► unified view
                                                     ▲                            ▲
                                                     └────────── reads ─────── agent

Built from SQL alone (no DuckDB, no Ray) in seven small grouped queries, whatever the
number of connections: connections, stream checkpoints, landed batches, open drift
events, current mappings by (connection, stream, entity, status), the last
materialisation of each slice (``view_materializations``: rows, freshness, failures) and
mapped fields per entity. Every node and edge has a stable ``id``, a ``type``, a ``label`` and a
``data`` dict, the shape graph widgets (React Flow, Cytoscape) take.

Agents are whatever personas the caller passes in (none are configured yet).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.dcl.registry import MappingStatus
from autonomos.dcl.resolution import UNIFIED_VIEWS
from autonomos.ontology import Ontology
from autonomos.store.aam_models import Connection, DriftEventRow, LandedBatch, StreamState
from autonomos.store.dcl_models import MappingRegistry, ViewMaterialization

NodeType = Literal["connection", "stream", "entity", "unified_view", "agent"]
EdgeType = Literal["has_stream", "maps_to", "resolves_into", "reads"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "breaking": 2}


@dataclass(frozen=True)
class AgentPersona:
    """An agent that reads the unified data: ``reads`` names entities or unified views."""

    name: str
    label: str
    reads: tuple[str, ...] = ()
    description: str = ""


@dataclass
class Node:
    id: str
    type: NodeType
    label: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Edge:
    id: str
    source: str
    target: str
    type: EdgeType
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = defaultdict(int)
        for n in self.nodes:
            counts[n.type] += 1
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
            "stats": {"nodes": dict(counts), "edges": len(self.edges)},
        }


def connection_node_id(connection_id: uuid.UUID) -> str:
    return f"connection:{connection_id}"


def stream_node_id(connection_id: uuid.UUID, stream: str) -> str:
    return f"stream:{connection_id}/{stream}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class _Stream:
    paused: bool = False
    checkpoint_at: datetime | None = None
    batches: int = 0
    rows: int = 0
    landed_at: datetime | None = None
    open_drift: int = 0
    severity: str | None = None
    drift_at: datetime | None = None


async def build_graph(
    session: AsyncSession,
    ontology: Ontology,
    *,
    connection_id: uuid.UUID | None = None,
    agents: Sequence[AgentPersona] = (),
) -> Graph:
    """The graph of the session's tenant (of one connection when ``connection_id``)."""

    def only(query: Any, column: Any) -> Any:
        return query if connection_id is None else query.where(column == connection_id)

    connections = list(
        await session.scalars(only(select(Connection), Connection.id).order_by(Connection.name))
    )
    streams: dict[tuple[uuid.UUID, str], _Stream] = defaultdict(_Stream)
    for cid, name, paused, at in await session.execute(
        only(
            select(
                StreamState.connection_id,
                StreamState.stream,
                StreamState.paused,
                StreamState.updated_at,
            ),
            StreamState.connection_id,
        )
    ):
        s = streams[(cid, name)]
        s.paused, s.checkpoint_at = paused, at
    for cid, name, n, rows, at in await session.execute(
        only(
            select(
                LandedBatch.connection_id,
                LandedBatch.stream,
                func.count(),
                func.coalesce(func.sum(LandedBatch.rows), 0),
                func.max(LandedBatch.landed_at),
            ),
            LandedBatch.connection_id,
        )
        .where(LandedBatch.live())  # superseded batches' rows are gone from the source
        .group_by(LandedBatch.connection_id, LandedBatch.stream)
    ):
        s = streams[(cid, name)]
        s.batches, s.rows, s.landed_at = int(n), int(rows), at
    for cid, name, severity, n, at in await session.execute(
        only(
            select(
                DriftEventRow.connection_id,
                DriftEventRow.stream,
                DriftEventRow.severity,
                func.count(),
                func.max(DriftEventRow.detected_at),
            ),
            DriftEventRow.connection_id,
        )
        .where(DriftEventRow.status == "open")
        .group_by(DriftEventRow.connection_id, DriftEventRow.stream, DriftEventRow.severity)
    ):
        s = streams[(cid, name)]
        s.open_drift += int(n)
        if SEVERITY_ORDER.get(severity, -1) > SEVERITY_ORDER.get(s.severity or "", -1):
            s.severity = severity
        s.drift_at = max(filter(None, (s.drift_at, at)), default=None)
    mapped: dict[tuple[uuid.UUID, str, str], dict[str, Any]] = {}
    for cid, name, entity, status, n, mean, low in await session.execute(
        only(
            select(
                MappingRegistry.connection_id,
                MappingRegistry.stream,
                MappingRegistry.entity,
                MappingRegistry.status,
                func.count(),
                func.avg(MappingRegistry.confidence),
                func.min(MappingRegistry.confidence),
            ),
            MappingRegistry.connection_id,
        )
        .where(MappingRegistry.status != MappingStatus.SUPERSEDED)
        .group_by(
            MappingRegistry.connection_id,
            MappingRegistry.stream,
            MappingRegistry.entity,
            MappingRegistry.status,
        )
    ):
        streams.setdefault((cid, name), _Stream())  # mapped before it landed: still a node
        edge = mapped.setdefault((cid, name, entity), {"by_status": {}})
        edge["by_status"][status] = int(n)
        if status == MappingStatus.ACTIVE:
            edge["mappings"] = int(n)
            edge["mean_confidence"] = round(float(mean), 4)
            edge["min_confidence"] = round(float(low), 4)
    views: dict[tuple[uuid.UUID, str, str], dict[str, Any]] = {}
    for cid, name, entity, status, rows, at, error in await session.execute(
        only(
            select(
                ViewMaterialization.connection_id, ViewMaterialization.stream,
                ViewMaterialization.entity, ViewMaterialization.status,
                ViewMaterialization.rows, ViewMaterialization.materialized_at,
                ViewMaterialization.error,
            ),
            ViewMaterialization.connection_id,
        )
    ):  # fmt: skip
        views[(cid, name, entity)] = {
            "status": status,
            "rows": int(rows or 0),
            "materialized_at": _iso(at),
            "error": error,
        }
    covered = dict(
        (
            await session.execute(
                only(
                    select(
                        MappingRegistry.entity,
                        func.count(func.distinct(MappingRegistry.field)),
                    ),
                    MappingRegistry.connection_id,
                )
                .where(MappingRegistry.status == MappingStatus.ACTIVE)
                .group_by(MappingRegistry.entity)
            )
        ).all()
    )
    return _assemble(ontology, connections, streams, mapped, views, covered, agents)


def _assemble(
    ontology: Ontology,
    connections: list[Connection],
    streams: dict[tuple[uuid.UUID, str], _Stream],
    mapped: dict[tuple[uuid.UUID, str, str], dict[str, Any]],
    views: dict[tuple[uuid.UUID, str, str], dict[str, Any]],
    covered: dict[str, int],
    agents: Sequence[AgentPersona],
) -> Graph:
    known = {c.id: c for c in connections}
    nodes: list[Node] = []
    edges: list[Edge] = []
    per_connection: dict[uuid.UUID, list[tuple[str, _Stream]]] = defaultdict(list)
    for (cid, name), s in sorted(streams.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if cid in known:  # rows of a connection being deleted are skipped
            per_connection[cid].append((name, s))
    sources: dict[str, set[str]] = defaultdict(set)
    for cid, _stream, entity in mapped:
        if cid in known:
            sources[entity].add(str(cid))
    for c in connections:
        cnode = connection_node_id(c.id)
        own = per_connection[c.id]
        nodes.append(
            Node(
                cnode,
                "connection",
                c.name,
                {
                    "connection_id": str(c.id),
                    "source_type": c.source_type,
                    "status": c.status,
                    "drift_policy": c.drift_policy,
                    "streams": len(own),
                    "open_drift_events": sum(s.open_drift for _, s in own),
                    "mappings": sum(
                        d.get("mappings", 0) for (cid, _, _), d in mapped.items() if cid == c.id
                    ),
                },
            )
        )
        for name, s in own:
            snode = stream_node_id(c.id, name)
            drift = {
                "state": "drifted" if s.open_drift else "ok",
                "open_events": s.open_drift,
                "max_severity": s.severity,
                "last_detected_at": _iso(s.drift_at),
            }
            nodes.append(
                Node(
                    snode,
                    "stream",
                    name,
                    {
                        "connection_id": str(c.id),
                        "stream": name,
                        "paused": s.paused,
                        "batches": s.batches,
                        "rows": s.rows,
                        "last_landed_at": _iso(s.landed_at),
                        "checkpoint_at": _iso(s.checkpoint_at),
                        "drift": drift,
                    },
                )
            )
            edges.append(Edge(f"{cnode}->{snode}", cnode, snode, "has_stream", {"drift": drift}))
    entity_names = set(ontology.entity_names)
    for (cid, name, entity), data in sorted(mapped.items(), key=lambda kv: str(kv[0])):
        if cid not in known or entity not in entity_names:
            continue
        by_status = data["by_status"]
        if not set(by_status) - {MappingStatus.RETIRED}:
            continue  # only switched-off mappings: nothing flows
        state = (
            MappingStatus.BROKEN
            if by_status.get(MappingStatus.BROKEN)
            else MappingStatus.ACTIVE
            if data.get("mappings")
            else MappingStatus.PROPOSED
        )
        snode, enode = stream_node_id(cid, name), f"entity:{entity}"
        edges.append(
            Edge(
                f"{snode}->{enode}",
                snode,
                enode,
                "maps_to",
                {
                    "state": state,
                    "mappings": data.get("mappings", 0),
                    "mean_confidence": data.get("mean_confidence"),
                    "min_confidence": data.get("min_confidence"),
                    "by_status": by_status,
                    "materialization": views.get((cid, name, entity)),
                },
            )
        )
    for e in ontology.entities:
        nodes.append(
            Node(
                f"entity:{e.name}",
                "entity",
                e.name,
                {
                    "description": e.description,
                    "fields": len(e.fields),
                    "mapped_fields": int(covered.get(e.name, 0)),
                    "rows": sum(
                        v["rows"]
                        for (cid, _, entity), v in views.items()
                        if entity == e.name and cid in known and v["status"] == "ok"
                    ),
                    "source_connections": len(sources.get(e.name, ())),
                },
            )
        )
    for view, entity in UNIFIED_VIEWS.items():
        if entity not in entity_names:
            continue
        vnode = f"view:{view}"
        nodes.append(
            Node(
                vnode,
                "unified_view",
                view,
                {"entity": entity, "source_connections": len(sources.get(entity, ()))},
            )
        )
        enode = f"entity:{entity}"
        edges.append(Edge(f"{enode}->{vnode}", enode, vnode, "resolves_into"))
    targets = {n.label: n.id for n in nodes if n.type in ("entity", "unified_view")}
    for agent in agents:
        anode = f"agent:{agent.name}"
        nodes.append(
            Node(
                anode,
                "agent",
                agent.label,
                {"description": agent.description, "reads": list(agent.reads)},
            )
        )
        for read in agent.reads:
            if read in targets:
                edges.append(Edge(f"{anode}->{targets[read]}", anode, targets[read], "reads"))
    return Graph(nodes, edges)
