/**
 * The review flow's rules, apart from the screen: what a person may do with a proposal,
 * which rows of which view show its effect, and the decide -> refresh sequence.
 */

import type { ViewParams } from "../../api/queries/dcl";
import type { Decision } from "../../api/queries/repair";
import type { Proposal, ProposalSummary } from "../../api/types";

export type Action = "approve" | "edit" | "reject" | "rollback";

/** The decisions the API accepts for a proposal in its current status. */
export function allowedActions(p: Pick<ProposalSummary, "status">): Action[] {
  if (p.status === "pending") return ["approve", "edit", "reject"];
  if (p.status === "applied") return ["rollback"];
  return [];
}

export interface Target {
  entity: string;
  field: string;
}

export function parseTarget(target: string | null | undefined): Target | null {
  if (!target) return null;
  const dot = target.indexOf(".");
  if (dot <= 0 || dot === target.length - 1) return null;
  return { entity: target.slice(0, dot), field: target.slice(dot + 1) };
}

/** The view rows a proposal changes: its target field, fed by its connection and stream. */
export function previewRequest(p: Proposal): { entity: string; params: ViewParams } | null {
  const target = parseTarget(p.target);
  if (!target) return null;
  return {
    entity: target.entity,
    params: {
      fields: ["_source_key", target.field],
      filters: [`_source_connection:eq:${p.connection_id}`, `_source_stream:eq:${p.stream}`],
      sort: "_source_key",
      limit: 8,
    },
  };
}

/** Whether a decided proposal changed mappings (an applied or rolled-back step). */
export function changedMappings(p: Pick<Proposal, "applied">): boolean {
  return (p.applied ?? []).some((step) => !(step as { noop?: boolean }).noop);
}

export interface FlowDeps {
  decide: (id: string, decision: Decision) => Promise<Proposal>;
  /** Bring the stream's views up to date now (POST /api/v1/dcl/materialize). */
  materialize: (connectionId: string, streams: string[]) => Promise<unknown>;
}

export interface FlowResult {
  proposal: Proposal;
  /** Whether the views were refreshed after the decision (null: nothing to refresh). */
  refreshed: boolean | null;
  refreshError: unknown;
}

/** The view refresh a decision ran server-side, when the API reports one (``refresh``). */
function serverRefresh(p: Proposal): { status: string; error?: string | null } | null {
  const refresh = (p as { refresh?: { status?: unknown; error?: string | null } | null }).refresh;
  return refresh && typeof refresh.status === "string" ? { status: refresh.status, error: refresh.error } : null;
}

/**
 * Decide, then make sure the views the decision touched show it at once: when the API
 * reports the refresh it ran with the decision, that outcome is used; otherwise the
 * dashboard asks for the refresh itself. A failed refresh never hides a committed
 * decision: it is reported beside it.
 */
export async function runDecision(
  deps: FlowDeps,
  proposal: Pick<Proposal, "id" | "connection_id" | "stream">,
  decision: Decision,
): Promise<FlowResult> {
  const decided = await deps.decide(proposal.id, decision);
  if (decision.action === "reject" || !changedMappings(decided)) {
    return { proposal: decided, refreshed: null, refreshError: null };
  }
  const done = serverRefresh(decided);
  if (done?.status === "succeeded") return { proposal: decided, refreshed: true, refreshError: null };
  if (done?.status === "failed") {
    return { proposal: decided, refreshed: false, refreshError: new Error(done.error ?? "the view refresh failed") };
  }
  try {
    await deps.materialize(decided.connection_id, [decided.stream]);
    return { proposal: decided, refreshed: true, refreshError: null };
  } catch (error) {
    return { proposal: decided, refreshed: false, refreshError: error };
  }
}

/** Before/after rows side by side, keyed by the source record. */
export function diffRows(
  before: Record<string, unknown>[],
  after: Record<string, unknown>[],
  field: string,
): { key: string; before: unknown; after: unknown; changed: boolean }[] {
  const old = new Map(before.map((r) => [String(r._source_key), r[field]]));
  const keys = [...new Set([...after.map((r) => String(r._source_key)), ...old.keys()])];
  const now = new Map(after.map((r) => [String(r._source_key), r[field]]));
  return keys.map((key) => {
    const b = old.has(key) ? old.get(key) : null;
    const a = now.has(key) ? now.get(key) : null;
    return { key, before: b ?? null, after: a ?? null, changed: JSON.stringify(b ?? null) !== JSON.stringify(a ?? null) };
  });
}
