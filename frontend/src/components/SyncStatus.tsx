import { useRun } from "../api/queries/aam";
import { formatNumber } from "../lib/format";
import { StatusBadge } from "./Bits";

/** A run followed until it ends (polled every second), announced when it changes. */
export function SyncStatus({ runId }: { runId: string }) {
  const run = useRun(runId);
  if (run.error) return <span className="badge danger">status unavailable</span>;
  if (!run.data) return <span className="badge info">queued</span>;
  const r = run.data;
  return (
    <span role="status" aria-live="polite" className="row" data-run-status={r.status}>
      <StatusBadge status={r.status} />
      <span className="small muted">
        {formatNumber(r.records_written)} rows
        {r.records_quarantined ? `, ${formatNumber(r.records_quarantined)} quarantined` : ""}
        {r.error ? ` — ${r.error}` : ""}
      </span>
    </span>
  );
}
