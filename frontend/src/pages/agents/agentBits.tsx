/** Small pieces the Orchestration, Agents and Control Center pages share. */

import type { Severity } from "../../api/types";
import { formatNumber } from "../../lib/format";

const LABELS: Record<string, string> = { finops: "FinOps", revops: "RevOps" };

/** "FinOps" for the built-in agents, the registered name otherwise. */
export function agentLabel(name: string): string {
  return LABELS[name] ?? name;
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: value < 1 ? 4 : 2 })}`;
}

export const SEVERITIES: readonly Severity[] = ["high", "medium", "low", "info"];

const SEVERITY_TONE: Record<string, string> = {
  high: "danger",
  medium: "warn",
  low: "info",
  info: "neutral",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`badge ${SEVERITY_TONE[severity] ?? "neutral"}`}>{severity}</span>;
}

/** "3 · 1 high 2 low": a run's or agent's findings by severity (compact: the worst only). */
export function SeverityCounts({
  counts,
  total,
  compact = false,
}: {
  counts: Record<string, number>;
  total: number;
  compact?: boolean;
}) {
  if (total === 0) return <span className="muted">none</span>;
  if (compact) {
    const worst = SEVERITIES.find((s) => (counts[s] ?? 0) > 0);
    const detail = SEVERITIES.filter((s) => (counts[s] ?? 0) > 0)
      .map((s) => `${counts[s]} ${s}`)
      .join(", ");
    return (
      <span className="row" style={{ gap: 4, flexWrap: "nowrap" }} title={detail}>
        <span>{formatNumber(total)}</span>
        {worst ? (
          <span className={`badge ${SEVERITY_TONE[worst]}`}>
            {counts[worst]} {worst}
          </span>
        ) : null}
        <span className="sr-only">({detail})</span>
      </span>
    );
  }
  return (
    <span className="row" style={{ gap: 4 }} aria-label={`${total} findings`}>
      <span>{formatNumber(total)}</span>
      {SEVERITIES.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
        <span key={s} className={`badge ${SEVERITY_TONE[s]}`} title={`${counts[s]} ${s}`}>
          {counts[s]} {s}
        </span>
      ))}
    </span>
  );
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return formatNumber(Math.round(value * 100) / 100);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    if (value.length === 0) return "none";
    if (value.every((v) => typeof v === "string")) return value.join("; ");
    return `${value.length} item${value.length === 1 ? "" : "s"}`;
  }
  const record = value as Record<string, unknown>;
  const scalars = Object.entries(record).filter(
    ([, v]) => v === null || ["number", "string", "boolean"].includes(typeof v),
  );
  if (scalars.length > 0 && scalars.length <= 6) {
    return scalars.map(([k, v]) => `${k.replace(/_/g, " ")} ${describe(v)}`).join(", ");
  }
  const size = Object.keys(record).length;
  return size === 0 ? "none" : `${size} entr${size === 1 ? "y" : "ies"}`;
}

/** A run's analytics summary as "key: words" pairs (never raw JSON on the page). */
export function summaryEntries(summary: Record<string, unknown>): [string, string][] {
  return Object.entries(summary).map(([key, value]) => [key.replace(/_/g, " "), describe(value)]);
}
