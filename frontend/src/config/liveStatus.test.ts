import { describe, expect, it } from "vitest";

import { badgeFor, isDemoPayload, LIVE_STATUS, type LiveStatusKey } from "./liveStatus";

const keysOf = Object.keys(LIVE_STATUS) as LiveStatusKey[];

describe("the live-status registry", () => {
  it("gives every component a title, a tooltip and the endpoints it reads", () => {
    for (const key of keysOf) {
      const entry = LIVE_STATUS[key];
      expect(entry.title.length, key).toBeGreaterThan(2);
      expect(entry.origin.length, key).toBeGreaterThan(20);
      expect(entry.endpoints.length, key).toBeGreaterThan(0);
      for (const endpoint of entry.endpoints) {
        // the tooltip names where the data comes from
        expect(entry.origin, key).toMatch(/\/(api|nlp)\/v1\//);
        expect(endpoint, key).toMatch(/^\/(api|nlp)\/v1\//);
      }
    }
  });

  it("never says Live in a title", () => {
    for (const key of keysOf) expect(LIVE_STATUS[key].title).not.toMatch(/live/i);
  });

  it("badges live data Live, with its origin as the tooltip", () => {
    const badge = badgeFor("connections.table", { connectors: [{ id: "1" }], total: 1 });
    expect(badge).toEqual({ kind: "live", label: "Live", tooltip: LIVE_STATUS["connections.table"].origin });
  });

  it("badges anything the API marks demo as Demo, whatever the registry declares", () => {
    expect(badgeFor("control.throughput", { demo: true }).label).toBe("Demo");
    expect(badgeFor("control.throughput", { runs: [{ id: 1 }, { id: 2, demo: true }] }).label).toBe("Demo");
    expect(badgeFor("control.throughput", [{ demo: true }]).kind).toBe("demo");
    expect(badgeFor("control.throughput", { demo: true }).tooltip).toContain("demo");
  });

  it("does not mistake a false or nested-deep flag for demo data", () => {
    expect(isDemoPayload({ demo: false })).toBe(false);
    expect(isDemoPayload({ data: { demo: true } })).toBe(false); // only top level and list items
    expect(isDemoPayload(null)).toBe(false);
    expect(isDemoPayload("demo")).toBe(false);
    expect(badgeFor("ontology.graph", undefined).label).toBe("Live");
  });

  it("registers every panel of the Orchestration and Agents pages and the Control Center's agent panels", () => {
    for (const key of [
      "control.findings",
      "control.agentUsage",
      "orchestration.metrics",
      "orchestration.agents",
      "orchestration.runs",
      "orchestration.run",
      "agents.findings",
      "agents.spend",
      "agents.pipeline",
      "agents.personas",
    ]) {
      expect(keysOf, key).toContain(key);
      expect(LIVE_STATUS[key as LiveStatusKey].source, key).toBe("live");
    }
    expect(LIVE_STATUS["agents.spend"].endpoints).toContain("/api/v1/dcl/query");
    expect(LIVE_STATUS["agents.personas"].endpoints).toEqual(["/nlp/v1/persona/summary"]);
  });

  it("badges a persona briefing the API built from demo content Demo", () => {
    const briefing = { persona: "CFO", headline: "h", points: [], facts: [], demo: true };
    expect(badgeFor("agents.personas", briefing).label).toBe("Demo");
    expect(badgeFor("agents.personas", { ...briefing, demo: false }).label).toBe("Live");
  });
});
