import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import {
  useAgentMetrics,
  useAgentRun,
  useAgentRuns,
  useAgents,
  useCancelAgentRun,
  useStartAgentRun,
} from "../api/queries/aoa";
import { useMe } from "../api/queries/platform";
import { errorMessage } from "../api/errors";
import {
  hasRole,
  isTerminalRun,
  type Agent,
  type AgentMetrics,
  type AgentRun,
  type XaoMetrics,
} from "../api/types";
import { Kpi, StatusBadge, When } from "../components/Bits";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { OffsetPager } from "../components/Pager";
import { EmptyState, ErrorState, Loading, QueryView } from "../components/States";
import { useToast } from "../components/Toasts";
import { formatDuration, formatNumber } from "../lib/format";
import { agentLabel, percent, SeverityCounts, summaryEntries, usd } from "./agents/agentBits";

const RUNS_PER_PAGE = 10;

export default function OrchestrationPage() {
  const [params, setParams] = useSearchParams();
  const agentFilter = params.get("agent");
  const selectedRun = params.get("run");
  const agents = useAgents();
  const metrics = useAgentMetrics();
  const me = useMe();
  const canOperate = hasRole(me.data?.role, "operator");

  const select = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  const byId = new Map((metrics.data?.agents ?? []).map((m) => [m.agent_id, m]));
  const total = metrics.data?.total;

  return (
    <Page
      feature="Orchestration"
      description="Every agent, internal and third-party: what it ran, how it went, what it found and what its model calls cost."
    >
      <div className="stack">
        <Panel status="orchestration.metrics" payload={metrics.data}>
          {metrics.error ? (
            <ErrorState error={metrics.error} onRetry={() => void metrics.refetch()} />
          ) : (
            <div className="grid kpis" aria-label="xAO totals over the last 30 days">
              <Kpi label="Agents" value={agents.data ? agents.data.agents.length : "…"} tone="blue" />
              <Kpi label="Runs (30 days)" value={total ? formatNumber(total.runs) : "…"} tone="blue" />
              <Kpi label="Success rate" value={total ? percent(total.success_rate) : "…"} tone="green" />
              <Kpi
                label="Duration p50 / p95"
                value={total ? `${formatDuration(total.p50_duration_ms)} / ${formatDuration(total.p95_duration_ms)}` : "…"}
                tone="purple"
              />
              <Kpi label="Findings" value={total ? formatNumber(total.findings) : "…"} tone="amber" />
              <Kpi
                label="LLM tokens in / out"
                value={total ? `${formatNumber(total.llm_input_tokens)} / ${formatNumber(total.llm_output_tokens)}` : "…"}
                tone="purple"
              />
              <Kpi label="LLM cost" value={total ? usd(total.llm_cost_usd) : "…"} tone="green" />
            </div>
          )}
        </Panel>

        <Panel status="orchestration.agents" payload={agents.data}>
          <QueryView query={agents} loadingLabel="Loading agents">
            {(data) =>
              data.agents.length === 0 ? (
                <EmptyState title="No agent registered" icon="⚙">
                  The built-in FinOps and RevOps agents appear after the first materialisation.
                </EmptyState>
              ) : (
                <AgentsTable
                  agents={data.agents}
                  metrics={byId}
                  canOperate={canOperate}
                  selected={agentFilter}
                  onShowRuns={(name) => select({ agent: name, offset: null })}
                  onStarted={(run) => select({ run: run.id, agent: null, offset: null })}
                />
              )
            }
          </QueryView>
        </Panel>

        <div className="grid two">
          <RunsPanel
            agents={agents.data?.agents ?? []}
            agentFilter={agentFilter}
            offset={Number(params.get("offset") ?? 0) || 0}
            selectedRun={selectedRun}
            onFilter={(agent) => select({ agent, offset: null })}
            onPage={(offset) => select({ offset: offset ? String(offset) : null })}
            onSelect={(id) => select({ run: id })}
          />
          <RunDetail
            runId={selectedRun}
            agents={agents.data?.agents ?? []}
            canOperate={canOperate}
          />
        </div>
      </div>
    </Page>
  );
}

