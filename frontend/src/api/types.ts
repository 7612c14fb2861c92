/** Names for the generated schema's models, as the dashboard uses them. */

import type { components } from "./schema";

type S = components["schemas"];

export type Connector = S["ConnectorDTO"];
export type Connection = S["ConnectionOut"];
export type ConnectionCreate = S["ConnectionCreate"];
export type CheckResult = S["CheckOut"];
export type DiscoveredStream = S["StreamOut"];
export type SyncRun = S["SyncRunOut"];
export type DriftEvent = S["DriftEventOut"];
export type Mapping = S["MappingOut"];
export type MappingChanged = S["MappingChanged"];
export type Proposal = S["ProposalOut"];
export type ProposalSummary = S["ProposalSummary"];
export type ProposalList = S["ProposalList"];
export type EditIn = S["EditIn"];
export type RepairSettings = S["SettingsOut"];
export type GraphOut = S["GraphOut"];
export type GraphNode = S["GraphNode"];
export type GraphEdge = S["GraphEdge"];
export type ViewOut = S["ViewOut"];
export type ViewPage = S["ViewPage"];
export type QueryOut = S["QueryOut"];
export type Ontology = S["OntologyOut"];
export type Usage = S["UsageOut"];
export type User = S["UserOut"];
export type Tenant = S["TenantOut"];
export type Role = User["role"];
export type Agent = S["AgentOut"];
export type AgentRun = S["RunOut"];
export type AgentRunSummary = S["RunSummary"];
export type AgentFinding = S["FindingOut"];
export type AgentMetrics = S["AgentMetricsOut"];
export type XaoMetrics = S["MetricsOut"];
export type TenantAgentMetrics = S["TenantMetricsOut"];
export type Severity = S["Severity"];
export type Persona = S["Persona"];
export type Briefing = S["Briefing"];
export type BriefingFact = S["FactOut"];

export const TERMINAL_RUN_STATUSES = ["succeeded", "failed", "cancelled"] as const;

export function isTerminalRun(status: string): boolean {
  return (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether ``role`` is at least ``needed`` (admin > operator > viewer), as the API checks. */
export function hasRole(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}
