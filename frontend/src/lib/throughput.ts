import type { SyncRun } from "../api/types";

export interface ThroughputPoint {
  /** Bucket start, ms since epoch. */
  t: number;
  rows: number;
  runs: number;
  failed: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A bucket size that gives a readable chart for the span the runs cover. */
export function bucketFor(spanMs: number): number {
  if (spanMs <= 2 * HOUR) return 5 * MINUTE;
  if (spanMs <= 3 * DAY) return HOUR;
  return DAY;
}

/** Rows written by finished runs per time bucket, oldest first, gaps filled with zeros. */
export function throughputSeries(runs: readonly SyncRun[], maxBuckets = 60): ThroughputPoint[] {
  const done = runs
    .filter((r) => r.finished_at)
    .map((r) => ({ run: r, at: new Date(r.finished_at as string).getTime() }))
    .filter((r) => !Number.isNaN(r.at));
  if (done.length === 0) return [];
  const first = Math.min(...done.map((d) => d.at));
  const last = Math.max(...done.map((d) => d.at));
  const size = bucketFor(last - first);
  const start = Math.floor(first / size) * size;
  const count = Math.min(maxBuckets, Math.floor((last - start) / size) + 1);
  const from = start + Math.max(0, Math.floor((last - start) / size) + 1 - count) * size;
  const points: ThroughputPoint[] = Array.from({ length: count }, (_, i) => ({
    t: from + i * size,
    rows: 0,
    runs: 0,
    failed: 0,
  }));
  for (const { run, at } of done) {
    const i = Math.floor((at - from) / size);
    const point = points[i];
    if (!point) continue; // older than the window shown
    point.rows += run.records_written;
    point.runs += 1;
    if (run.status === "failed") point.failed += 1;
  }
  return points;
}
