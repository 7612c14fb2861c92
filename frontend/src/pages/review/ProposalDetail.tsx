import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";

import { errorMessage } from "../../api/errors";
import { fetchViewPage, materialize, useOntology } from "../../api/queries/dcl";
import { keys } from "../../api/queries/keys";
import { decide, useProposal, type Decision } from "../../api/queries/repair";
import type { Proposal } from "../../api/types";
import { Confidence, StatusBadge, When } from "../../components/Bits";
import { Panel } from "../../components/Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { useMe } from "../../api/queries/platform";
import { cellText, decider } from "../../lib/format";
import { allowedActions, diffRows, parseTarget, previewRequest, runDecision } from "./reviewFlow";

type Rows = Record<string, unknown>[];

export function ProposalDetail({ id, canOperate }: { id: string; canOperate: boolean }) {
  const proposal = useProposal(id);
  return (
    <QueryView query={proposal} loadingLabel="Loading the proposal">
      {(p) => <Detail key={p.id} proposal={p} canOperate={canOperate} />}
    </QueryView>
  );
}

function Detail({ proposal: p, canOperate }: { proposal: Proposal; canOperate: boolean }) {
  const me = useMe();
  const client = useQueryClient();
  const toast = useToast();
  const preview = previewRequest(p);
  const [before, setBefore] = useState<Rows | null>(null);
  const [after, setAfter] = useState<Rows | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState("");
  const [editing, setEditing] = useState(false);

  // the "before" snapshot of the rows this proposal would change
  useEffect(() => {
    if (!preview) return;
    let live = true;
    fetchViewPage(preview.entity, preview.params)
      .then((page) => live && setBefore(page.rows))
      .catch((e: unknown) => live && setPreviewError(e));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.id]);

  const act = async (decision: Decision) => {
    setBusy(true);
    try {
      const result = await runDecision({ decide, materialize }, p, decision);
      client.setQueryData(keys.proposal(p.id), result.proposal);
      void client.invalidateQueries({ queryKey: keys.repair });
      void client.invalidateQueries({ queryKey: keys.dcl });
      void client.invalidateQueries({ queryKey: keys.connectors });
      if (result.refreshError) {
        toast("error", `Decided, but the view could not be refreshed: ${errorMessage(result.refreshError)}`);
      } else {
        toast("ok", `Proposal ${result.proposal.status.replace("_", " ")}`);
      }
      if (preview && result.refreshed !== null) {
        const page = await fetchViewPage(preview.entity, preview.params);
        setAfter(page.rows);
      }
      setEditing(false);
      setNote("");
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const actions = allowedActions(p);
  const ev = p.evidence as Evidence;
  return (
    <div className="stack">
      <Panel
        status="review.evidence"
        payload={p}
        title={`${p.kind}: ${p.stream}.${p.source_field}${p.new_source_field ? ` → ${p.new_source_field}` : ""}`}
      >
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={p.status} /> {p.auto_applied ? <span className="badge info">applied by Safe Mode</span> : null}
          </dd>
          <dt>Target</dt>
          <dd className="mono">{p.target ?? "—"}</dd>
          {p.transform ? (
            <>
              <dt>Transform</dt>
              <dd className="mono">{p.transform}</dd>
            </>
          ) : null}
          <dt>Confidence</dt>
          <dd>
            <Confidence value={p.confidence} /> {p.destructive ? <span className="badge danger">destructive</span> : null}
          </dd>
          <dt>Why</dt>
          <dd>{p.reason}</dd>
          <dt>Proposed</dt>
          <dd>
            <When at={p.created_at} />
          </dd>
          {p.decided_at ? (
            <>
              <dt>Decided</dt>
              <dd>
                <When at={p.decided_at} /> by {decider(p.decided_by, me.data?.id)}
                {p.decision_note ? ` · “${p.decision_note}”` : ""}
              </dd>
            </>
          ) : null}
          <dt>Fingerprints</dt>
          <dd className="mono small">
            {(p.old_fingerprint ?? "none").slice(0, 12)} → {(p.new_fingerprint ?? "none").slice(0, 12)}
          </dd>
        </dl>
        <h3 style={{ margin: "16px 0 8px" }}>Evidence</h3>
        <EvidenceView evidence={ev} />
      </Panel>

      {actions.length > 0 ? (
        <Panel title="Decide">
          {!canOperate ? (
            <p className="muted">Deciding needs the operator role.</p>
          ) : (
            <div className="stack">
              <div className="field">
                <label htmlFor="decision-note">Note (kept with the decision)</label>
                <input id="decision-note" maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
              </div>
              <div className="row">
                {actions.includes("approve") ? (
                  <button type="button" className="ok" disabled={busy} onClick={() => void act({ action: "approve", note })}>
                    Approve
                  </button>
                ) : null}
                {actions.includes("edit") ? (
                  <button type="button" disabled={busy} aria-expanded={editing} onClick={() => setEditing((v) => !v)}>
                    Edit and approve
                  </button>
                ) : null}
                {actions.includes("reject") ? (
                  <button type="button" className="danger" disabled={busy} onClick={() => void act({ action: "reject", note })}>
                    Reject
                  </button>
                ) : null}
                {actions.includes("rollback") ? (
                  <button type="button" className="danger" disabled={busy} onClick={() => void act({ action: "rollback", note })}>
                    Roll back
                  </button>
                ) : null}
                {busy ? <span className="muted">Applying…</span> : null}
              </div>
              {editing ? <EditForm proposal={p} note={note} busy={busy} onSubmit={(d) => void act(d)} /> : null}
            </div>
          )}
        </Panel>
      ) : null}

      {preview ? (
        <Panel status="review.viewChange" payload={after ?? before}>
          {previewError ? (
            <ErrorState error={previewError} />
          ) : before === null ? (
            <Loading label="Reading the view" />
          ) : (
            <ViewChange
              field={parseTarget(p.target)?.field ?? ""}
              entity={preview.entity}
              before={before}
              after={after}
            />
          )}
        </Panel>
      ) : null}
    </div>
  );
}

interface Evidence {
  summary?: string;
  signals?: Record<string, unknown>;
  samples_before?: unknown[];
  samples_after?: unknown[];
  alternatives?: { target?: string; source_field?: string; score?: number; confidence?: number }[];
  mapping_before?: Record<string, unknown> | null;
}

function EvidenceView({ evidence }: { evidence: Evidence }) {
  const signals = Object.entries(evidence.signals ?? {});
  return (
    <div className="evidence-grid">
      <section aria-label="Signals">
        <h3 className="small muted">Signals</h3>
        {signals.length === 0 ? (
          <p className="muted small">none recorded</p>
        ) : (
          <table>
            <tbody>
              {signals.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{typeof value === "number" ? <Confidence value={value} /> : cellText(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="Sample values before">
        <h3 className="small muted">Sample values before</h3>
        <Samples values={evidence.samples_before} />
      </section>
      <section aria-label="Sample values after">
        <h3 className="small muted">Sample values after</h3>
        <Samples values={evidence.samples_after} />
      </section>
      <section aria-label="Alternatives">
        <h3 className="small muted">Alternatives</h3>
        {evidence.alternatives?.length ? (
          <ul className="samples">
            {evidence.alternatives.map((a, i) => (
              <li key={i}>
                {a.target ?? a.source_field ?? "?"} {a.confidence ?? a.score !== undefined ? <Confidence value={a.confidence ?? a.score} /> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted small">no other candidate</p>
        )}
        {evidence.mapping_before ? (
          <p className="small">
            Mapping before: <span className="mono">{cellText(evidence.mapping_before.source_field)} → {cellText(evidence.mapping_before.target)}</span> (v
            {cellText(evidence.mapping_before.version)})
          </p>
        ) : null}
      </section>
    </div>
  );
}

function Samples({ values }: { values: unknown[] | undefined }) {
  if (!values?.length) return <p className="muted small">none</p>;
  return (
    <ul className="samples">
      {values.slice(0, 8).map((v, i) => (
        <li key={i}>{cellText(v) || "∅"}</li>
      ))}
    </ul>
  );
}

function ViewChange({
  entity,
  field,
  before,
  after,
}: {
  entity: string;
  field: string;
  before: Rows;
  after: Rows | null;
}) {
  if (before.length === 0 && !after?.length) {
    return <EmptyState title={`No ${entity} row comes from this stream yet`} />;
  }
  const rows = diffRows(before, after ?? before, field);
  return (
    <div className="stack">
      <p className="small muted">
        <span className="mono">
          {entity}.{field}
        </span>{" "}
        for rows of this stream{after ? ", before and after the decision" : ", as it is now (decide to see the change)"}.
      </p>
      <div className="table-wrap">
        <table aria-label="View change">
          <thead>
            <tr>
              <th scope="col">Source record</th>
              <th scope="col">Before</th>
              {after ? <th scope="col">After</th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-changed={after ? r.changed : undefined}>
                <td className="mono small">{r.key}</td>
                <td>{cellText(r.before) || <span className="muted">null</span>}</td>
                {after ? (
                  <td data-testid="after-value">
                    {cellText(r.after) || <span className="muted">null</span>} {r.changed ? <span className="badge ok">changed</span> : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function EditForm({
  proposal,
  note,
  busy,
  onSubmit,
}: {
  proposal: Proposal;
  note: string;
  busy: boolean;
  onSubmit: (decision: Decision) => void;
}) {
  const ontology = useOntology();
  const [target, setTarget] = useState(proposal.target ?? "");
  const [transform, setTransform] = useState(proposal.transform ?? "");
  const [source, setSource] = useState(proposal.new_source_field ?? "");
  const [replace, setReplace] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({
      action: "edit",
      edit: {
        target: target && target !== proposal.target ? target : null,
        transform: transform !== (proposal.transform ?? "") ? transform : null,
        new_source_field: source && source !== proposal.new_source_field ? source : null,
        replace_target: replace,
        note: note || null,
      },
    });
  };
  return (
    <form className="form" onSubmit={submit} aria-label="Edit and approve">
      <div className="field">
        <label htmlFor="edit-target">Target</label>
        <select id="edit-target" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">(as proposed)</option>
          {ontology.data?.entities.map((entity) => (
            <optgroup key={entity.name} label={entity.name}>
              {entity.fields.map((f) => (
                <option key={f.name} value={`${entity.name}.${f.name}`}>
                  {entity.name}.{f.name}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="edit-transform">Transform (e.g. not, trim|lower; empty: none)</label>
        <input id="edit-transform" value={transform} onChange={(e) => setTransform(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="edit-source">Source field it moves to</label>
        <input id="edit-source" value={source} onChange={(e) => setSource(e.target.value)} />
      </div>
      <label className="row">
        <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
        Retire the field that feeds the target now, if any
      </label>
      <div className="row">
        <button type="submit" className="ok" disabled={busy}>
          Apply the edit
        </button>
      </div>
    </form>
  );
}
