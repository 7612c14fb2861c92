import { describe, expect, it, vi } from "vitest";

import type { Proposal } from "../../api/types";
import { allowedActions, changedMappings, diffRows, parseTarget, previewRequest, runDecision } from "./reviewFlow";

function proposal(overrides: Partial<Proposal> = {}): Proposal {
  return {
    id: "p1",
    connection_id: "c1",
    stream: "accounts",
    drift_event_id: null,
    kind: "remap",
    status: "pending",
    source_field: "website",
    new_source_field: "website_url",
    target: "account.domain",
    transform: null,
    confidence: 0.84,
    destructive: false,
    auto_applied: false,
    reason: "renamed",
    created_at: "2026-01-01T00:00:00Z",
    decided_at: null,
    decided_by: null,
    evidence: {},
    old_fingerprint: "a",
    new_fingerprint: "b",
    base_version: 1,
    applied: [],
    decision_note: null,
    ...overrides,
  };
}

describe("allowedActions", () => {
  it("follows the proposal's status", () => {
    expect(allowedActions({ status: "pending" })).toEqual(["approve", "edit", "reject"]);
    expect(allowedActions({ status: "applied" })).toEqual(["rollback"]);
    for (const s of ["rejected", "rolled_back", "superseded"]) expect(allowedActions({ status: s })).toEqual([]);
  });
});

describe("previewRequest", () => {
  it("reads the target field of this connection's stream rows", () => {
    expect(previewRequest(proposal())).toEqual({
      entity: "account",
      params: {
        fields: ["_source_key", "domain"],
        filters: ["_source_connection:eq:c1", "_source_stream:eq:accounts"],
        sort: "_source_key",
        limit: 8,
      },
    });
  });

  it("has nothing to show for a proposal without a target", () => {
    expect(previewRequest(proposal({ target: null }))).toBeNull();
    expect(parseTarget("nodot")).toBeNull();
    expect(parseTarget("account.")).toBeNull();
    expect(parseTarget("contact.address.city")).toEqual({ entity: "contact", field: "address.city" });
  });
});

describe("runDecision", () => {
  const applied = proposal({ status: "applied", applied: [{ op: "set", noop: false }] });

  it("approves, then refreshes the stream's views", async () => {
    const order: string[] = [];
    const deps = {
      decide: vi.fn(async () => {
        order.push("decide");
        return applied;
      }),
      materialize: vi.fn(async () => {
        order.push("materialize");
        return {};
      }),
    };
    const result = await runDecision(deps, proposal(), { action: "approve", note: "ok" });
    expect(order).toEqual(["decide", "materialize"]);
    expect(deps.decide).toHaveBeenCalledWith("p1", { action: "approve", note: "ok" });
    expect(deps.materialize).toHaveBeenCalledWith("c1", ["accounts"]);
    expect(result).toEqual({ proposal: applied, refreshed: true, refreshError: null });
  });

  it("does not refresh after a rejection or a no-op", async () => {
    const materialize = vi.fn();
    const rejected = proposal({ status: "rejected" });
    const r1 = await runDecision({ decide: async () => rejected, materialize }, proposal(), { action: "reject" });
    const noop = proposal({ status: "applied", applied: [{ op: "set", noop: true }] });
    const r2 = await runDecision({ decide: async () => noop, materialize }, proposal(), { action: "approve" });
    expect(materialize).not.toHaveBeenCalled();
    expect(r1.refreshed).toBeNull();
    expect(r2.refreshed).toBeNull();
  });

  it("reports a failed refresh beside the committed decision", async () => {
    const boom = new Error("dcl unavailable");
    const result = await runDecision(
      { decide: async () => applied, materialize: async () => Promise.reject(boom) },
      proposal(),
      { action: "rollback" },
    );
    expect(result.proposal.status).toBe("applied");
    expect(result.refreshed).toBe(false);
    expect(result.refreshError).toBe(boom);
  });

  it("uses the refresh the API ran with the decision, when it reports one", async () => {
    const materialize = vi.fn();
    const ran = { ...applied, refresh: { status: "succeeded", error: null } } as Proposal;
    const ok = await runDecision({ decide: async () => ran, materialize }, proposal(), { action: "approve" });
    expect(ok.refreshed).toBe(true);
    const failed = { ...applied, refresh: { status: "failed", error: "disk full" } } as Proposal;
    const bad = await runDecision({ decide: async () => failed, materialize }, proposal(), { action: "approve" });
    expect(bad.refreshed).toBe(false);
    expect(String(bad.refreshError)).toContain("disk full");
    expect(materialize).not.toHaveBeenCalled();
    // still queued or running: the dashboard asks for the refresh itself
    const queued = { ...applied, refresh: { status: "queued" } } as Proposal;
    await runDecision({ decide: async () => queued, materialize: async (...a) => materialize(...a) }, proposal(), { action: "approve" });
    expect(materialize).toHaveBeenCalledWith("c1", ["accounts"]);
  });

  it("lets a failed decision fail, refreshing nothing", async () => {
    const materialize = vi.fn();
    await expect(
      runDecision({ decide: async () => Promise.reject(new Error("409")), materialize }, proposal(), { action: "approve" }),
    ).rejects.toThrow("409");
    expect(materialize).not.toHaveBeenCalled();
  });
});

describe("diffRows and changedMappings", () => {
  it("pairs rows by source key and flags changes", () => {
    const before = [
      { _source_key: "a", domain: null },
      { _source_key: "b", domain: "b.com" },
    ];
    const after = [
      { _source_key: "a", domain: "new-a.com" },
      { _source_key: "b", domain: "b.com" },
    ];
    expect(diffRows(before, after, "domain")).toEqual([
      { key: "a", before: null, after: "new-a.com", changed: true },
      { key: "b", before: "b.com", after: "b.com", changed: false },
    ]);
  });

  it("knows whether a decision changed mappings", () => {
    expect(changedMappings({ applied: [] })).toBe(false);
    expect(changedMappings({ applied: [{ noop: true }] })).toBe(false);
    expect(changedMappings({ applied: [{ noop: true }, { op: "retire" }] })).toBe(true);
  });
});
