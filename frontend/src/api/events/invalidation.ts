/**
 * Which cached queries a platform event makes stale. The dashboard keeps polling slowly as
 * a safety net; the stream makes the pages change as soon as something happens.
 */

import type { QueryKey } from "@tanstack/react-query";

import { keys } from "../queries/keys";

/** The stream's `types=` filter: every family the dashboard shows. */
export const STREAM_TYPES = [
  "sync.*",
  "drift.*",
  "repair.*",
  "mapping.*",
  "views.*",
  "job.*",
  "agent.*",
].join(",");

const RULES: [prefix: string, stale: readonly QueryKey[]][] = [
  // a sync changes runs, the connectors table (status, last event) and the streams' rows
  ["sync.", [keys.aam, keys.graph]],
  ["drift.", [keys.aam, keys.graph]],
  // a repair changes the queue, the mappings and (once applied) the view's rows
  ["repair.", [keys.repair, keys.dcl, keys.charts]],
  ["mapping.", [keys.dcl, keys.aam, keys.charts]],
  ["views.", [keys.views, keys.graph, keys.charts, keys.nlp]],
  ["job.", [keys.jobs, keys.dcl]],
  // agent runs and findings: Orchestration, Agents, the Control Center and the briefings
  ["agent.", [keys.aoa, keys.nlp]],
];

/** The query keys (prefixes) to invalidate for an event of `type`. */
export function staleKeys(type: string): readonly QueryKey[] {
  for (const [prefix, stale] of RULES) if (type.startsWith(prefix)) return stale;
  return [];
}

/** The distinct keys for a batch of event types (a burst invalidates each key once). */
export function staleKeysFor(types: Iterable<string>): QueryKey[] {
  const seen = new Map<string, QueryKey>();
  for (const type of types) {
    for (const key of staleKeys(type)) seen.set(JSON.stringify(key), key);
  }
  return [...seen.values()];
}
