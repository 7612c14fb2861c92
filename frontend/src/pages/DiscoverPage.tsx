import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { useDiscover } from "../api/queries/aam";
import { useGraph } from "../api/queries/dcl";
import { useMe } from "../api/queries/platform";
import { hasRole, type GraphNode } from "../api/types";
import { StatusBadge, When } from "../components/Bits";
import { DriftHistory } from "../components/DriftHistory";
import { Page } from "../components/Page";
import { Panel } from "../components/Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "../components/States";
import { formatNumber } from "../lib/format";
import { Onboarding } from "./discover/Onboarding";

interface StreamData {
  rows?: number;
  batches?: number;
  last_landed_at?: string | null;
  checkpoint_at?: string | null;
  paused?: boolean;
  drift?: { state?: string; open_events?: number; max_severity?: string | null };
}

export default function DiscoverPage() {
  const graph = useGraph();
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const onboarding = params.get("onboard") === "1";
  const selected = params.get("connection");
  const canOperate = hasRole(me.data?.role, "operator");

  const connections = useMemo(() => {
    const nodes = graph.data?.nodes ?? [];
    const streams = nodes.filter((n) => n.type === "stream");
    return nodes
      .filter((n) => n.type === "connection")
      .map((c) => ({
        node: c,
        streams: streams.filter((s) => s.data?.connection_id === c.data?.connection_id),
      }));
  }, [graph.data]);

  return (
    <Page
      feature="Discover"
      description="The data assets behind each connection, and a guided way to add a source."
      actions={
        <button
          type="button"
          className="primary"
          disabled={!canOperate}
          title={canOperate ? undefined : "Needs the operator role"}
          aria-expanded={onboarding}
          onClick={() => setParams(onboarding ? {} : { onboard: "1" })}
        >
          {onboarding ? "Close onboarding" : "Onboard a source"}
        </button>
      }
    >
      <div className="stack">
        {onboarding ? <Onboarding onDone={() => setParams({})} /> : null}
        <Panel status="discover.assets" payload={graph.data}>
          <QueryView query={graph} loadingLabel="Loading data assets">
            {() =>
              connections.length === 0 ? (
                <EmptyState title="No source connected yet" icon="⌕">
                  Use “Onboard a source” to add the first one.
                </EmptyState>
              ) : (
                <div className="stack">
                  {connections.map(({ node, streams }) => (
                    <ConnectionAssets
                      key={node.id}
                      node={node}
                      streams={streams}
                      selected={selected === String(node.data?.connection_id)}
                      onSelect={() =>
                        setParams(
                          selected === String(node.data?.connection_id)
                            ? {}
                            : { connection: String(node.data?.connection_id) },
                        )
                      }
                    />
                  ))}
                </div>
              )
            }
          </QueryView>
        </Panel>
        {selected ? <Inspect connectionId={selected} canOperate={canOperate} /> : null}
      </div>
    </Page>
  );
}

function ConnectionAssets({
  node,
  streams,
  selected,
  onSelect,
}: {
  node: GraphNode;
  streams: GraphNode[];
  selected: boolean;
  onSelect: () => void;
}) {
  const data = node.data ?? {};
  const id = String(data.connection_id);
  return (
    <section aria-label={`Assets of ${node.label}`}>
      <div className="row" style={{ marginBottom: 6 }}>
        <h3>
          <Link to={`/connections/${id}`}>{node.label}</Link>
        </h3>
        <span className="badge info">{String(data.source_type)}</span>
        <StatusBadge status={String(data.status)} />
        <span className="muted small">
          {formatNumber(Number(data.mappings ?? 0))} mappings · drift policy {String(data.drift_policy)}
        </span>
        <span className="spacer" />
        <button type="button" className="small" aria-pressed={selected} onClick={onSelect}>
          {selected ? "Hide schema and drift" : "Schema and drift"}
        </button>
      </div>
      {streams.length === 0 ? (
        <p className="muted small">Nothing landed yet: sync the connection.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label={`Streams of ${node.label}`}>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col" className="num">
                  Rows
                </th>
                <th scope="col" className="num">
                  Batches
                </th>
                <th scope="col">Last landed</th>
                <th scope="col">Checkpoint</th>
                <th scope="col">Drift</th>
              </tr>
            </thead>
            <tbody>
              {streams.map((s) => {
                const d = s.data as StreamData;
                return (
                  <tr key={s.id}>
                    <td>
                      {s.label} {d.paused ? <span className="badge neutral">paused</span> : null}
                    </td>
                    <td className="num">{formatNumber(d.rows ?? 0)}</td>
                    <td className="num">{formatNumber(d.batches ?? 0)}</td>
                    <td>
                      <When at={d.last_landed_at} />
                    </td>
                    <td>
                      <When at={d.checkpoint_at} />
                    </td>
                    <td>
                      {d.drift?.state === "drifted" ? (
                        <span className="badge warn">
                          {d.drift.open_events} open · {d.drift.max_severity}
                        </span>
                      ) : (
                        <span className="badge ok">stable</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Inspect({ connectionId, canOperate }: { connectionId: string; canOperate: boolean }) {
  const discover = useDiscover();
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div className="grid two">
      <Panel
        status="discover.schema"
        payload={discover.data}
        actions={
          <button
            type="button"
            className="small"
            disabled={!canOperate || discover.isPending}
            title={canOperate ? undefined : "Reading a source needs the operator role"}
            onClick={() => discover.mutate(connectionId)}
          >
            {discover.data ? "Read again" : "Read the schema"}
          </button>
        }
      >
        {discover.isPending ? (
          <Loading label="Reading the source" />
        ) : discover.error ? (
          <ErrorState error={discover.error} onRetry={() => discover.mutate(connectionId)} />
        ) : !discover.data ? (
          <EmptyState title="Read the source to see its streams, fields and types" icon="⌕" />
        ) : (
          <div className="stack">
            {discover.data.streams.map((s) => (
              <details key={s.name} open={open === s.name} onToggle={(e) => e.currentTarget.open && setOpen(s.name)}>
                <summary>
                  {s.name} · {s.fields.length} fields
                  {s.primary_key.length ? ` · key ${s.primary_key.join(", ")}` : ""}
                </summary>
                <div className="table-wrap">
                  <table aria-label={`Fields of ${s.name}`}>
                    <thead>
                      <tr>
                        <th scope="col">Field</th>
                        <th scope="col">Type</th>
                        <th scope="col">Source type</th>
                        <th scope="col">Nullable</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.fields.map((f) => (
                        <tr key={f.name}>
                          <td className="mono" title={f.description ?? undefined}>
                            {f.name}
                          </td>
                          <td>{f.type}</td>
                          <td className="mono">{f.source_type ?? ""}</td>
                          <td>{f.nullable ? "yes" : "no"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            ))}
          </div>
        )}
      </Panel>
      <DriftHistory connectionId={connectionId} />
    </div>
  );
}
