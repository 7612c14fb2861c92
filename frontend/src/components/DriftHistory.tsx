import { useDrift } from "../api/queries/aam";
import type { DriftEvent } from "../api/types";
import { StatusBadge, When } from "./Bits";
import { Panel } from "./Panel";
import { EmptyState, QueryView } from "./States";

function describe(change: Record<string, unknown>): string {
  const kind = String(change.kind ?? "changed");
  if (kind === "renamed") return `renamed ${String(change.old_path)} → ${String(change.new_path)}`;
  if (kind.startsWith("type")) {
    return `${String(change.path)}: ${String(change.old_type)} → ${String(change.new_type)}`;
  }
  return `${kind} ${String(change.path ?? "")}`;
}

const SEVERITY: Record<string, string> = { breaking: "danger", warning: "warn", info: "info" };

export function DriftList({ events }: { events: DriftEvent[] }) {
  return (
    <div className="table-wrap">
      <table aria-label="Drift events">
        <thead>
          <tr>
            <th scope="col">Detected</th>
            <th scope="col">Stream</th>
            <th scope="col">Severity</th>
            <th scope="col">Changes</th>
            <th scope="col">Fingerprint</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>
                <When at={e.detected_at} />
              </td>
              <td>{e.stream}</td>
              <td>
                <span className={`badge ${SEVERITY[e.severity] ?? "neutral"}`}>{e.severity}</span>
              </td>
              <td className="wrap small">{e.changes.map(describe).join("; ")}</td>
              <td className="mono small" title={`${e.old_fingerprint ?? "none"} → ${e.new_fingerprint}`}>
                {(e.old_fingerprint ?? "—").slice(0, 8)} → {e.new_fingerprint.slice(0, 8)}
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DriftHistory({ connectionId }: { connectionId: string }) {
  const drift = useDrift(connectionId);
  return (
    <Panel status="discover.drift" payload={drift.data}>
      <QueryView query={drift} loadingLabel="Loading drift history">
        {(data) =>
          data.events.length === 0 ? (
            <EmptyState title="No drift detected" icon="≈">
              Every sync so far saw the schema it expected.
            </EmptyState>
          ) : (
            <DriftList events={data.events} />
          )
        }
      </QueryView>
    </Panel>
  );
}
