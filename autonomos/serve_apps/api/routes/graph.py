"""GET /api/v1/dcl/graph: the tenant's data graph for the dashboard."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from autonomos.dcl.graph import build_graph
from autonomos.ontology import load_ontology
from autonomos.serve_apps.api.deps import RuntimeDep, TenantSession, Viewer

router = APIRouter(prefix="/api/v1/dcl", tags=["dcl"])


class GraphNode(BaseModel):
    id: str
    type: Literal["connection", "stream", "entity", "unified_view", "agent"]
    label: str
    data: dict[str, Any] = Field(default_factory=dict)


class GraphEdge(BaseModel):
    id: str
    source: str
    target: str
    type: Literal["has_stream", "maps_to", "resolves_into", "reads"]
    data: dict[str, Any] = Field(default_factory=dict)


class GraphOut(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    stats: dict[str, Any]


@router.get("/graph", operation_id="getDataGraph")
async def get_graph(
    _: Viewer,
    session: TenantSession,
    runtime: RuntimeDep,
    connection_id: uuid.UUID | None = None,
) -> GraphOut:
    """Connections, streams, entities, unified views and agents, with mapping confidence
    and drift state on the edges (of one connection with ``connection_id``)."""
    graph = await build_graph(
        session, load_ontology(), connection_id=connection_id, agents=runtime.agents
    )
    return GraphOut.model_validate(graph.to_dict())
