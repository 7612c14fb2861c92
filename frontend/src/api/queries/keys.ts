/** React Query keys, one tree per API area so a change can invalidate what it touches. */

export const keys = {
  me: ["auth", "me"] as const,
  tenant: ["tenant"] as const,
  llmUsage: ["telemetry", "llm"] as const,
  aam: ["aam"] as const,
  connectors: ["aam", "connectors"] as const,
  connections: ["aam", "connections"] as const,
  connection: (id: string) => ["aam", "connections", id] as const,
  runs: (id: string) => ["aam", "connections", id, "runs"] as const,
  run: (runId: string) => ["aam", "runs", runId] as const,
  drift: (id: string) => ["aam", "connections", id, "drift"] as const,
  dcl: ["dcl"] as const,
  ontology: ["dcl", "ontology"] as const,
  mappings: (connectionId: string) => ["dcl", "mappings", connectionId] as const,
  mappingHistory: (connectionId: string, stream: string, field: string) =>
    ["dcl", "mappings", connectionId, "history", stream, field] as const,
  views: ["dcl", "views"] as const,
  viewPage: (entity: string, params: object) => ["dcl", "views", entity, params] as const,
  graph: ["dcl", "graph"] as const,
  repair: ["repair"] as const,
  proposals: (params: object) => ["repair", "proposals", params] as const,
  proposal: (id: string) => ["repair", "proposal", id] as const,
  repairSettings: ["repair", "settings"] as const,
};
