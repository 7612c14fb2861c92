/**
 * Data for the AOS Agents charts, shaped from the tenant's unified views (read-only SQL,
 * `POST /api/v1/dcl/query`) and the FinOps agent's findings.
 *
 * The spend query is the FinOps agent's own definition of daily usage spend (UTC day,
 * usage charges only, effective cost falling back to billed cost, per billing currency),
 * so the chart and the anomalies it marks agree on their numbers. The pipeline query is
 * the RevOps agent's: open deals (not closed, by flag or by stage name) per stage.
 */

import type { AgentFinding, QueryOut } from "../api/types";

export const SPEND_VIEW = "cloud_cost";
export const PIPELINE_VIEW = "opportunity";

export const SPEND_SQL = `SELECT CAST(timezone('UTC', charge_period_start) AS DATE) AS day,
  upper(coalesce(billing_currency, '')) AS currency,
  CAST(sum(coalesce(effective_cost, billed_cost)) AS DOUBLE) AS cost
FROM cloud_cost
WHERE charge_period_start IS NOT NULL
  AND (charge_category IS NULL OR lower(charge_category) LIKE '%usage%')
  AND (charge_period_end IS NULL OR charge_period_end <= charge_period_start + INTERVAL 36 HOUR)
GROUP BY ALL
ORDER BY day`;

const CLOSED = "coalesce(is_closed, lower(coalesce(stage, '')) LIKE 'closed%')";
const PROBABILITY = "least(greatest(CAST(probability AS DOUBLE), 0), 100) / 100";

export const PIPELINE_SQL = `SELECT coalesce(stage, '') AS stage,
  upper(coalesce(currency, '')) AS currency,
  count(*) AS deals,
  CAST(coalesce(sum(CAST(amount AS DOUBLE)), 0) AS DOUBLE) AS amount,
  CAST(coalesce(sum(CAST(amount AS DOUBLE) * ${PROBABILITY}), 0) AS DOUBLE) AS weighted,
  round(avg(${PROBABILITY}) * 100, 1) AS avg_probability
FROM opportunity
WHERE NOT ${CLOSED}
GROUP BY ALL
ORDER BY currency, avg_probability NULLS FIRST, stage`;

/** A query result's rows as objects keyed by column name. */
export function rowsOf(result: Pick<QueryOut, "columns" | "rows">): Record<string, unknown>[] {
  return result.rows.map((row) =>
    Object.fromEntries(result.columns.map((column, i) => [column.name, row[i]])),
  );
}

