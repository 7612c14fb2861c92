import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { errorMessage } from "../api/errors";
import {
  useCheckConnection,
  useConnection,
  useDeleteConnection,
  useRuns,
  useStartSync,
  useUpdateConnection,
} from "../api/queries/aam";
import { useMe } from "../api/queries/platform";
import { hasRole, type CheckResult } from "../api/types";
import { ConfirmButton, StatusBadge, When } from "../components/Bits";
import { DriftHistory } from "../components/DriftHistory";
import { MappingEditor } from "../components/MappingEditor";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "../components/States";
import { TabPanel, Tabs } from "../components/Tabs";
import { useToast } from "../components/Toasts";
import { durationMs, formatDuration, formatNumber } from "../lib/format";

const TABS = [
  { id: "runs", label: "Sync runs" },
  { id: "mappings", label: "Field mappings" },
  { id: "drift", label: "Drift" },
] as const;
type Tab = (typeof TABS)[number]["id"];

export default function ConnectionDetailPage() {
  const { id = "" } = useParams();
  const connection = useConnection(id);
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const tab = (TABS.find((t) => t.id === params.get("tab"))?.id ?? "runs") as Tab;
  const canOperate = hasRole(me.data?.role, "operator");

  if (connection.isPending) return <Loading label="Loading the connection" />;
  if (connection.error) {
    return (
      <Page feature="Connections">
        <ErrorState error={connection.error} onRetry={() => void connection.refetch()} />
        <p>
          <Link to="/connections">Back to all connections</Link>
        </p>
      </Page>
    );
  }
  const c = connection.data;
  return (
    <Page
      feature="Connections"
      description={
        <>
          <Link to="/connections">Connections</Link> / <strong>{c.name}</strong>
        </>
      }
      actions={<Actions id={c.id} name={c.name} status={c.status} canOperate={canOperate} isAdmin={hasRole(me.data?.role, "admin")} />}
    >
      <div className="stack">
        <Panel title={c.name}>
          <dl className="facts">
            <dt>Source type</dt>
            <dd>{c.source_type}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={c.status} />
            </dd>
            <dt>Drift policy</dt>
            <dd>{c.drift_policy}</dd>
            <dt>Settings</dt>
            <dd className="mono">{JSON.stringify(c.config)}</dd>
            <dt>Created</dt>
            <dd>
              <When at={c.created_at} />
            </dd>
          </dl>
        </Panel>
        <div>
          <Tabs
            tabs={TABS}
            value={tab}
            onChange={(t) => setParams({ tab: t }, { replace: true })}
            label="Connection details"
          />
          <TabPanel id={tab}>
            {tab === "runs" ? <Runs connectionId={c.id} /> : null}
            {tab === "mappings" ? <MappingEditor connectionId={c.id} canOperate={canOperate} /> : null}
            {tab === "drift" ? <DriftHistory connectionId={c.id} /> : null}
          </TabPanel>
        </div>
      </div>
    </Page>
  );
}

function Actions({
  id,
  name,
  status,
  canOperate,
  isAdmin,
}: {
  id: string;
  name: string;
  status: string;
  canOperate: boolean;
  isAdmin: boolean;
}) {
  const toast = useToast();
  const navigate = useNavigate();
  const check = useCheckConnection();
  const sync = useStartSync();
  const update = useUpdateConnection();
  const remove = useDeleteConnection();
  const [checked, setChecked] = useState<CheckResult | null>(null);
  const fail = (e: unknown) => toast("error", errorMessage(e));
  return (
    <>
      {checked ? (
        <span className={`badge ${checked.ok ? "ok" : "danger"}`} role="status">
          {checked.ok ? `reachable · ${Math.round(checked.latency_ms)} ms` : checked.error ?? "unreachable"}
        </span>
      ) : null}
      <button type="button" disabled={!canOperate || check.isPending} onClick={() => check.mutate(id, { onSuccess: setChecked, onError: fail })}>
        {check.isPending ? "Testing…" : "Test"}
      </button>
      <button
        type="button"
        className="primary"
        disabled={!canOperate || sync.isPending || status !== "active"}
        onClick={() => sync.mutate({ id }, { onSuccess: () => toast("info", "Sync queued"), onError: fail })}
      >
        Sync now
      </button>
      <button
        type="button"
        disabled={!canOperate || update.isPending}
        onClick={() => update.mutate({ id, status: status === "active" ? "paused" : "active" }, { onError: fail })}
      >
        {status === "active" ? "Pause" : "Resume"}
      </button>
      {isAdmin ? (
        <ConfirmButton
          label="Delete"
          confirmLabel={`Delete ${name}`}
          busy={remove.isPending}
          onConfirm={() =>
            remove.mutate(id, {
              onSuccess: () => {
                toast("ok", `${name} deleted`);
                navigate("/connections");
              },
              onError: fail,
            })
          }
        />
      ) : null}
    </>
  );
}

function Runs({ connectionId }: { connectionId: string }) {
  const runs = useRuns(connectionId);
  return (
    <Panel status="connections.runs" payload={runs.data}>
      <QueryView query={runs} loadingLabel="Loading sync runs">
        {(data) =>
          data.runs.length === 0 ? (
            <EmptyState title="No sync has run yet" icon="↻" />
          ) : (
            <div className="table-wrap">
              <table aria-label="Sync runs">
                <thead>
                  <tr>
                    <th scope="col">Queued</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Read
                    </th>
                    <th scope="col" className="num">
                      Written
                    </th>
                    <th scope="col" className="num">
                      Quarantined
                    </th>
                    <th scope="col">Duration</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {data.runs.map((r) => (
                    <tr key={r.id} data-run-status={r.status}>
                      <td>
                        <When at={r.queued_at} />
                      </td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td className="num">{formatNumber(r.records_read)}</td>
                      <td className="num">{formatNumber(r.records_written)}</td>
                      <td className="num">{formatNumber(r.records_quarantined)}</td>
                      <td>{formatDuration(durationMs(r.started_at, r.finished_at))}</td>
                      <td className="wrap small">{r.error ? `${r.error_type ?? "error"}: ${r.error}` : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </Panel>
  );
}
