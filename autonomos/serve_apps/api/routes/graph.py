"""GET /api/v1/dcl/graph: the tenant's data graph for the dashboard."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from autonomos.dcl.graph import AgentPersona, build_graph
from autonomos.ontology import load_ontology
from autonomos.serve_apps.api.deps import TenantSession, Viewer

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
    request: Request,
    _: Viewer,
    session: TenantSession,
    connection_id: uuid.UUID | None = None,
) -> GraphOut:
    """Connections, streams, entities, unified views and agents, with mapping confidence
    and drift state on the edges (of one connection with ``connection_id``)."""
    agents: tuple[AgentPersona, ...] = tuple(getattr(request.app.state, "agent_personas", ()))
    graph = await build_graph(session, load_ontology(), connection_id=connection_id, agents=agents)
    return GraphOut.model_validate(graph.to_dict())
