/**
 * Where every data component's numbers come from: one registry, one badge rule.
 *
 * A component declared `live` reads the backend through the named endpoints (which must
 * exist in the generated client: `endpoints` is typed by its paths). A component declared
 * `demo` shows demonstration data. Whatever the declaration, a payload the API marks
 * `"demo": true` is demonstration data, so it gets the Demo badge: no component can show
 * demo data without it. Titles never say "Live" (the badge does).
 */

import type { paths } from "../api/schema";

export type DataSource = "live" | "demo";

export interface LiveStatusEntry {
  /** The panel's title, as shown. */
  title: string;
  /** What the component declares it shows. */
  source: DataSource;
  /** The tooltip: where the data comes from and how fresh it is. */
  origin: string;
  /** The API paths it reads (compile-time checked against the OpenAPI client). */
  endpoints: readonly (keyof paths)[];
}

export const LIVE_STATUS = {
  "control.connections": {
    title: "Connections",
    source: "live",
    origin: "GET /api/v1/aam/connectors: status, drift flag and last event of each connection, refreshed every 10 s.",
    endpoints: ["/api/v1/aam/connectors"],
  },
  "control.throughput": {
    title: "Sync throughput",
    source: "live",
    origin: "GET /api/v1/aam/connections/{id}/runs: rows written by each finished sync run (last 50 per connection).",
    endpoints: ["/api/v1/aam/connections/{connection_id}/runs"],
  },
  "control.proposals": {
    title: "Pending repairs",
    source: "live",
    origin: "GET /api/v1/repair/proposals?status=pending: repair proposals waiting for a person.",
    endpoints: ["/api/v1/repair/proposals"],
  },
  "control.views": {
    title: "Unified views",
    source: "live",
    origin: "GET /api/v1/dcl/views: rows and freshness of each unified view in the tenant's DuckDB.",
    endpoints: ["/api/v1/dcl/views"],
  },
  "control.llm": {
    title: "AI model usage",
    source: "live",
    origin: "GET /api/v1/telemetry/llm: embedding and LLM calls, tokens and latency recorded for this tenant.",
    endpoints: ["/api/v1/telemetry/llm"],
  },
  "discover.assets": {
    title: "Data assets",
    source: "live",
    origin: "GET /api/v1/dcl/graph: the streams each connection landed, with rows, checkpoints and drift state.",
    endpoints: ["/api/v1/dcl/graph"],
  },
  "discover.schema": {
    title: "Discovered schema",
    source: "live",
    origin: "POST /api/v1/aam/connections/{id}/discover: the source's streams, fields and types, read now.",
    endpoints: ["/api/v1/aam/connections/{connection_id}/discover"],
  },
  "discover.drift": {
    title: "Drift history",
    source: "live",
    origin: "GET /api/v1/aam/connections/{id}/drift: schema changes detected by syncs, with the policy's decision.",
    endpoints: ["/api/v1/aam/connections/{connection_id}/drift"],
  },
  "connections.kpis": {
    title: "Connections at a glance",
    source: "live",
    origin: "GET /api/v1/aam/connectors and /api/v1/repair/proposals: counted in the browser from the tenant's rows.",
    endpoints: ["/api/v1/aam/connectors", "/api/v1/repair/proposals"],
  },
  "connections.table": {
    title: "Connectors",
    source: "live",
    origin: "GET /api/v1/aam/connectors: one batched query over connections, mappings, drift and events.",
    endpoints: ["/api/v1/aam/connectors"],
  },
  "connections.runs": {
    title: "Sync runs",
    source: "live",
    origin: "GET /api/v1/aam/connections/{id}/runs: refreshed as sync events arrive on the event stream (polled every 1.5 s while a run is in flight when the stream is down).",
    endpoints: ["/api/v1/aam/connections/{connection_id}/runs"],
  },
  "connections.mappings": {
    title: "Field mappings",
    source: "live",
    origin: "GET /api/v1/dcl/mappings: the current version of each source field's mapping, from the mapping registry.",
    endpoints: ["/api/v1/dcl/mappings", "/api/v1/dcl/mappings/history"],
  },
  "review.queue": {
    title: "Proposals",
    source: "live",
    origin: "GET /api/v1/repair/proposals: the repair agent's proposals, newest first.",
    endpoints: ["/api/v1/repair/proposals"],
  },
  "review.evidence": {
    title: "Evidence",
    source: "live",
    origin: "GET /api/v1/repair/proposals/{id}: signals, sample values, alternatives and fingerprints recorded by the repair agent.",
    endpoints: ["/api/v1/repair/proposals/{proposal_id}"],
  },
  "review.viewChange": {
    title: "The view, before and after",
    source: "live",
    origin: "GET /api/v1/dcl/views/{entity}: the target field's rows from this connection, read before and after the decision.",
    endpoints: ["/api/v1/dcl/views/{entity}"],
  },
  "ontology.graph": {
    title: "Data graph",
    source: "live",
    origin: "GET /api/v1/dcl/graph: connections, streams, ontology entities and unified views, with mapping confidence on the edges.",
    endpoints: ["/api/v1/dcl/graph"],
  },
  "ontology.table": {
    title: "Unified entity",
    source: "live",
    origin: "GET /api/v1/dcl/views/{entity}: rows of the tenant's unified view, filtered, sorted and keyset-paged by the server.",
    endpoints: ["/api/v1/dcl/views", "/api/v1/dcl/views/{entity}"],
  },
  "ontology.sql": {
    title: "SQL console",
    source: "live",
    origin: "POST /api/v1/dcl/query: one read-only SELECT over the tenant's views, with the server's row and time limits.",
    endpoints: ["/api/v1/dcl/query"],
  },
  "control.findings": {
    title: "Agent findings",
    source: "live",
    origin: "GET /api/v1/aoa/findings?severity=medium: the agents' latest findings of medium severity and above, newest first.",
    endpoints: ["/api/v1/aoa/findings"],
  },
  "control.agentUsage": {
    title: "Agents and their LLM usage",
    source: "live",
    origin: "GET /api/v1/aoa/metrics: runs, success rate, findings, LLM tokens and cost per agent over the last 30 days.",
    endpoints: ["/api/v1/aoa/metrics"],
  },
  "orchestration.metrics": {
    title: "xAO at a glance",
    source: "live",
    origin: "GET /api/v1/aoa/metrics: the tenant's total over every agent, internal and third-party, last 30 days.",
    endpoints: ["/api/v1/aoa/metrics"],
  },
  "orchestration.agents": {
    title: "Agents",
    source: "live",
    origin: "GET /api/v1/aoa/agents and /api/v1/aoa/metrics: each registered agent with its runs, success rate, p50/p95 duration, findings and LLM usage (30 days).",
    endpoints: ["/api/v1/aoa/agents", "/api/v1/aoa/metrics", "/api/v1/aoa/agents/{agent_id}/runs"],
  },
  "orchestration.runs": {
    title: "Runs",
    source: "live",
    origin: "GET /api/v1/aoa/runs: runs newest first, refreshed as agent events arrive on the event stream (polled every 1.5 s while one is in flight when the stream is down).",
    endpoints: ["/api/v1/aoa/runs"],
  },
  "orchestration.run": {
    title: "Run detail",
    source: "live",
    origin: "GET /api/v1/aoa/runs/{id}: the run's inputs, analytics summary, duration and LLM usage, polled until it ends.",
    endpoints: ["/api/v1/aoa/runs/{agent_run_id}", "/api/v1/aoa/runs/{agent_run_id}/cancel"],
  },
  "agents.findings": {
    title: "Findings",
    source: "live",
    origin: "GET /api/v1/aoa/findings: the FinOps and RevOps agents' findings with the numbers behind them and the query that reproduces them.",
    endpoints: ["/api/v1/aoa/findings"],
  },
  "agents.spend": {
    title: "Cloud spend per day",
    source: "live",
    origin: "POST /api/v1/dcl/query over the unified cloud_cost view (daily usage spend, as the FinOps agent computes it); anomalies from the FinOps agent's cost_anomaly findings.",
    endpoints: ["/api/v1/dcl/query", "/api/v1/aoa/findings"],
  },
  "agents.pipeline": {
    title: "Open pipeline by stage",
    source: "live",
    origin: "POST /api/v1/dcl/query over the unified opportunity view: open deals per stage, amount and probability-weighted amount.",
    endpoints: ["/api/v1/dcl/query"],
  },
  "agents.personas": {
    title: "Persona briefings",
    source: "live",
    origin: "GET /nlp/v1/persona/summary: a briefing per persona from the views and the agents' findings; every fact cites its source.",
    endpoints: ["/nlp/v1/persona/summary"],
  },
} as const satisfies Record<string, LiveStatusEntry>;

export type LiveStatusKey = keyof typeof LIVE_STATUS;

/** True when the API marked the payload (or an item of one of its lists) `"demo": true`. */
export function isDemoPayload(payload: unknown): boolean {
  if (payload === null || typeof payload !== "object") return false;
  if (Array.isArray(payload)) return payload.some(isDemoPayload);
  const record = payload as Record<string, unknown>;
  if (record.demo === true) return true;
  return Object.values(record).some(
    (value) => Array.isArray(value) && value.some((item) => isDemoPayload(item)),
  );
}

export interface Badge {
  kind: DataSource;
  label: "Live" | "Demo";
  tooltip: string;
}

/** The badge a component shows for what it displays now. */
export function badgeFor(key: LiveStatusKey, payload?: unknown): Badge {
  const entry: LiveStatusEntry = LIVE_STATUS[key];
  const demo = entry.source === "demo" || isDemoPayload(payload);
  if (demo) {
    const why =
      entry.source === "demo"
        ? "Demonstration data, not read from your sources."
        : 'The API marked this answer "demo": it is demonstration data, not your sources.';
    return { kind: "demo", label: "Demo", tooltip: `${why} ${entry.origin}` };
  }
  return { kind: "live", label: "Live", tooltip: entry.origin };
}