function num(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function day(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  return m ? (m[1] ?? null) : null;
}

function nextDay(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export interface SpendPoint {
  day: string;
  cost: number;
  /** The day's spend when an anomaly covers it (the marker), else null. */
  anomaly: number | null;
}

export interface AnomalyMark {
  findingId: string;
  title: string;
  severity: string;
  start: string;
  end: string;
  peakDay: string | null;
  /** Spend above what was expected over the episode. */
  excess: number | null;
}

export interface SpendSeries {
  currency: string;
  /** Every currency with spend, largest total first (the chart shows the first). */
  currencies: string[];
  points: SpendPoint[];
  anomalies: AnomalyMark[];
  total: number;
}

/** The cost_anomaly findings in `currency`, one per anomaly (the newest run's). */
export function anomalyMarks(findings: readonly AgentFinding[], currency: string): AnomalyMark[] {
  const byKey = new Map<string, AnomalyMark>();
  const newestFirst = [...findings].sort((a, b) => b.created_at.localeCompare(a.created_at));
  for (const f of newestFirst) {
    if (f.kind !== "cost_anomaly" || byKey.has(f.key)) continue;
    const m = f.metrics;
    const start = day(m.start);
    const end = day(m.end) ?? start;
    if (!start || !end) continue;
    if (String(m.currency ?? "").toUpperCase() !== currency) continue;
    byKey.set(f.key, {
      findingId: f.id,
      title: f.title,
      severity: f.severity,
      start,
      end,
      peakDay: day(m.peak_day),
      excess: m.deviation === null || m.deviation === undefined ? null : num(m.deviation),
    });
  }
  return [...byKey.values()].sort((a, b) => a.start.localeCompare(b.start));
}

/**
 * Daily spend of the largest currency, oldest first, days without spend filled with zero,
 * with each day an anomaly covers carrying its marker.
 */
export function spendSeries(
  result: Pick<QueryOut, "columns" | "rows">,
  findings: readonly AgentFinding[] = [],
  currency?: string,
): SpendSeries {
  const totals = new Map<string, number>();
  const byCurrency = new Map<string, Map<string, number>>();
  for (const row of rowsOf(result)) {
    const d = day(row.day);
    if (!d) continue;
    const cur = String(row.currency ?? "");
    const cost = num(row.cost);
    totals.set(cur, (totals.get(cur) ?? 0) + cost);
    const days = byCurrency.get(cur) ?? new Map<string, number>();
    days.set(d, (days.get(d) ?? 0) + cost);
    byCurrency.set(cur, days);
  }
  const currencies = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const chosen = currency !== undefined && totals.has(currency) ? currency : (currencies[0] ?? "");
  const days = byCurrency.get(chosen) ?? new Map<string, number>();
  const anomalies = anomalyMarks(findings, chosen);
  const sorted = [...days.keys()].sort();
  const points: SpendPoint[] = [];
  if (sorted.length > 0) {
    const last = sorted[sorted.length - 1] as string;
    for (let d = sorted[0] as string; d <= last; d = nextDay(d)) {
      const cost = Math.round((days.get(d) ?? 0) * 100) / 100;
      const flagged = anomalies.some((a) => a.start <= d && d <= a.end);
      points.push({ day: d, cost, anomaly: flagged ? cost : null });
    }
  }
  return {
    currency: chosen,
    currencies,
    points,
    anomalies,
    total: Math.round((totals.get(chosen) ?? 0) * 100) / 100,
  };
}

export interface StageBar {
  stage: string;
  deals: number;
  amount: number;
  weighted: number;
  probability: number | null;
}

export interface Pipeline {
  currency: string;
  currencies: string[];
  stages: StageBar[];
  deals: number;
  amount: number;
  weighted: number;
}

/** Open pipeline by stage in the currency with the most open amount, in funnel order. */
export function pipelineByStage(
  result: Pick<QueryOut, "columns" | "rows">,
  currency?: string,
): Pipeline {
  const rows = rowsOf(result).map((r) => ({
    stage: String(r.stage ?? "") || "(no stage)",
    currency: String(r.currency ?? ""),
    deals: num(r.deals),
    amount: num(r.amount),
    weighted: num(r.weighted),
    probability: r.avg_probability === null || r.avg_probability === undefined ? null : num(r.avg_probability),
  }));
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.currency, (totals.get(r.currency) ?? 0) + r.amount);
  const currencies = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const chosen = currency !== undefined && totals.has(currency) ? currency : (currencies[0] ?? "");
  const stages = rows
    .filter((r) => r.currency === chosen)
    // funnel order: least likely to close first, unknown probability at the top
    .sort(
      (a, b) =>
        (a.probability ?? -1) - (b.probability ?? -1) || a.stage.localeCompare(b.stage),
    )
    .map(({ stage, deals, amount, weighted, probability }) => ({
      stage,
      deals,
      amount: Math.round(amount * 100) / 100,
      weighted: Math.round(weighted * 100) / 100,
      probability,
    }));
  return {
    currency: chosen,
    currencies,
    stages,
    deals: stages.reduce((s, x) => s + x.deals, 0),
    amount: Math.round(stages.reduce((s, x) => s + x.amount, 0) * 100) / 100,
    weighted: Math.round(stages.reduce((s, x) => s + x.weighted, 0) * 100) / 100,
  };
}

/** "12,345.67 USD" (no currency when the source gave none). */
export function money(value: number | null | undefined, currency: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency ? `${text} ${currency}` : text;
}

const HOUR = 3_600_000;

/** Start of a "since" window, on the hour, so a query keyed by it holds still within the hour. */
export function sinceIso(days: number, now: number = Date.now()): string | null {
  if (!days) return null;
  return new Date(Math.floor(now / HOUR) * HOUR - days * 24 * HOUR).toISOString();
}
