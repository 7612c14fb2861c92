/**
 * The DCL graph (GET /api/v1/dcl/graph) shaped for a force layout: one column per layer
 * (connections -> streams -> entities -> unified views -> agents), node size by rows,
 * edge width by mapping count, edge colour by state (drift, broken, proposed).
 */

import type { GraphEdge, GraphNode, GraphOut } from "../../api/types";

export type NodeType = GraphNode["type"];

export const LAYERS: readonly NodeType[] = ["connection", "stream", "entity", "unified_view", "agent"];

export const NODE_COLORS: Record<NodeType, string> = {
  connection: "#2f6fde",
  stream: "#16a37f",
  entity: "#7c4ddb",
  unified_view: "#b46be0",
  agent: "#c98a00",
};

export interface SimNode {
  id: string;
  type: NodeType;
  label: string;
  layer: number;
  radius: number;
  color: string;
  /** What a screen reader says, and the detail panel's title. */
  description: string;
  data: Record<string, unknown>;
  x?: number;
  y?: number;
  fx?: number | null;
  fy?: number | null;
}

export interface SimLink {
  id: string;
  source: string;
  target: string;
  type: GraphEdge["type"];
  width: number;
  color: string;
  dashed: boolean;
  label: string;
}

export interface ShapedGraph {
  nodes: SimNode[];
  links: SimLink[];
  counts: Record<NodeType, number>;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Radius grows with the log of rows, within 8..26 px, so one huge table does not dwarf all. */
export function radiusFor(node: GraphNode): number {
  const base = node.type === "connection" ? 14 : node.type === "entity" ? 12 : 9;
  const rows = num(node.data?.rows);
  return Math.min(26, base + (rows > 0 ? Math.log10(rows + 1) * 2.5 : 0));
}

function describe(node: GraphNode): string {
  const d = node.data ?? {};
  switch (node.type) {
    case "connection":
      return `Connection ${node.label}, ${String(d.source_type ?? "")}, ${num(d.streams)} streams, ${num(d.mappings)} mappings`;
    case "stream": {
      const drift = (d.drift as { state?: string } | undefined)?.state === "drifted" ? ", drifted" : "";
      return `Stream ${node.label}, ${num(d.rows)} rows${drift}`;
    }
    case "entity":
      return `Entity ${node.label}, ${num(d.rows)} rows from ${num(d.source_connections)} connections`;
    case "unified_view":
      return `Unified view ${node.label} over ${String(d.entity ?? "")}`;
    case "agent":
      return `Agent ${node.label}`;
  }
}

function edgeStyle(edge: GraphEdge): Pick<SimLink, "color" | "dashed" | "label" | "width"> {
  const d = edge.data ?? {};
  if (edge.type === "has_stream") {
    const drifted = (d.drift as { state?: string } | undefined)?.state === "drifted";
    return { color: drifted ? "#c98a00" : "#8fa3c0", dashed: false, width: 1.5, label: drifted ? "drifted" : "has stream" };
  }
  if (edge.type === "maps_to") {
    const state = String(d.state ?? "active");
    const mappings = num(d.mappings);
    const mean = typeof d.mean_confidence === "number" ? d.mean_confidence : null;
    const color = state === "broken" ? "#d23f4f" : state === "proposed" ? "#7c4ddb" : "#16a37f";
    return {
      color,
      dashed: state === "proposed",
      width: Math.min(6, 1 + Math.sqrt(mappings)),
      label: `${mappings} mappings, ${state}${mean !== null ? `, mean confidence ${Math.round(mean * 100)}%` : ""}`,
    };
  }
  return { color: "#b0a4d6", dashed: edge.type === "reads", width: 1.5, label: edge.type.replace("_", " ") };
}

export function shapeGraph(graph: GraphOut): ShapedGraph {
  const counts: Record<NodeType, number> = { connection: 0, stream: 0, entity: 0, unified_view: 0, agent: 0 };
  const nodes: SimNode[] = graph.nodes.map((n) => {
    counts[n.type] += 1;
    return {
      id: n.id,
      type: n.type,
      label: n.label,
      layer: LAYERS.indexOf(n.type),
      radius: radiusFor(n),
      color: NODE_COLORS[n.type],
      description: describe(n),
      data: n.data ?? {},
    };
  });
  const ids = new Set(nodes.map((n) => n.id));
  const links: SimLink[] = graph.edges
    .filter((e) => ids.has(e.source) && ids.has(e.target)) // never a dangling edge
    .map((e) => ({ id: e.id, source: e.source, target: e.target, type: e.type, ...edgeStyle(e) }));
  return { nodes, links, counts };
}

/** Only what touches the connections' data: entities nothing maps to are left out. */
export function withoutIdleEntities(shaped: ShapedGraph): ShapedGraph {
  const linked = new Set<string>();
  for (const l of shaped.links) {
    if (l.type === "maps_to" || l.type === "reads") {
      linked.add(l.source);
      linked.add(l.target);
    }
  }
  const keep = (n: SimNode) =>
    (n.type !== "entity" && n.type !== "unified_view") ||
    linked.has(n.id) ||
    shaped.links.some((l) => l.type === "resolves_into" && l.target === n.id && linked.has(l.source));
  const nodes = shaped.nodes.filter(keep);
  const ids = new Set(nodes.map((n) => n.id));
  const links = shaped.links.filter((l) => ids.has(l.source) && ids.has(l.target));
  const counts = { ...shaped.counts };
  for (const t of LAYERS) counts[t] = nodes.filter((n) => n.type === t).length;
  return { nodes, links, counts };
}

/** x of a layer's column in a box of ``width``. */
export function layerX(layer: number, width: number, layers = LAYERS.length): number {
  const margin = Math.min(120, width * 0.1);
  return margin + ((width - 2 * margin) * layer) / Math.max(1, layers - 1);
}
