import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { useGraph } from "../api/queries/dcl";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { EmptyState, QueryView } from "../components/States";
import { TabPanel, Tabs } from "../components/Tabs";
import { cellText } from "../lib/format";
import ForceGraph from "./ontology/ForceGraph";
import { NODE_COLORS, shapeGraph, withoutIdleEntities, type SimNode } from "./ontology/graphData";
import { SqlConsole } from "./ontology/SqlConsole";
import { ViewTable } from "./ontology/ViewTable";

const TABS = [
  { id: "graph", label: "Graph" },
  { id: "table", label: "Tables" },
  { id: "sql", label: "SQL console" },
] as const;
type Tab = (typeof TABS)[number]["id"];

export default function OntologyPage() {
  const [params, setParams] = useSearchParams();
  const tab = (TABS.find((t) => t.id === params.get("tab"))?.id ?? "graph") as Tab;
  return (
    <Page feature="Ontology" description="Where every unified record comes from, and the records themselves.">
      <Tabs
        tabs={TABS}
        value={tab}
        onChange={(t) => setParams({ tab: t }, { replace: true })}
        label="Ontology views"
      />
      <TabPanel id={tab}>
        {tab === "graph" ? <GraphTab /> : null}
        {tab === "table" ? (
          <ViewTable
            entity={params.get("entity")}
            onEntity={(e) => setParams({ tab: "table", entity: e }, { replace: true })}
          />
        ) : null}
        {tab === "sql" ? <SqlConsole /> : null}
      </TabPanel>
    </Page>
  );
}

function GraphTab() {
  const graph = useGraph();
  const [all, setAll] = useState(false);
  const [selected, setSelected] = useState<SimNode | null>(null);
  const shaped = useMemo(() => {
    if (!graph.data) return null;
    const s = shapeGraph(graph.data);
    return all ? s : withoutIdleEntities(s);
  }, [graph.data, all]);
  return (
    <div className="stack">
      <Panel
        status="ontology.graph"
        payload={graph.data}
        actions={
          <label className="row small">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
            Every ontology entity
          </label>
        }
      >
        <QueryView query={graph} loadingLabel="Loading the data graph">
          {() =>
            !shaped || shaped.nodes.length === 0 ? (
              <EmptyState title="Nothing to draw yet" icon="⬡">
                Connect a source in <Link to="/discover">AOS Discover</Link>.
              </EmptyState>
            ) : (
              <div className="graph-box">
                <ForceGraph graph={shaped} onSelect={setSelected} selected={selected?.id ?? null} />
                <div className="graph-legend" aria-hidden="true">
                  {(Object.keys(NODE_COLORS) as (keyof typeof NODE_COLORS)[]).map((t) => (
                    <span key={t} style={{ ["--c" as string]: NODE_COLORS[t] }}>
                      {t.replace("_", " ")} ({shaped.counts[t]})
                    </span>
                  ))}
                </div>
              </div>
            )
          }
        </QueryView>
      </Panel>
      {selected ? (
        <Panel title={selected.label}>
          <p className="muted">{selected.description}</p>
          <dl className="facts">
            {Object.entries(selected.data).map(([k, v]) => (
              <div key={k} style={{ display: "contents" }}>
                <dt>{k.replace(/_/g, " ")}</dt>
                <dd className="mono small">{cellText(v)}</dd>
              </div>
            ))}
          </dl>
          {selected.type === "entity" || selected.type === "unified_view" ? (
            <p>
              <Link to={`/ontology?tab=table&entity=${encodeURIComponent(selected.label)}`}>Browse its rows</Link>
            </p>
          ) : null}
          {selected.type === "connection" ? (
            <p>
              <Link to={`/connections/${String(selected.data.connection_id)}`}>Open the connection</Link>
            </p>
          ) : null}
        </Panel>
      ) : null}
    </div>
  );
}
