import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { api, unwrap } from "../api/client";
import { errorMessage } from "../api/errors";
import { keys } from "../api/queries/keys";
import { useMe } from "../api/queries/platform";
import { useProposals, useRepairSettings, useScanRepairs, type ProposalStatus } from "../api/queries/repair";
import { hasRole, type RepairSettings } from "../api/types";
import { Confidence, StatusBadge, When } from "../components/Bits";
import { Page } from "../components/Page";
import { OffsetPager } from "../components/Pager";
import { Panel } from "../components/Panel";
import { EmptyState, QueryView } from "../components/States";
import { useToast } from "../components/Toasts";
import { ProposalDetail } from "./review/ProposalDetail";

const STATUSES: (ProposalStatus | "all")[] = ["pending", "applied", "rejected", "rolled_back", "superseded", "all"];
const LIMIT = 20;

export default function ReviewPage() {
  const { id } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const me = useMe();
  const canOperate = hasRole(me.data?.role, "operator");
  const statusParam = params.get("status") ?? "pending";
  const status = (STATUSES.includes(statusParam as ProposalStatus) ? statusParam : "pending") as ProposalStatus | "all";
  const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
  const proposals = useProposals({ status: status === "all" ? undefined : status, limit: LIMIT, offset });
  const scan = useScanRepairs();
  const toast = useToast();
  const keep = (next: Record<string, string>) => setParams({ status, offset: String(offset), ...next });

  return (
    <Page
      feature="Review queue"
      description="Repairs the agent was not sure enough to apply on its own, with their evidence."
      actions={
        <button
          type="button"
          disabled={!canOperate || scan.isPending}
          title="Handle drift events the repair agent has not seen yet"
          onClick={() =>
            scan.mutate(undefined, {
              onSuccess: (r) => toast("ok", `Scanned: ${r.handled} drift events, ${r.created} proposals, ${r.pending} pending`),
              onError: (e) => toast("error", errorMessage(e)),
            })
          }
        >
          {scan.isPending ? "Scanning…" : "Scan for drift"}
        </button>
      }
    >
      <div className="stack">
        <SafeMode isAdmin={hasRole(me.data?.role, "admin")} />
        <div className="grid two" style={{ alignItems: "start" }}>
          <Panel
            status="review.queue"
            payload={proposals.data}
            actions={
              <>
                <label htmlFor="status-filter" className="sr-only">
                  Status
                </label>
                <select
                  id="status-filter"
                  value={status}
                  onChange={(e) => setParams({ status: e.target.value, offset: "0" })}
                >
                  {STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s.replace("_", " ")}
                    </option>
                  ))}
                </select>
              </>
            }
          >
            <QueryView query={proposals} loadingLabel="Loading proposals">
              {(data) =>
                data.proposals.length === 0 ? (
                  <EmptyState title={status === "pending" ? "Nothing waits for review" : `No ${status.replace("_", " ")} proposal`} icon="✓" />
                ) : (
                  <>
                    <div className="table-wrap">
                      <table aria-label="Repair proposals">
                        <thead>
                          <tr>
                            <th scope="col">Proposal</th>
                            <th scope="col">Confidence</th>
                            <th scope="col">Status</th>
                            <th scope="col">When</th>
                          </tr>
                        </thead>
                        <tbody>
                          {data.proposals.map((p) => (
                            <tr key={p.id} className={p.id === id ? "selected" : undefined}>
                              <td>
                                <Link
                                  to={`/review/${p.id}?${params.toString()}`}
                                  aria-current={p.id === id ? "true" : undefined}
                                >
                                  {p.kind}: {p.stream}.{p.source_field}
                                  {p.new_source_field ? ` → ${p.new_source_field}` : ""}
                                </Link>
                                <div className="small muted">{p.target ?? ""}</div>
                              </td>
                              <td>
                                <Confidence value={p.confidence} />
                              </td>
                              <td>
                                <StatusBadge status={p.status} />
                              </td>
                              <td>
                                <When at={p.created_at} />
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                    <OffsetPager
                      offset={offset}
                      limit={LIMIT}
                      total={data.total}
                      onChange={(o) => keep({ offset: String(o) })}
                      label="Proposals"
                    />
                  </>
                )
              }
            </QueryView>
          </Panel>
          {id ? (
            <div className="stack">
              <div className="row">
                <button type="button" className="small ghost" onClick={() => navigate(`/review?${params.toString()}`)}>
                  ✕ Close
                </button>
              </div>
              <ProposalDetail id={id} canOperate={canOperate} />
            </div>
          ) : (
            <Panel title="Choose a proposal">
              <EmptyState title="Open a proposal to see its evidence and decide" icon="☰" />
            </Panel>
          )}
        </div>
      </div>
    </Page>
  );
}

function SafeMode({ isAdmin }: { isAdmin: boolean }) {
  const settings = useRepairSettings();
  const [editing, setEditing] = useState(false);
  return (
    <Panel
      title="Safe Mode"
      actions={
        isAdmin && settings.data ? (
          <button type="button" className="small" aria-expanded={editing} onClick={() => setEditing((v) => !v)}>
            {editing ? "Close" : "Change"}
          </button>
        ) : null
      }
    >
      <QueryView query={settings} loadingLabel="Reading Safe Mode">
        {(s) =>
          editing ? (
            <SafeModeForm settings={s} onDone={() => setEditing(false)} />
          ) : (
            <p style={{ margin: 0 }} data-testid="safe-mode">
              Repairs apply on their own at or above <strong>{Math.round(s.threshold * 100)}%</strong>{" "}
              confidence when not destructive · automatic repairs{" "}
              <strong>{s.auto_apply ? "on" : "off (every repair waits here)"}</strong> · Slack{" "}
              {s.slack_configured ? (s.notify ? "notified" : "muted") : "not configured"}
              {s.is_default ? " · platform defaults" : ""}
            </p>
          )
        }
      </QueryView>
    </Panel>
  );
}

function SafeModeForm({ settings, onDone }: { settings: RepairSettings; onDone: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [threshold, setThreshold] = useState(String(Math.round(settings.threshold * 100)));
  const [autoApply, setAutoApply] = useState(settings.auto_apply);
  const [notify, setNotify] = useState(settings.notify);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = Number(threshold) / 100;
    if (!(value > 0 && value <= 1)) {
      setProblem("The threshold is a percentage above 0 and at most 100.");
      return;
    }
    setBusy(true);
    unwrap(api.PUT("/api/v1/repair/settings", { body: { threshold: value, auto_apply: autoApply, notify } }))
      .then((saved) => {
        client.setQueryData(keys.repairSettings, saved);
        toast("ok", "Safe Mode saved");
        onDone();
      })
      .catch((e: unknown) => setProblem(errorMessage(e)))
      .finally(() => setBusy(false));
  };
  return (
    <form className="form" onSubmit={submit} aria-label="Safe Mode settings">
      <div className="field">
        <label htmlFor="safe-threshold">Auto-apply threshold (%)</label>
        <input
          id="safe-threshold"
          type="number"
          min={1}
          max={100}
          value={threshold}
          onChange={(e) => setThreshold(e.target.value)}
        />
      </div>
      <label className="row">
        <input type="checkbox" checked={autoApply} onChange={(e) => setAutoApply(e.target.checked)} />
        Automatic repairs (off: every repair waits for review)
      </label>
      <label className="row">
        <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.target.checked)} />
        Notify Slack of pending proposals
      </label>
      <div className="form-error" role="alert">
        {problem}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
      </div>
    </form>
  );
}
