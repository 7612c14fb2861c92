import { describe, expect, it } from "vitest";

import type { AgentFinding } from "../api/types";
import { anomalyMarks, money, pipelineByStage, rowsOf, sinceIso, spendSeries } from "./agentCharts";

const col = (name: string, type = "VARCHAR") => ({ name, type });

function anomaly(over: Partial<AgentFinding> & { metrics: AgentFinding["metrics"] }): AgentFinding {
  return {
    id: over.id ?? "f1",
    run_id: "r1",
    agent_id: "a1",
    kind: over.kind ?? "cost_anomaly",
    severity: over.severity ?? "high",
    title: over.title ?? "AWS / EC2 spend spiked 3.0x (2025-12-10)",
    summary: "",
    key: over.key ?? "cost_anomaly:USD:aws:ec2:2025-12-10",
    metrics: over.metrics,
    evidence: { view: "cloud_cost", query: "SELECT 1", row_keys: [], rows: [] },
    created_at: over.created_at ?? "2026-12-03T10:00:00Z",
  };
}

const SPEND = {
  columns: [col("day", "DATE"), col("currency"), col("cost", "DOUBLE")],
  rows: [
    ["2025-12-08", "USD", 100],
    ["2025-12-09", "USD", 110.004],
    ["2025-12-11", "USD", 400],
    ["2025-12-12", "USD", 105],
    ["2025-12-09", "EUR", 5],
    ["not a day", "USD", 1_000_000],
  ],
};

describe("spendSeries", () => {
  it("keeps the currency with the most spend, fills missing days and marks anomalies", () => {
    const findings = [
      anomaly({ metrics: { currency: "USD", start: "2025-12-10", end: "2025-12-11", peak_day: "2025-12-11", deviation: 290.5 } }),
      // the same anomaly found again by an older run: drawn once
      anomaly({ id: "f0", created_at: "2026-12-02T10:00:00Z", metrics: { currency: "USD", start: "2025-12-10", end: "2025-12-11" } }),
      // another currency, another kind: not on this chart
      anomaly({ id: "f2", key: "k2", metrics: { currency: "EUR", start: "2025-12-09", end: "2025-12-09" } }),
      anomaly({ id: "f3", key: "k3", kind: "idle_resource", metrics: { currency: "USD", start: "2025-12-08" } }),
    ];
    const s = spendSeries(SPEND, findings);
    expect(s.currency).toBe("USD");
    expect(s.currencies).toEqual(["USD", "EUR"]);
    expect(s.points).toEqual([
      { day: "2025-12-08", cost: 100, anomaly: null },
      { day: "2025-12-09", cost: 110, anomaly: null },
      { day: "2025-12-10", cost: 0, anomaly: 0 },
      { day: "2025-12-11", cost: 400, anomaly: 400 },
      { day: "2025-12-12", cost: 105, anomaly: null },
    ]);
    expect(s.anomalies).toEqual([
      {
        findingId: "f1",
        title: "AWS / EC2 spend spiked 3.0x (2025-12-10)",
        severity: "high",
        start: "2025-12-10",
        end: "2025-12-11",
        peakDay: "2025-12-11",
        excess: 290.5,
      },
    ]);
    expect(s.total).toBe(715);
  });

  it("shows another currency on request, and nothing for an empty result", () => {
    expect(spendSeries(SPEND, [], "EUR").points).toEqual([{ day: "2025-12-09", cost: 5, anomaly: null }]);
    expect(spendSeries(SPEND, [], "GBP").currency).toBe("USD");
    expect(spendSeries({ columns: SPEND.columns, rows: [] })).toMatchObject({ currency: "", points: [], anomalies: [] });
  });

  it("reads timestamps and numeric strings as the API may send them", () => {
    const s = spendSeries({
      columns: SPEND.columns,
      rows: [
        ["2025-01-31T00:00:00", "usd", "12.5"],
        ["2025-02-01", "usd", null],
      ],
    });
    expect(s.points).toEqual([
      { day: "2025-01-31", cost: 12.5, anomaly: null },
      { day: "2025-02-01", cost: 0, anomaly: null },
    ]);
  });

  it("a single-day anomaly without an end still marks its day", () => {
    const marks = anomalyMarks([anomaly({ metrics: { currency: "usd", start: "2025-12-10" } })], "USD");
    expect(marks.map((m) => [m.start, m.end, m.excess])).toEqual([["2025-12-10", "2025-12-10", null]]);
  });
});

describe("pipelineByStage", () => {
  const result = {
    columns: [col("stage"), col("currency"), col("deals", "BIGINT"), col("amount", "DOUBLE"), col("weighted", "DOUBLE"), col("avg_probability", "DOUBLE")],
    rows: [
      ["Negotiation", "USD", 3, 300_000, 240_000, 80],
      ["Prospecting", "USD", 10, 500_000, 50_000, 10],
      ["", "USD", 2, 10_000, 0, null],
      ["Proposal", "EUR", 1, 50_000, 25_000, 50],
    ],
  };

  it("orders the stages as a funnel in the currency with the most open amount", () => {
    const p = pipelineByStage(result);
    expect(p.currency).toBe("USD");
    expect(p.currencies).toEqual(["USD", "EUR"]);
    expect(p.stages.map((s) => s.stage)).toEqual(["(no stage)", "Prospecting", "Negotiation"]);
    expect(p).toMatchObject({ deals: 15, amount: 810_000, weighted: 290_000 });
    expect(pipelineByStage(result, "EUR").stages).toEqual([
      { stage: "Proposal", deals: 1, amount: 50_000, weighted: 25_000, probability: 50 },
    ]);
  });
});

describe("helpers", () => {
  it("turns query rows into records", () => {
    expect(rowsOf({ columns: [col("a"), col("b")], rows: [[1, "x"]] })).toEqual([{ a: 1, b: "x" }]);
  });

  it("formats money with its currency", () => {
    expect(money(1234.5, "USD")).toBe("1,234.50 USD");
    expect(money(3, "")).toBe("3.00");
    expect(money(null, "USD")).toBe("—");
  });

  it("starts a since-window on the hour", () => {
    const now = Date.parse("2026-12-03T18:42:10Z");
    expect(sinceIso(7, now)).toBe("2026-11-26T18:00:00.000Z");
    expect(sinceIso(0, now)).toBeNull();
  });
});