function AgentsTable({
  agents,
  metrics,
  canOperate,
  selected,
  onShowRuns,
  onStarted,
}: {
  agents: Agent[];
  metrics: Map<string, AgentMetrics>;
  canOperate: boolean;
  selected: string | null;
  onShowRuns: (name: string) => void;
  onStarted: (run: AgentRun) => void;
}) {
  return (
    <div className="table-wrap">
      <table aria-label="Agents and their xAO metrics">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col" className="num">
              Runs
            </th>
            <th scope="col" className="num">
              Success
            </th>
            <th scope="col" className="num">
              p50 / p95
            </th>
            <th scope="col">Findings</th>
            <th scope="col" className="num">
              LLM tokens in / out · cost
            </th>
            <th scope="col">Last run</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {agents.map((agent) => {
            const m: XaoMetrics | undefined = metrics.get(agent.id)?.metrics;
            return (
              <tr key={agent.id} data-agent={agent.name} className={selected === agent.name ? "selected" : undefined}>
                <td>
                  <strong>{agentLabel(agent.name)}</strong>{" "}
                  <span className={`badge ${agent.kind === "internal" ? "accent" : "info"}`}>
                    {agent.kind === "internal" ? "internal" : "third-party"}
                  </span>
                  {!agent.enabled ? <span className="badge neutral">disabled</span> : null}
                  <div className="small muted">
                    {agent.description || agent.code || "—"} · owner {agent.owner || "—"}
                  </div>
                  <div className="small muted">
                    {agent.schedule ? (
                      <>
                        schedule <span className="mono">{agent.schedule}</span> (UTC)
                      </>
                    ) : (
                      "on demand"
                    )}
                    {agent.run_on_materialize ? " · after each view refresh" : ""}
                  </div>
                </td>
                <td className="num">{m ? formatNumber(m.runs) : "—"}</td>
                <td className="num">{m ? percent(m.success_rate) : "—"}</td>
                <td className="num small">
                  {m ? `${formatDuration(m.p50_duration_ms)} / ${formatDuration(m.p95_duration_ms)}` : "—"}
                </td>
                <td>{m ? <SeverityCounts counts={m.findings_by_severity} total={m.findings} compact /> : "—"}</td>
                <td className="num small">
                  {m
                    ? `${formatNumber(m.llm_input_tokens)} / ${formatNumber(m.llm_output_tokens)} · ${usd(m.llm_cost_usd)}`
                    : "—"}
                </td>
                <td>
                  <When at={m?.last_run_at} />
                </td>
                <td>
                  <div className="row" style={{ flexWrap: "nowrap" }}>
                    {agent.kind === "internal" ? (
                      <RunButton agent={agent} canOperate={canOperate} onStarted={onStarted} />
                    ) : (
                      <span className="small muted" title="A third-party agent reports its own runs with its token">
                        reports its runs
                      </span>
                    )}
                    <button
                      type="button"
                      className="small ghost"
                      onClick={() => onShowRuns(agent.name)}
                      aria-label={`Show the runs of ${agent.name}`}
                    >
                      Runs
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Starts a run and shows its state as it progresses (polled until it ends). */
function RunButton({
  agent,
  canOperate,
  onStarted,
}: {
  agent: Agent;
  canOperate: boolean;
  onStarted: (run: AgentRun) => void;
}) {
  const start = useStartAgentRun();
  const toast = useToast();
  const [runId, setRunId] = useState<string | null>(null);
  const run = useAgentRun(runId);
  const status = run.data?.status;
  const announced = useRef<string | null>(null);
  useEffect(() => {
    if (!run.data || !isTerminalRun(run.data.status) || announced.current === run.data.id) return;
    announced.current = run.data.id;
    const r = run.data;
    toast(
      r.status === "succeeded" ? "ok" : r.status === "failed" ? "error" : "info",
      r.status === "succeeded"
        ? `${agent.name}: run finished with ${r.findings_count} findings`
        : `${agent.name}: run ${r.status}${r.error ? ` (${r.error})` : ""}`,
    );
  }, [run.data, agent.name, toast]);
  const busy = start.isPending || (status !== undefined && !isTerminalRun(status));
  const title = !canOperate
    ? "Starting a run needs the operator role"
    : !agent.enabled
      ? "This agent is disabled"
      : undefined;
  return (
    <>
      <button
        type="button"
        className="small primary"
        disabled={!canOperate || !agent.enabled || busy}
        title={title}
        aria-label={`Run ${agent.name}`}
        onClick={() =>
          start.mutate(agent.id, {
            onSuccess: (r) => {
              setRunId(r.id);
              onStarted(r);
            },
            onError: (e) => toast("error", `${agent.name}: ${errorMessage(e)}`),
          })
        }
      >
        {busy ? "Running…" : "Run"}
      </button>
      {status ? (
        <span data-run-status={status} aria-live="polite">
          <StatusBadge status={status} />
        </span>
      ) : null}
    </>
  );
}

function RunsPanel({
  agents,
  agentFilter,
  offset,
  selectedRun,
  onFilter,
  onPage,
  onSelect,
}: {
  agents: Agent[];
  agentFilter: string | null;
  offset: number;
  selectedRun: string | null;
  onFilter: (agent: string | null) => void;
  onPage: (offset: number) => void;
  onSelect: (id: string) => void;
}) {
  const runs = useAgentRuns({ agent: agentFilter, limit: RUNS_PER_PAGE, offset });
  const names = new Map(agents.map((a) => [a.id, a.name]));
  return (
    <Panel
      status="orchestration.runs"
      payload={runs.data}
      actions={
        <label className="row small" style={{ gap: 6 }}>
          Agent
          <select
            value={agentFilter ?? ""}
            onChange={(e) => onFilter(e.target.value || null)}
            aria-label="Show the runs of"
          >
            <option value="">all agents</option>
            {agents.map((a) => (
              <option key={a.id} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <QueryView query={runs} loadingLabel="Loading runs">
        {(data) =>
          data.runs.length === 0 ? (
            <EmptyState title={agentFilter ? `${agentFilter} has not run yet` : "No agent has run yet"} icon="▶">
              Press Run on an internal agent to start one.
            </EmptyState>
          ) : (
            <>
              <div className="table-wrap">
                <table aria-label="Agent runs">
                  <thead>
                    <tr>
                      <th scope="col">Run</th>
                      <th scope="col">Status</th>
                      <th scope="col">Trigger</th>
                      <th scope="col">Findings</th>
                      <th scope="col" className="num">
                        Duration
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.runs.map((r) => (
                      <tr key={r.id} data-run-status={r.status} className={r.id === selectedRun ? "selected" : undefined}>
                        <td>
                          <button
                            type="button"
                            className="link"
                            onClick={() => onSelect(r.id)}
                            aria-label={`Details of the ${names.get(r.agent_id) ?? "agent"} run started ${new Date(r.created_at).toLocaleString()}`}
                          >
                            {names.get(r.agent_id) ?? r.agent_id.slice(0, 8)}
                          </button>
                          <div className="small muted">
                            <When at={r.created_at} />
                          </div>
                        </td>
                        <td>
                          <StatusBadge status={r.status} />
                        </td>
                        <td className="small">{r.trigger}</td>
                        <td>
                          <SeverityCounts counts={r.severity_counts} total={r.findings_count} compact />
                        </td>
                        <td className="num small">{formatDuration(r.duration_ms)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <OffsetPager offset={offset} limit={RUNS_PER_PAGE} total={data.total} onChange={onPage} label="Runs" />
            </>
          )
        }
      </QueryView>
    </Panel>
  );
}

function RunDetail({
  runId,
  agents,
  canOperate,
}: {
  runId: string | null;
  agents: Agent[];
  canOperate: boolean;
}) {
  const run = useAgentRun(runId);
  const cancel = useCancelAgentRun();
  const toast = useToast();
  const name = agents.find((a) => a.id === run.data?.agent_id)?.name;
  return (
    <Panel status="orchestration.run" payload={run.data}>
      {runId === null ? (
        <EmptyState title="Pick a run" icon="☰">
          Its inputs, analytics summary, duration and LLM usage show here.
        </EmptyState>
      ) : run.isPending ? (
        <Loading label="Loading the run" />
      ) : run.error || !run.data ? (
        <ErrorState error={run.error} onRetry={() => void run.refetch()} />
      ) : (
        <div className="stack" style={{ gap: 12 }} data-run={run.data.id}>
          <div className="row">
            <strong>{name ? agentLabel(name) : "Agent"} run</strong>
            <span data-run-status={run.data.status}>
              <StatusBadge status={run.data.status} />
            </span>
            {!isTerminalRun(run.data.status) ? (
              <>
                <Loading label={run.data.status === "queued" ? "Waiting for the runner" : "Analysing"} />
                <button
                  type="button"
                  className="small danger"
                  disabled={!canOperate || cancel.isPending}
                  onClick={() =>
                    cancel.mutate(run.data.id, {
                      onError: (e) => toast("error", errorMessage(e)),
                    })
                  }
                >
                  Cancel the run
                </button>
              </>
            ) : null}
          </div>
          <RunFacts run={run.data} />
          {run.data.error ? (
            <div className="state error" role="alert">
              <strong>{run.data.error}</strong>
            </div>
          ) : null}
          <RunSummary summary={run.data.summary} />
          {run.data.findings_count > 0 ? (
            <Link to={`/agents?run=${run.data.id}`}>
              Open its {run.data.findings_count} finding{run.data.findings_count === 1 ? "" : "s"}
            </Link>
          ) : null}
        </div>
      )}
    </Panel>
  );
}

function RunFacts({ run }: { run: AgentRun }) {
  return (
    <dl className="facts">
      <dt>Trigger</dt>
      <dd>{run.trigger}</dd>
      <dt>Started</dt>
      <dd>
        <When at={run.started_at} />
      </dd>
      <dt>Finished</dt>
      <dd>
        <When at={run.finished_at} />
      </dd>
      <dt>Duration</dt>
      <dd>{formatDuration(run.duration_ms)}</dd>
      <dt>Data as of</dt>
      <dd>{run.as_of ?? "—"}</dd>
      <dt>Findings</dt>
      <dd>
        <SeverityCounts counts={run.severity_counts} total={run.findings_count} />
      </dd>
      <dt>LLM calls</dt>
      <dd>
        {formatNumber(run.llm_calls)} · {formatNumber(run.llm_input_tokens)} in / {formatNumber(run.llm_output_tokens)} out ·{" "}
        {usd(run.llm_cost_usd)}
      </dd>
    </dl>
  );
}

/** The analytics summary, readable: figures as a list, lists and tables by their size. */
function RunSummary({ summary }: { summary: Record<string, unknown> }) {
  const entries = summaryEntries(summary);
  if (entries.length === 0) return null;
  return (
    <section aria-label="Analytics summary">
      <h3 className="small muted" style={{ margin: "0 0 6px" }}>
        Analytics summary
      </h3>
      <dl className="facts">
        {entries.map(([key, text]) => (
          <div key={key} style={{ display: "contents" }}>
            <dt>{key}</dt>
            <dd>{text}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
