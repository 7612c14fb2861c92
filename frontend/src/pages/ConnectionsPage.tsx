import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { errorMessage } from "../api/errors";
import {
  useCheckConnection,
  useConnectors,
  useDeleteConnection,
  useStartSync,
} from "../api/queries/aam";
import { useMe } from "../api/queries/platform";
import { usePendingCount } from "../api/queries/repair";
import { hasRole, type CheckResult, type Connector } from "../api/types";
import { ConfirmButton, DriftBadge, Kpi, StatusBadge, When } from "../components/Bits";
import { ConnectionForm } from "../components/ConnectionForm";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { EmptyState, QueryView } from "../components/States";
import { SyncStatus } from "../components/SyncStatus";
import { useToast } from "../components/Toasts";
import { formatNumber } from "../lib/format";

export default function ConnectionsPage() {
  const connectors = useConnectors();
  const pending = usePendingCount();
  const me = useMe();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const canOperate = hasRole(me.data?.role, "operator");
  const list = connectors.data?.connectors ?? [];

  return (
    <Page
      feature="Connections"
      description="Every source this tenant reads: its health, its mappings and its drift."
      actions={
        <button
          type="button"
          className="primary"
          disabled={!canOperate}
          title={canOperate ? undefined : "Needs the operator role"}
          onClick={() => setCreating((v) => !v)}
          aria-expanded={creating}
        >
          {creating ? "Close" : "New connection"}
        </button>
      }
    >
      <div className="stack">
        <Panel status="connections.kpis" payload={connectors.data}>
          <div className="grid kpis">
            <Kpi label="Connections" value={connectors.data ? list.length : "…"} />
            <Kpi
              label="Active"
              tone="green"
              value={connectors.data ? list.filter((c) => c.status === "active").length : "…"}
            />
            <Kpi
              label="With drift"
              tone="amber"
              value={connectors.data ? list.filter((c) => c.has_drift).length : "…"}
            />
            <Kpi
              label="Mappings"
              tone="purple"
              value={connectors.data ? formatNumber(list.reduce((s, c) => s + c.mapping_count, 0)) : "…"}
            />
            <Kpi label="Pending repairs" tone="purple" value={pending.data ?? "…"} />
          </div>
        </Panel>

        {creating ? (
          <Panel title="New connection">
            <p className="muted small">
              For a guided first sync (check, discover, pick streams, Safe Mode, mappings) use{" "}
              <Link to="/discover">AOS Discover</Link>.
            </p>
            <ConnectionForm onCreated={(c) => navigate(`/connections/${c.id}`)} />
          </Panel>
        ) : null}

        <Panel status="connections.table" payload={connectors.data}>
          <QueryView query={connectors} loadingLabel="Loading connectors">
            {(data) =>
              data.connectors.length === 0 ? (
                <EmptyState title="No connections yet" icon="⇄">
                  Create one above, or onboard a source in <Link to="/discover">AOS Discover</Link>.
                </EmptyState>
              ) : (
                <div className="table-wrap">
                  <table aria-label="Connectors">
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col">Source type</th>
                        <th scope="col">Status</th>
                        <th scope="col" className="num">
                          Mappings
                        </th>
                        <th scope="col">Last event</th>
                        <th scope="col">Actions</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.connectors.map((c) => (
                        <ConnectorRow key={c.id} connector={c} canOperate={canOperate} isAdmin={hasRole(me.data?.role, "admin")} />
                      ))}
                    </tbody>
                  </table>
                </div>
              )
            }
          </QueryView>
        </Panel>
      </div>
    </Page>
  );
}

function ConnectorRow({
  connector: c,
  canOperate,
  isAdmin,
}: {
  connector: Connector;
  canOperate: boolean;
  isAdmin: boolean;
}) {
  const toast = useToast();
  const check = useCheckConnection();
  const sync = useStartSync();
  const remove = useDeleteConnection();
  const [runId, setRunId] = useState<string | null>(null);
  const [checked, setChecked] = useState<CheckResult | null>(null);

  return (
    <tr data-connection={c.name}>
      <td>
        <Link to={`/connections/${c.id}`}>{c.name}</Link> {c.has_drift ? <DriftBadge /> : null}
      </td>
      <td>{c.source_type}</td>
      <td>
        <StatusBadge status={c.status} />
      </td>
      <td className="num" data-testid="mapping-count">
        {formatNumber(c.mapping_count)}
      </td>
      <td>
        {c.last_event_type ?? "—"} <When at={c.last_event_at} />
      </td>
      <td>
        <div className="row">
          <button
            type="button"
            className="small"
            disabled={!canOperate || check.isPending}
            aria-label={`Test ${c.name}`}
            onClick={() =>
              check.mutate(c.id, {
                onSuccess: setChecked,
                onError: (e) => toast("error", errorMessage(e)),
              })
            }
          >
            {check.isPending ? "Testing…" : "Test"}
          </button>
          {checked ? (
            <span className={`badge ${checked.ok ? "ok" : "danger"}`} title={checked.error ?? undefined}>
              {checked.ok ? `reachable · ${Math.round(checked.latency_ms)} ms` : `unreachable: ${checked.failure ?? "error"}`}
            </span>
          ) : null}
          <button
            type="button"
            className="small"
            disabled={!canOperate || sync.isPending || c.status !== "active"}
            aria-label={`Sync ${c.name}`}
            onClick={() =>
              sync.mutate(
                { id: c.id },
                {
                  onSuccess: (started) => setRunId(started.run_id),
                  onError: (e) => toast("error", errorMessage(e)),
                },
              )
            }
          >
            Sync
          </button>
          {runId ? <SyncStatus runId={runId} /> : null}
          {isAdmin ? (
            <ConfirmButton
              label="Delete"
              confirmLabel={`Delete ${c.name}`}
              busy={remove.isPending}
              onConfirm={() =>
                remove.mutate(c.id, {
                  onSuccess: () => toast("ok", `${c.name} deleted`),
                  onError: (e) => toast("error", errorMessage(e)),
                })
              }
            />
          ) : null}
        </div>
      </td>
    </tr>
  );
}
