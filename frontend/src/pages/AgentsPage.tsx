import { lazy, Suspense, useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { useAgentMetrics, useAgents, useFindings } from "../api/queries/aoa";
import { useChartQuery } from "../api/queries/charts";
import { useViews } from "../api/queries/dcl";
import { usePersonaSummary } from "../api/queries/nlp";
import type { AgentFinding, BriefingFact, Persona, Severity } from "../api/types";
import { Kpi, When } from "../components/Bits";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { OffsetPager } from "../components/Pager";
import { EmptyState, ErrorState, Loading, QueryView } from "../components/States";
import { TabPanel, Tabs } from "../components/Tabs";
import {
  money,
  PIPELINE_SQL,
  PIPELINE_VIEW,
  pipelineByStage,
  SPEND_SQL,
  sinceIso,
  SPEND_VIEW,
  spendSeries,
} from "../lib/agentCharts";
import { cellText, formatNumber } from "../lib/format";
import { agentLabel, SEVERITIES, SeverityBadge } from "./agents/agentBits";

const SpendChart = lazy(() => import("../components/charts/SpendChart"));
const PipelineChart = lazy(() => import("../components/charts/PipelineChart"));

const FINDINGS_PER_PAGE = 10;
const WINDOWS = [
  { id: "", label: "any time", days: 0 },
  { id: "1", label: "the last day", days: 1 },
  { id: "7", label: "the last 7 days", days: 7 },
  { id: "30", label: "the last 30 days", days: 30 },
] as const;

export default function AgentsPage() {
  const metrics = useAgentMetrics();
  const byName = new Map((metrics.data?.agents ?? []).map((a) => [a.name, a.metrics]));
  const high = (metrics.data?.agents ?? []).reduce(
    (sum, a) => sum + (a.metrics.findings_by_severity.high ?? 0),
    0,
  );
  return (
    <Page
      feature="Agents"
      description="What the FinOps and RevOps agents found, the numbers behind it, and a briefing per persona."
      actions={<Link to="/orchestration">Runs and metrics</Link>}
    >
      <div className="stack">
        <div className="grid kpis" aria-label="Findings over the last 30 days">
          <Kpi label="FinOps findings" value={metrics.data ? formatNumber(byName.get("finops")?.findings ?? 0) : "…"} tone="blue" />
          <Kpi label="RevOps findings" value={metrics.data ? formatNumber(byName.get("revops")?.findings ?? 0) : "…"} tone="purple" />
          <Kpi label="High severity" value={metrics.data ? formatNumber(high) : "…"} tone="amber" />
        </div>
        <div className="grid two">
          <SpendPanel />
          <PipelinePanel />
        </div>
        <FindingsPanel />
        <PersonaPanel />
      </div>
    </Page>
  );
}

function useViewExists(name: string): { known: boolean; exists: boolean; error: unknown } {
  const views = useViews();
  return {
    known: views.data !== undefined,
    exists: (views.data?.views ?? []).some((v) => v.name === name && v.rows > 0),
    error: views.error,
  };
}

function SpendPanel() {
  const view = useViewExists(SPEND_VIEW);
  const rows = useChartQuery("spend", SPEND_SQL, view.exists);
  const anomalies = useFindings({ kind: "cost_anomaly", limit: 200, offset: 0 }, view.exists);
  const [currency, setCurrency] = useState<string | undefined>(undefined);
  const series = useMemo(
    () => (rows.data ? spendSeries(rows.data, anomalies.data?.findings ?? [], currency) : null),
    [rows.data, anomalies.data, currency],
  );
  return (
    <Panel
      status="agents.spend"
      payload={rows.data}
      actions={
        series && series.currencies.length > 1 ? (
          <CurrencyPicker value={series.currency} options={series.currencies} onChange={setCurrency} />
        ) : null
      }
    >
      {!view.known && !view.error ? (
        <Loading label="Looking for cloud costs" />
      ) : view.error ? (
        <ErrorState error={view.error} />
      ) : !view.exists ? (
        <EmptyState title="No cloud costs yet" icon="☁">
          Map a cloud bill (AWS CUR, FOCUS export) onto <span className="mono">cloud_cost</span> to see spend here.
        </EmptyState>
      ) : rows.isPending ? (
        <Loading label="Adding up daily spend" />
      ) : rows.error || !series ? (
        <ErrorState error={rows.error} onRetry={() => void rows.refetch()} />
      ) : series.points.length === 0 ? (
        <EmptyState title="No usage charges in cloud_cost" icon="☁" />
      ) : (
        <>
          <Suspense fallback={<Loading label="Drawing the chart" />}>
            <SpendChart series={series} />
          </Suspense>
          <p className="small muted" style={{ margin: "8px 0 4px" }}>
            {money(series.total, series.currency)} over {series.points.length} days ·{" "}
            {series.anomalies.length === 0
              ? "no anomaly found by the FinOps agent"
              : `${series.anomalies.length} anomal${series.anomalies.length === 1 ? "y" : "ies"} (shaded):`}
          </p>
          {series.anomalies.length > 0 ? (
            <ul className="small" aria-label="Spend anomalies" style={{ margin: 0, paddingLeft: 18 }}>
              {series.anomalies.map((a) => (
                <li key={a.findingId}>
                  <SeverityBadge severity={a.severity} /> {a.title}
                  {a.excess !== null ? ` · ${money(a.excess, series.currency)} above expected` : ""}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      )}
    </Panel>
  );
}

function PipelinePanel() {
  const view = useViewExists(PIPELINE_VIEW);
  const rows = useChartQuery("pipeline", PIPELINE_SQL, view.exists);
  const [currency, setCurrency] = useState<string | undefined>(undefined);
  const pipeline = useMemo(() => (rows.data ? pipelineByStage(rows.data, currency) : null), [rows.data, currency]);
  return (
    <Panel
      status="agents.pipeline"
      payload={rows.data}
      actions={
        pipeline && pipeline.currencies.length > 1 ? (
          <CurrencyPicker value={pipeline.currency} options={pipeline.currencies} onChange={setCurrency} />
        ) : null
      }
    >
      {!view.known && !view.error ? (
        <Loading label="Looking for deals" />
      ) : view.error ? (
        <ErrorState error={view.error} />
      ) : !view.exists ? (
        <EmptyState title="No deals yet" icon="◔">
          Map a CRM&apos;s opportunities onto <span className="mono">opportunity</span> to see the pipeline.
        </EmptyState>
      ) : rows.isPending ? (
        <Loading label="Summing the pipeline" />
      ) : rows.error || !pipeline ? (
        <ErrorState error={rows.error} onRetry={() => void rows.refetch()} />
      ) : pipeline.stages.length === 0 ? (
        <EmptyState title="No open deal" icon="◔" />
      ) : (
        <>
          <Suspense fallback={<Loading label="Drawing the chart" />}>
            <PipelineChart pipeline={pipeline} />
          </Suspense>
          <p className="small muted" style={{ margin: "8px 0 0" }}>
            {formatNumber(pipeline.deals)} open deals · {money(pipeline.amount, pipeline.currency)} ·{" "}
            {money(pipeline.weighted, pipeline.currency)} weighted by probability
          </p>
        </>
      )}
    </Panel>
  );
}

function CurrencyPicker({
  value,
  options,
  onChange,
}: {
  value: string;
  options: string[];
  onChange: (currency: string) => void;
}) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="Currency">
      {options.map((c) => (
        <option key={c} value={c}>
          {c || "(none)"}
        </option>
      ))}
    </select>
  );
}

function FindingsPanel() {
  const [params, setParams] = useSearchParams();
  const agents = useAgents();
  const agent = params.get("agent");
  const severity = (params.get("severity") || null) as Severity | null;
  const windowId = params.get("since") ?? "";
  const run = params.get("run");
  const offset = Number(params.get("offset") ?? 0) || 0;
  const days = WINDOWS.find((w) => w.id === windowId)?.days ?? 0;
  const since = sinceIso(days);
  const findings = useFindings({
    agent: agent ?? undefined,
    severity,
    since,
    agent_run_id: run ?? undefined,
    limit: FINDINGS_PER_PAGE,
    offset,
  });
  const names = new Map((agents.data?.agents ?? []).map((a) => [a.id, a.name]));
  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    next.delete("offset");
    if ("offset" in changes && changes.offset) next.set("offset", changes.offset);
    setParams(next, { replace: true });
  };
  return (
    <Panel status="agents.findings" payload={findings.data}>
      <div className="filters" role="group" aria-label="Filter the findings">
        <label>
          Agent
          <select value={agent ?? ""} onChange={(e) => set({ agent: e.target.value })}>
            <option value="">every agent</option>
            {(agents.data?.agents ?? []).map((a) => (
              <option key={a.id} value={a.name}>
                {agentLabel(a.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={severity ?? ""} onChange={(e) => set({ severity: e.target.value })}>
            <option value="">any</option>
            {SEVERITIES.filter((s) => s !== "info").map((s) => (
              <option key={s} value={s}>
                {s} and above
              </option>
            ))}
          </select>
        </label>
        <label>
          Found in
          <select value={windowId} onChange={(e) => set({ since: e.target.value })}>
            {WINDOWS.map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        {run ? (
          <button type="button" className="small" onClick={() => set({ run: null })}>
            Showing one run&apos;s findings: show all
          </button>
        ) : null}
      </div>
      <QueryView query={findings} loadingLabel="Loading findings">
        {(data) =>
          data.findings.length === 0 ? (
            <EmptyState title="No finding matches" icon="✓">
              {agent || severity || since || run
                ? "Widen the filters to see more."
                : "Findings appear once an agent has run over your views."}
            </EmptyState>
          ) : (
            <>
              <ul className="findings" aria-label="Findings">
                {data.findings.map((f) => (
                  <FindingItem key={f.id} finding={f} agent={names.get(f.agent_id) ?? ""} />
                ))}
              </ul>
              <OffsetPager
                offset={offset}
                limit={FINDINGS_PER_PAGE}
                total={data.total}
                onChange={(o) => set({ offset: o ? String(o) : null })}
                label="Findings"
              />
            </>
          )
        }
      </QueryView>
    </Panel>
  );
}

function FindingItem({ finding, agent }: { finding: AgentFinding; agent: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const numbers = Object.entries(finding.metrics).filter(([, v]) => v !== null && v !== "");
  const rows = (finding.evidence.rows ?? []).slice(0, 10);
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  return (
    <li className="finding" data-agent={agent} data-finding-kind={finding.kind}>
      <div className="finding-head">
        <SeverityBadge severity={finding.severity} />
        <strong>{finding.title}</strong>
        <span className="small muted">
          {agentLabel(agent)} · {finding.kind.replace(/_/g, " ")} · <When at={finding.created_at} />
        </span>
      </div>
      <p style={{ margin: "6px 0" }}>{finding.summary}</p>
      <button
        type="button"
        className="small ghost"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        {open ? "Hide the numbers" : "The numbers and evidence"}
      </button>
      {open ? (
        <div id={id} className="stack" style={{ gap: 8, marginTop: 8 }}>
          <dl className="facts" aria-label="The finding's numbers">
            {numbers.map(([k, v]) => (
              <div key={k} style={{ display: "contents" }}>
                <dt>{k.replace(/_/g, " ")}</dt>
                <dd className="mono">{typeof v === "number" ? formatNumber(v) : cellText(v)}</dd>
              </div>
            ))}
          </dl>
          <div className="small">
            Computed from the <span className="mono">{finding.evidence.view}</span> view; this query reproduces it (run it
            in the <Link to="/ontology?tab=sql">SQL console</Link>):
          </div>
          <pre className="sql" aria-label="Evidence query">
            {finding.evidence.query}
          </pre>
          {rows.length > 0 ? (
            <div className="table-wrap" style={{ maxHeight: 260 }}>
              <table aria-label="Evidence rows">
                <thead>
                  <tr>
                    {columns.map((c) => (
                      <th key={c} scope="col">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={i}>
                      {columns.map((c) => (
                        <td key={c} className={typeof r[c] === "number" ? "num" : undefined}>
                          {cellText(r[c])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

const PERSONAS: readonly { id: Persona; label: string }[] = [
  { id: "CFO", label: "CFO" },
  { id: "CRO", label: "CRO" },
  { id: "COO", label: "COO" },
  { id: "CTO", label: "CTO" },
];

function PersonaPanel() {
  const [persona, setPersona] = useState<Persona>("CFO");
  const briefing = usePersonaSummary(persona);
  return (
    <Panel status="agents.personas" payload={briefing.data}>
      <Tabs tabs={PERSONAS} value={persona} onChange={setPersona} label="Briefing for" />
      <TabPanel id={persona}>
        <div style={{ marginTop: 12 }}>
          <QueryView query={briefing} loadingLabel={`Writing the ${persona} briefing`}>
            {(b) => (
              <article className="stack" style={{ gap: 10 }} data-persona={b.persona}>
                <h3 style={{ margin: 0 }}>{b.headline || b.title}</h3>
                {b.points.length === 0 ? (
                  <EmptyState title="Nothing to report yet" icon="✎">
                    Briefings are written from your views and the agents&apos; findings.
                  </EmptyState>
                ) : (
                  <ul style={{ margin: 0, paddingLeft: 18 }} aria-label="Key points">
                    {b.points.map((p, i) => (
                      <li key={i}>
                        {p.text}
                        {p.citations.map((c) => (
                          <a
                            key={c}
                            className="citation"
                            href={`#fact-${b.persona}-${c}`}
                            aria-label={`Source ${c}`}
                          >
                            [{c}]
                          </a>
                        ))}
                      </li>
                    ))}
                  </ul>
                )}
                {b.facts.length > 0 ? (
                  <section aria-label="Facts and their sources">
                    <h4 className="small muted" style={{ margin: "4px 0" }}>
                      Facts and their sources
                    </h4>
                    <ol className="fact-list small">
                      {b.facts.map((f) => (
                        <FactItem key={f.id} fact={f} persona={b.persona} />
                      ))}
                    </ol>
                  </section>
                ) : null}
                <p className="small muted" style={{ margin: 0 }}>
                  Written by {b.model}
                  {b.fallback ? ` (${b.fallback})` : ""} · <When at={b.generated_at} />
                </p>
              </article>
            )}
          </QueryView>
        </div>
      </TabPanel>
    </Panel>
  );
}

function FactItem({ fact, persona }: { fact: BriefingFact; persona: string }) {
  const s = fact.source;
  return (
    <li id={`fact-${persona}-${fact.id}`} data-fact={fact.id}>
      <strong>[{fact.id}]</strong> {fact.statement}{" "}
      <span className="muted">
        —{" "}
        {s.type === "view" ? (
          <>
            view <span className="mono">{s.view}</span>
          </>
        ) : s.type === "finding" ? (
          s.run_id ? (
            <Link to={`/agents?run=${s.run_id}`}>{s.title ?? "an agent finding"}</Link>
          ) : (
            (s.title ?? "an agent finding")
          )
        ) : s.type === "kb" ? (
          <>knowledge base: {s.title ?? "a document"}</>
        ) : (
          <>demonstration data</>
        )}
      </span>
      {s.query ? (
        <details>
          <summary>The query</summary>
          <pre className="sql">{s.query}</pre>
        </details>
      ) : null}
    </li>
  );
}
