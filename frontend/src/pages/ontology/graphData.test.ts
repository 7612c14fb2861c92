import { describe, expect, it } from "vitest";

import type { GraphOut } from "../../api/types";
import { layerX, radiusFor, shapeGraph, withoutIdleEntities } from "./graphData";

const graph: GraphOut = {
  nodes: [
    { id: "connection:c1", type: "connection", label: "CRM", data: { source_type: "files", streams: 1, mappings: 3 } },
    {
      id: "stream:c1:accounts",
      type: "stream",
      label: "accounts",
      data: { rows: 1000, drift: { state: "drifted", open_events: 1 } },
    },
    { id: "entity:account", type: "entity", label: "account", data: { rows: 1000, source_connections: 1 } },
    { id: "entity:invoice", type: "entity", label: "invoice", data: { rows: 0 } },
    { id: "view:unified_account", type: "unified_view", label: "unified_account", data: { entity: "account" } },
    { id: "view:unified_contact", type: "unified_view", label: "unified_contact", data: { entity: "contact" } },
  ],
  edges: [
    {
      id: "e1",
      source: "connection:c1",
      target: "stream:c1:accounts",
      type: "has_stream",
      data: { drift: { state: "drifted" } },
    },
    {
      id: "e2",
      source: "stream:c1:accounts",
      target: "entity:account",
      type: "maps_to",
      data: { state: "active", mappings: 9, mean_confidence: 0.93 },
    },
    { id: "e3", source: "entity:account", target: "view:unified_account", type: "resolves_into", data: {} },
    { id: "e4", source: "entity:contact", target: "view:unified_contact", type: "resolves_into", data: {} },
  ],
  stats: {},
};

describe("shapeGraph", () => {
  const shaped = shapeGraph(graph);

  it("keeps every node, in its layer, with a readable description", () => {
    expect(shaped.nodes).toHaveLength(6);
    const byId = Object.fromEntries(shaped.nodes.map((n) => [n.id, n]));
    expect(byId["connection:c1"]?.layer).toBe(0);
    expect(byId["stream:c1:accounts"]?.layer).toBe(1);
    expect(byId["entity:account"]?.layer).toBe(2);
    expect(byId["view:unified_account"]?.layer).toBe(3);
    expect(byId["stream:c1:accounts"]?.description).toBe("Stream accounts, 1000 rows, drifted");
    expect(shaped.counts).toEqual({ connection: 1, stream: 1, entity: 2, unified_view: 2, agent: 0 });
  });

  it("drops edges whose ends are not in the graph", () => {
    expect(shaped.links.map((l) => l.id)).toEqual(["e1", "e2", "e3"]);
  });

  it("styles edges by drift and mapping state", () => {
    const [hasStream, mapsTo] = shaped.links;
    expect(hasStream?.label).toBe("drifted");
    expect(mapsTo?.label).toBe("9 mappings, active, mean confidence 93%");
    expect(mapsTo?.width).toBe(4); // 1 + sqrt(9)
    expect(mapsTo?.dashed).toBe(false);
  });

  it("sizes nodes by the log of their rows, within bounds", () => {
    expect(radiusFor({ id: "s", type: "stream", label: "s", data: { rows: 0 } })).toBe(9);
    expect(radiusFor({ id: "s", type: "stream", label: "s", data: { rows: 999 } })).toBeCloseTo(16.5);
    expect(radiusFor({ id: "s", type: "stream", label: "s", data: { rows: 1e30 } })).toBe(26);
  });

  it("can leave out entities nothing maps to", () => {
    const slim = withoutIdleEntities(shaped);
    expect(slim.nodes.map((n) => n.id).sort()).toEqual(
      ["connection:c1", "entity:account", "stream:c1:accounts", "view:unified_account"].sort(),
    );
    expect(slim.counts.entity).toBe(1);
    expect(slim.links.every((l) => slim.nodes.some((n) => n.id === l.source))).toBe(true);
  });

  it("places layers left to right across the box", () => {
    expect(layerX(0, 1000)).toBe(100);
    expect(layerX(4, 1000)).toBe(900);
    expect(layerX(2, 1000)).toBe(500);
  });
});
