import { describe, expect, it } from "vitest";

import { keys } from "../queries/keys";
import { staleKeys, staleKeysFor, STREAM_TYPES } from "./invalidation";

describe("what an event makes stale", () => {
  it("refreshes connections and runs on a sync event", () => {
    for (const type of ["sync.queued", "sync.started", "sync.succeeded", "sync.failed", "sync.cancelled"]) {
      expect(staleKeys(type)).toContainEqual(keys.aam); // connectors, connections, their runs
    }
  });

  it("refreshes the review queue on a repair event and the views on a refresh", () => {
    expect(staleKeys("repair.proposed")).toContainEqual(keys.repair);
    expect(staleKeys("repair.rolled_back")).toContainEqual(keys.repair);
    expect(staleKeys("views.refreshed")).toContainEqual(keys.views);
    expect(staleKeys("views.refreshed")).toContainEqual(keys.charts);
  });

  it("refreshes orchestration, findings and briefings on an agent event", () => {
    expect(staleKeys("agent.run.succeeded")).toEqual([keys.aoa, keys.nlp]);
    expect(staleKeys("agent.finding")).toContainEqual(keys.aoa);
  });

  it("ignores types it does not know", () => {
    expect(staleKeys("tenant.created")).toEqual([]);
    expect(staleKeys("syncing")).toEqual([]);
  });

  it("invalidates each key once for a burst of events", () => {
    const stale = staleKeysFor(["sync.started", "sync.succeeded", "drift.detected", "sync.succeeded"]);
    expect(stale).toEqual([keys.aam, keys.graph]);
  });

  it("asks the stream for every family it handles", () => {
    for (const family of ["sync.*", "repair.*", "agent.*", "views.*", "drift.*", "mapping.*", "job.*"]) {
      expect(STREAM_TYPES.split(",")).toContain(family);
    }
  });
});
