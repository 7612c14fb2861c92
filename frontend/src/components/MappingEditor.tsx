import { useMemo, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";
import { errorMessage } from "../api/errors";
import { useMappingHistory, useMappings, useOntology, useRestoreMapping } from "../api/queries/dcl";
import { keys } from "../api/queries/keys";
import type { DiscoveredStream, Mapping } from "../api/types";
import { useMe } from "../api/queries/platform";
import { decider } from "../lib/format";
import { normalizeNames } from "../lib/normalize";
import { Confidence, StatusBadge, When } from "./Bits";
import { OffsetPager } from "./Pager";
import { Panel } from "./Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "./States";
import { useToast } from "./Toasts";

interface Props {
  connectionId: string;
  canOperate: boolean;
  /** Streams read from the source (discovery), to offer their fields. */
  discovered?: DiscoveredStream[];
}

/** A connection's field mappings: confidence, status, history, restore, accept, map by hand. */
export function MappingEditor({ connectionId, canOperate, discovered }: Props) {
  const mappings = useMappings(connectionId);
  const [history, setHistory] = useState<Mapping | null>(null);
  return (
    <div className="stack">
      <Panel status="connections.mappings" payload={mappings.data}>
        <QueryView query={mappings} loadingLabel="Loading mappings">
          {(data) =>
            data.mappings.length === 0 ? (
              <EmptyState title="No field is mapped yet" icon="⇢">
                Map fields below, or let a batch mapping job suggest them.
              </EmptyState>
            ) : (
              <MappingTable
                mappings={data.mappings}
                canOperate={canOperate}
                selected={history?.id ?? null}
                onHistory={setHistory}
              />
            )
          }
        </QueryView>
      </Panel>
      {history ? (
        <HistoryPanel mapping={history} canOperate={canOperate} onClose={() => setHistory(null)} />
      ) : null}
      {canOperate ? (
        <MapFieldForm connectionId={connectionId} discovered={discovered} mappings={mappings.data?.mappings ?? []} />
      ) : null}
    </div>
  );
}

const PAGE = 25;

function MappingTable({
  mappings: all,
  canOperate,
  selected,
  onHistory,
}: {
  mappings: Mapping[];
  canOperate: boolean;
  selected: string | null;
  onHistory: (m: Mapping) => void;
}) {
  const accept = useAccept();
  const me = useMe();
  const [stream, setStream] = useState("");
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const streams = [...new Set(all.map((m) => m.stream))].sort();
  const statuses = [...new Set(all.map((m) => m.status))].sort();
  const filtered = all.filter((m) => (!stream || m.stream === stream) && (!status || m.status === status));
  const mappings = filtered.slice(offset, offset + PAGE);
  return (
    <>
    <div className="row" style={{ marginBottom: 8 }}>
      <label htmlFor="mapping-stream" className="small">
        Stream
      </label>
      <select
        id="mapping-stream"
        value={stream}
        onChange={(e) => {
          setStream(e.target.value);
          setOffset(0);
        }}
      >
        <option value="">all ({all.length})</option>
        {streams.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
      <label htmlFor="mapping-status" className="small">
        Status
      </label>
      <select
        id="mapping-status"
        value={status}
        onChange={(e) => {
          setStatus(e.target.value);
          setOffset(0);
        }}
      >
        <option value="">any</option>
        {statuses.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
    </div>
    <div className="table-wrap">
      <table aria-label="Field mappings">
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">Source field</th>
            <th scope="col">Target</th>
            <th scope="col">Transform</th>
            <th scope="col">Confidence</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Version
            </th>
            <th scope="col">Decided</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {mappings.map((m) => (
            <tr key={m.id} className={selected === m.id ? "selected" : undefined}>
              <td>{m.stream}</td>
              <td className="mono">{m.source_field}</td>
              <td className="mono">
                {m.entity}.{m.field}
              </td>
              <td className="mono">{m.transform ?? ""}</td>
              <td>
                <Confidence value={m.confidence} />
              </td>
              <td>
                <StatusBadge status={m.status} />
              </td>
              <td className="num">{m.version}</td>
              <td className="small">
                {decider(m.decided_by, me.data?.id)} <When at={m.created_at} />
              </td>
              <td>
                <div className="row">
                  <button
                    type="button"
                    className="small"
                    onClick={() => onHistory(m)}
                    aria-label={`History of ${m.stream}.${m.source_field}`}
                  >
                    History
                  </button>
                  {m.status === "proposed" && canOperate ? (
                    <button
                      type="button"
                      className="small ok"
                      disabled={accept.isPending}
                      onClick={() => accept.mutate(m)}
                      aria-label={`Accept ${m.source_field} as ${m.entity}.${m.field}`}
                    >
                      Accept
                    </button>
                  ) : null}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <OffsetPager offset={offset} limit={PAGE} total={filtered.length} onChange={setOffset} label="Mappings" />
    </>
  );
}

function useInvalidateMappings() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: keys.dcl });
    void client.invalidateQueries({ queryKey: keys.connectors });
  };
}

async function putMapping(body: {
  connectionId: string;
  stream: string;
  sourceField: string;
  entity: string;
  field: string;
  transform: string | null;
  confidence: number;
  replaceTarget: boolean;
}) {
  return unwrap(
    api.PUT("/api/v1/dcl/mappings", {
      body: {
        connection_id: body.connectionId,
        stream: body.stream,
        source_field: body.sourceField,
        entity: body.entity,
        field: body.field,
        transform: body.transform,
        confidence: body.confidence,
        status: "active",
        replace_target: body.replaceTarget,
        materialize: true,
      },
    }),
  );
}

function useAccept() {
  const toast = useToast();
  const invalidate = useInvalidateMappings();
  const [isPending, setPending] = useState(false);
  return {
    isPending,
    mutate: (m: Mapping) => {
      setPending(true);
      putMapping({
        connectionId: m.connection_id,
        stream: m.stream,
        sourceField: m.source_field,
        entity: m.entity,
        field: m.field,
        transform: m.transform,
        confidence: m.confidence,
        replaceTarget: false,
      })
        .then(() => toast("ok", `${m.source_field} now feeds ${m.entity}.${m.field}`))
        .catch((e: unknown) => toast("error", errorMessage(e)))
        .finally(() => {
          setPending(false);
          invalidate();
        });
    },
  };
}

function HistoryPanel({
  mapping,
  canOperate,
  onClose,
}: {
  mapping: Mapping;
  canOperate: boolean;
  onClose: () => void;
}) {
  const history = useMappingHistory(mapping.connection_id, mapping.stream, mapping.source_field);
  const restore = useRestoreMapping();
  const me = useMe();
  const toast = useToast();
  return (
    <Panel
      status="connections.mappings"
      payload={history.data}
      title={`History of ${mapping.stream}.${mapping.source_field}`}
      actions={
        <button type="button" className="small" onClick={onClose}>
          Close
        </button>
      }
    >
      <QueryView query={history} loadingLabel="Loading versions">
        {(data) => (
          <div className="table-wrap">
            <table aria-label="Mapping versions">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">Target</th>
                  <th scope="col">Transform</th>
                  <th scope="col">Confidence</th>
                  <th scope="col">Status</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">Restore</th>
                </tr>
              </thead>
              <tbody>
                {data.mappings.map((v, i) => (
                  <tr key={v.id}>
                    <td className="num">{v.version}</td>
                    <td className="mono">
                      {v.entity}.{v.field}
                    </td>
                    <td className="mono">{v.transform ?? ""}</td>
                    <td>
                      <Confidence value={v.confidence} />
                    </td>
                    <td>
                      <StatusBadge status={v.status} />
                    </td>
                    <td className="small">{decider(v.decided_by, me.data?.id)}</td>
                    <td>
                      <When at={v.created_at} />
                    </td>
                    <td>
                      {i === 0 ? (
                        <span className="muted small">current</span>
                      ) : (
                        <button
                          type="button"
                          className="small"
                          disabled={!canOperate || restore.isPending}
                          aria-label={`Restore version ${v.version}`}
                          onClick={() =>
                            restore.mutate(
                              { id: v.id },
                              {
                                onSuccess: () => toast("ok", `Version ${v.version} restored as the newest`),
                                onError: (e) => toast("error", errorMessage(e)),
                              },
                            )
                          }
                        >
                          Restore
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </Panel>
  );
}

function MapFieldForm({
  connectionId,
  discovered,
  mappings,
}: {
  connectionId: string;
  discovered?: DiscoveredStream[];
  mappings: Mapping[];
}) {
  const ontology = useOntology();
  const toast = useToast();
  const invalidate = useInvalidateMappings();
  const streams = useMemo(() => {
    const fields = new Map<string, Set<string>>();
    for (const s of discovered ?? []) {
      fields.set(s.name, new Set(normalizeNames(s.fields.map((f) => f.name))));
    }
    for (const m of mappings) {
      if (!fields.has(m.stream)) fields.set(m.stream, new Set());
      fields.get(m.stream)?.add(m.source_field);
    }
    return fields;
  }, [discovered, mappings]);
  const streamNames = [...streams.keys()].sort();
  const [stream, setStream] = useState("");
  const [sourceField, setSourceField] = useState("");
  const [target, setTarget] = useState("");
  const [transform, setTransform] = useState("");
  const [replace, setReplace] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const chosenStream = stream || streamNames[0] || "";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const [entity, field] = target.split(".");
    if (!chosenStream || !sourceField || !entity || !field) {
      setProblem("Choose a stream, a source field and a target.");
      return;
    }
    setBusy(true);
    setProblem(null);
    putMapping({
      connectionId,
      stream: chosenStream,
      sourceField,
      entity,
      field,
      transform: transform || null,
      confidence: 1,
      replaceTarget: replace,
    })
      .then((changed) => {
        const error = (changed.materialization as { error?: string } | null)?.error;
        toast(error ? "error" : "ok", error ? `Mapped, but the view was not refreshed: ${error}` : `${sourceField} → ${target} saved; the view is refreshed`);
        // clear what was saved, but not what the user has typed since: the stream's
        // mapping.changed shows the new row before the view refresh lets this answer come
        const saved = { sourceField, target, transform };
        setSourceField((now) => (now === saved.sourceField ? "" : now));
        setTarget((now) => (now === saved.target ? "" : now));
        setTransform((now) => (now === saved.transform ? "" : now));
      })
      .catch((e: unknown) => setProblem(errorMessage(e)))
      .finally(() => {
        setBusy(false);
        invalidate();
      });
  };

  if (ontology.isPending) return <Loading label="Loading the ontology" />;
  if (ontology.error) return <ErrorState error={ontology.error} onRetry={() => void ontology.refetch()} />;
  return (
    <Panel title="Map a field">
      {streamNames.length === 0 ? (
        <EmptyState title="No stream known yet">Discover the source or sync it first.</EmptyState>
      ) : (
        <form className="form" onSubmit={submit} aria-label="Map a field">
          <div className="field">
            <label htmlFor="map-stream">Stream</label>
            <select id="map-stream" value={chosenStream} onChange={(e) => setStream(e.target.value)}>
              {streamNames.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="map-source">Source field (as landed)</label>
            <input
              id="map-source"
              list="map-source-fields"
              value={sourceField}
              onChange={(e) => setSourceField(e.target.value)}
            />
            <datalist id="map-source-fields">
              {[...(streams.get(chosenStream) ?? [])].sort().map((f) => (
                <option key={f} value={f} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="map-target">Ontology target</label>
            <select id="map-target" value={target} onChange={(e) => setTarget(e.target.value)}>
              <option value="">Choose…</option>
              {ontology.data.entities.map((entity) => (
                <optgroup key={entity.name} label={entity.name}>
                  {entity.fields.map((f) => (
                    <option key={f.name} value={`${entity.name}.${f.name}`}>
                      {entity.name}.{f.name} ({f.type})
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="map-transform">Transform</label>
            <select id="map-transform" value={transform} onChange={(e) => setTransform(e.target.value)}>
              <option value="">none</option>
              {ontology.data.transforms
                .filter((t) => !t.argument)
                .map((t) => (
                  <option key={t.name} value={t.name} title={t.description}>
                    {t.name}
                  </option>
                ))}
            </select>
          </div>
          <label className="row">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
            Replace the field that feeds this target now, if any
          </label>
          <div className="form-error" role="alert">
            {problem}
          </div>
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save mapping"}
            </button>
          </div>
        </form>
      )}
    </Panel>
  );
}
