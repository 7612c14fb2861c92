import { lazy, Suspense } from "react";
import { Link } from "react-router-dom";

import { useConnectors, useRunsOf } from "../api/queries/aam";
import { useAgentMetrics, useAgents, useFindings } from "../api/queries/aoa";
import { useViews } from "../api/queries/dcl";
import { useLlmUsage } from "../api/queries/platform";
import { useProposals } from "../api/queries/repair";
import type { SyncRun } from "../api/types";
import { DriftBadge, Kpi, StatusBadge, When } from "../components/Bits";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "../components/States";
import { formatNumber } from "../lib/format";
import { throughputSeries } from "../lib/throughput";
import { agentLabel, percent, SeverityBadge, usd } from "./agents/agentBits";

const ThroughputChart = lazy(() => import("../components/charts/ThroughputChart"));

export default function ControlCenterPage() {
  const connectors = useConnectors();
  const pending = useProposals({ status: "pending", limit: 5, offset: 0 });
  const views = useViews();
  const usage = useLlmUsage();
  const findings = useFindings({ severity: "medium", limit: 5, offset: 0 });
  const agentMetrics = useAgentMetrics();
  const agents = useAgents();
  const agentNames = new Map((agents.data?.agents ?? []).map((a) => [a.id, a.name]));
  const ids = connectors.data?.connectors.map((c) => c.id) ?? [];
  const runQueries = useRunsOf(ids);
  const runs: SyncRun[] = runQueries.flatMap((q) => q.data?.runs ?? []);
  const runsPending = runQueries.some((q) => q.isPending);
  const runsError = runQueries.find((q) => q.error)?.error;

  const list = connectors.data?.connectors ?? [];
  const drifting = list.filter((c) => c.has_drift).length;
  const mappings = list.reduce((sum, c) => sum + c.mapping_count, 0);
  const viewRows = (views.data?.views ?? []).reduce((sum, v) => sum + v.rows, 0);

  return (
    <Page
      feature="Control Center"
      description="Your tenant at a glance: sources, drift, repairs, views and what the agents found."
    >
      <div className="stack">
        <div className="grid kpis" aria-label="Key figures">
          <Kpi label="Connections" value={connectors.data ? list.length : "…"} tone="blue" />
          <Kpi
            label="Active"
            value={connectors.data ? list.filter((c) => c.status === "active").length : "…"}
            tone="green"
          />
          <Kpi label="With drift" value={connectors.data ? drifting : "…"} tone="amber" />
          <Kpi label="Active mappings" value={connectors.data ? formatNumber(mappings) : "…"} tone="purple" />
          <Kpi label="Pending repairs" value={pending.data ? pending.data.total : "…"} tone="purple" />
          <Kpi label="Rows in views" value={views.data ? formatNumber(viewRows) : "…"} tone="green" />
        </div>

        <div className="grid two">
          <Panel
            status="control.connections"
            payload={connectors.data}
            actions={<Link to="/connections">Manage</Link>}
          >
            <QueryView query={connectors} loadingLabel="Loading connections">
              {(data) =>
                data.connectors.length === 0 ? (
                  <EmptyState title="No connections yet" icon="⇄">
                    <Link to="/discover">Onboard a source</Link> to start.
                  </EmptyState>
                ) : (
                  <div className="table-wrap">
                    <table>
                      <caption className="sr-only">Connections and their health</caption>
                      <thead>
                        <tr>
                          <th scope="col">Connection</th>
                          <th scope="col">Status</th>
                          <th scope="col">Last event</th>
                        </tr>
                      </thead>
                      <tbody>
                        {data.connectors.map((c) => (
                          <tr key={c.id}>
                            <td>
                              <Link to={`/connections/${c.id}`}>{c.name}</Link>{" "}
                              {c.has_drift ? <DriftBadge /> : null}
                            </td>
                            <td>
                              <StatusBadge status={c.status} />
                            </td>
                            <td>
                              {c.last_event_type ?? "—"} <When at={c.last_event_at} />
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )
              }
            </QueryView>
          </Panel>

          <Panel status="control.throughput" payload={runs}>
            {connectors.isPending || runsPending ? (
              <Loading label="Loading sync runs" />
            ) : runsError ? (
              <ErrorState error={runsError} onRetry={() => runQueries.forEach((q) => void q.refetch())} />
            ) : runs.length === 0 ? (
              <EmptyState title="No sync has run yet" icon="▁▃▅" />
            ) : (
              <Suspense fallback={<Loading label="Drawing the chart" />}>
                <ThroughputChart points={throughputSeries(runs)} />
              </Suspense>
            )}
          </Panel>

          <Panel
            status="control.proposals"
            payload={pending.data}
            actions={<Link to="/review">Open the review queue</Link>}
          >
            <QueryView query={pending} loadingLabel="Loading proposals">
              {(data) =>
                data.proposals.length === 0 ? (
                  <EmptyState title="Nothing waits for review" icon="✓" />
                ) : (
                  <ul className="stack" style={{ margin: 0, paddingLeft: 18, gap: 6 }}>
                    {data.proposals.map((p) => (
                      <li key={p.id}>
                        <Link to={`/review/${p.id}`}>
                          {p.kind}: {p.stream}.{p.source_field}
                          {p.target ? ` → ${p.target}` : ""}
                        </Link>{" "}
                        <span className="muted small">
                          {Math.round(p.confidence * 100)}% · <When at={p.created_at} />
                        </span>
                      </li>
                    ))}
                  </ul>
                )
              }
            </QueryView>
          </Panel>

          <Panel status="control.views" payload={views.data} actions={<Link to="/ontology">Explore</Link>}>
            <QueryView query={views} loadingLabel="Loading views">
              {(data) =>
                data.views.length === 0 ? (
                  <EmptyState title="No unified views yet" icon="⬡">
                    Views appear once a synced stream is mapped onto the ontology.
                  </EmptyState>
                ) : (
                  <div className="table-wrap">
                    <table>
                      <caption className="sr-only">Unified views</caption>
                      <thead>
                        <tr>
                          <th scope="col">View</th>
                          <th scope="col" className="num">
                            Rows
                          </th>
                          <th scope="col">Fresh as of</th>
                        </tr>
                      </thead>
                      <tbody>
                        {data.views.map((v) => (
                          <tr key={v.name}>
                            <td>
                              <Link to={`/ontology?tab=table&entity=${encodeURIComponent(v.name)}`}>
                                {v.name}
                              </Link>{" "}
                              {v.kind === "unified" ? <span className="badge accent">resolved</span> : null}
                            </td>
                            <td className="num">{formatNumber(v.rows)}</td>
                            <td>
                              <When at={v.last_synced_at} />
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )
              }
            </QueryView>
          </Panel>

          <Panel
            status="control.findings"
            payload={findings.data}
            actions={<Link to="/agents">All findings</Link>}
          >
            <QueryView query={findings} loadingLabel="Loading findings">
              {(data) =>
                data.findings.length === 0 ? (
                  <EmptyState title="No finding of medium severity or above" icon="✓">
                    The FinOps and RevOps agents report here after they run.
                  </EmptyState>
                ) : (
                  <ul className="stack" style={{ margin: 0, paddingLeft: 0, listStyle: "none", gap: 8 }}>
                    {data.findings.map((f) => (
                      <li key={f.id} data-agent={agentNames.get(f.agent_id) ?? ""}>
                        <SeverityBadge severity={f.severity} /> {f.title}{" "}
                        <span className="muted small">
                          {agentLabel(agentNames.get(f.agent_id) ?? "")} · <When at={f.created_at} />
                        </span>
                      </li>
                    ))}
                  </ul>
                )
              }
            </QueryView>
          </Panel>

          <Panel
            status="control.agentUsage"
            payload={agentMetrics.data}
            actions={<Link to="/orchestration">Orchestration</Link>}
          >
            <QueryView query={agentMetrics} loadingLabel="Loading agent metrics">
              {(data) =>
                data.agents.length === 0 ? (
                  <EmptyState title="No agent yet" icon="⚙" />
                ) : (
                  <div className="table-wrap">
                    <table>
                      <caption className="sr-only">Agents, their runs and LLM usage over 30 days</caption>
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
                            Findings
                          </th>
                          <th scope="col" className="num">
                            LLM tokens
                          </th>
                          <th scope="col" className="num">
                            LLM cost
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {[...data.agents, { agent_id: "total", name: "All agents", metrics: data.total }].map((a) => (
                          <tr key={a.agent_id}>
                            <th scope="row">{a.agent_id === "total" ? a.name : agentLabel(a.name)}</th>
                            <td className="num">{formatNumber(a.metrics.runs)}</td>
                            <td className="num">{percent(a.metrics.success_rate)}</td>
                            <td className="num">{formatNumber(a.metrics.findings)}</td>
                            <td className="num">
                              {formatNumber(a.metrics.llm_input_tokens + a.metrics.llm_output_tokens)}
                            </td>
                            <td className="num">{usd(a.metrics.llm_cost_usd)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )
              }
            </QueryView>
          </Panel>

          <Panel status="control.llm" payload={usage.data}>
            <QueryView query={usage} loadingLabel="Loading model usage">
              {(data) =>
                data.usage.length === 0 ? (
                  <EmptyState title="No model calls recorded yet" icon="✦" />
                ) : (
                  <div className="table-wrap">
                    <table>
                      <caption className="sr-only">AI model usage per kind and model</caption>
                      <thead>
                        <tr>
                          <th scope="col">Kind</th>
                          <th scope="col">Model</th>
                          <th scope="col" className="num">
                            Calls
                          </th>
                          <th scope="col" className="num">
                            Items
                          </th>
                          <th scope="col" className="num">
                            Cache hits
                          </th>
                          <th scope="col" className="num">
                            Tokens in/out
                          </th>
                          <th scope="col" className="num">
                            Avg latency
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {data.usage.map((u) => (
                          <tr key={`${u.kind}:${u.model}`}>
                            <td>{u.kind}</td>
                            <td className="mono">{u.model}</td>
                            <td className="num">{formatNumber(u.calls)}</td>
                            <td className="num">{formatNumber(u.items)}</td>
                            <td className="num">{formatNumber(u.cached)}</td>
                            <td className="num">
                              {formatNumber(u.input_tokens)} / {formatNumber(u.output_tokens)}
                            </td>
                            <td className="num">{u.latency_ms_avg.toFixed(1)} ms</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )
              }
            </QueryView>
          </Panel>
        </div>
      </div>
    </Page>
  );
}
