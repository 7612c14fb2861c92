import { describe, expect, it } from "vitest";

import type { SyncRun } from "../api/types";
import { ariaSort, currentCursor, firstPage, nextPage, nextSort, previousPage, toFilterParams } from "../pages/ontology/viewQuery";
import { relativeTime } from "./format";
import { normalizeName, normalizeNames } from "./normalize";
import { buildConfig, missingFields } from "./sources";
import { bucketFor, throughputSeries } from "./throughput";

describe("normalizeName mirrors autonomos/aam/normalize.py", () => {
  // expected values printed by the Python implementation
  it.each([
    ["WebsiteURL", "website_url"],
    ["AnnualRevenue", "annual_revenue"],
    ["metadata.sf_account_id", "metadata.sf_account_id"],
    ["Id", "id"],
    ["billing.Address.City", "billing.address.city"],
    ["123abc", "_123abc"],
    ["HTTPResponseCode", "http_response_code"],
    ["  ", "_"],
    ["First Name", "first_name"],
    ["Annual_Revenue__c", "annual_revenue_c"],
  ])("%s -> %s", (raw, landed) => expect(normalizeName(raw)).toBe(landed));

  it("suffixes duplicates", () => expect(normalizeNames(["a", "A", "a"])).toEqual(["a", "a_2", "a_3"]));
});

function run(finished: string | null, rows: number, status = "succeeded"): SyncRun {
  return {
    id: finished ?? "x",
    connection_id: "c",
    status,
    streams: null,
    records_read: rows,
    records_written: rows,
    records_quarantined: 0,
    queued_at: finished ?? "2026-01-01T00:00:00Z",
    started_at: finished,
    finished_at: finished,
    error: null,
    error_type: null,
  };
}

describe("throughputSeries", () => {
  it("sums rows per bucket, oldest first, with empty buckets kept", () => {
    const points = throughputSeries([
      run("2026-01-01T10:01:00Z", 10),
      run("2026-01-01T10:03:00Z", 5, "failed"),
      run("2026-01-01T10:16:00Z", 7),
      run(null, 99, "running"),
    ]);
    expect(points.map((p) => p.rows)).toEqual([15, 0, 0, 7]);
    expect(points[0]?.failed).toBe(1);
    expect((points[1]?.t ?? 0) - (points[0]?.t ?? 0)).toBe(5 * 60_000);
  });

  it("is empty without finished runs, and caps its buckets", () => {
    expect(throughputSeries([run(null, 1, "queued")])).toEqual([]);
    const many = Array.from({ length: 200 }, (_, i) => run(new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), 1));
    const points = throughputSeries(many, 60);
    expect(points).toHaveLength(60);
    expect(points.reduce((s, p) => s + p.rows, 0)).toBe(60); // the newest 60 days
    expect(bucketFor(10 * 86_400_000)).toBe(86_400_000);
  });
});

describe("view query state", () => {
  it("builds filters and skips incomplete rows", () => {
    expect(
      toFilterParams([
        { field: "name", op: "contains", value: "acme" },
        { field: "domain", op: "null", value: "ignored" },
        { field: "", op: "eq", value: "x" },
        { field: "city", op: "eq", value: "" },
        { field: "note", op: "eq", value: "a:b" },
      ]),
    ).toEqual(["name:contains:acme", "domain:null", "note:eq:a:b"]);
  });

  it("cycles sorting and keeps a cursor trail", () => {
    expect(nextSort("", "name")).toBe("name");
    expect(nextSort("name", "name")).toBe("-name");
    expect(nextSort("-name", "name")).toBe("");
    expect(ariaSort("-name", "name")).toBe("descending");
    let trail = firstPage();
    trail = nextPage(nextPage(trail, "c2"), "c3");
    expect(currentCursor(trail)).toBe("c3");
    trail = previousPage(previousPage(previousPage(trail)));
    expect(currentCursor(trail)).toBeNull();
  });
});

describe("connection settings", () => {
  it("sends lists and leaves empty fields out", () => {
    expect(buildConfig("postgres", { url: " postgresql://x ", schemas: "public, sales ,", tables: "" })).toEqual({
      url: "postgresql://x",
      schemas: ["public", "sales"],
    });
    expect(missingFields("mongodb", { uri: "mongodb://h" })).toEqual(["Database"]);
  });
});

describe("relativeTime", () => {
  it("speaks in the largest unit", () => {
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(relativeTime("2026-01-01T00:00:00Z", now)).toBe("yesterday");
    expect(relativeTime("2026-01-01T23:59:30Z", now)).toBe("30 seconds ago");
  });
});

describe("decider", () => {
  it("names people relative to the reader, and systems by kind", async () => {
    const { decider } = await import("./format");
    expect(decider("user:u1", "u1")).toBe("you");
    expect(decider("user:u2", "u1")).toBe("a teammate");
    expect(decider("agent:repair")).toBe("agent");
    expect(decider(null)).toBe("—");
  });
});
