import { useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { ApiError, errorMessage } from "../../api/errors";
import { useCheckConnection, useDiscover, useRun, useStartSync } from "../../api/queries/aam";
import { useJob, useSubmitBatchMap } from "../../api/queries/jobs";
import { useRepairSettings } from "../../api/queries/repair";
import type { CheckResult, Connection, DiscoveredStream } from "../../api/types";
import { StatusBadge } from "../../components/Bits";
import { ConnectionForm } from "../../components/ConnectionForm";
import { MappingEditor } from "../../components/MappingEditor";
import { Panel } from "../../components/Panel";
import { ErrorState, Loading } from "../../components/States";
import { SyncStatus } from "../../components/SyncStatus";
import { formatNumber } from "../../lib/format";

const STEPS = ["Create", "Check", "Discover", "Pick streams", "First sync", "Mappings"] as const;

/**
 * A new source, one guarded step at a time: nothing syncs before the source answers and
 * its streams are known, and the first sync runs under Safe Mode (drift is proposed, never
 * applied below the tenant's threshold) before any mapping is reviewed.
 */
export function Onboarding({ onDone }: { onDone: () => void }) {
  const [step, setStep] = useState(0);
  const [connection, setConnection] = useState<Connection | null>(null);
  const [streams, setStreams] = useState<DiscoveredStream[]>([]);
  const [picked, setPicked] = useState<string[]>([]);

  return (
    <Panel title="Onboard a new source">
      <ol className="steps" aria-label="Onboarding steps">
        {STEPS.map((label, i) => (
          <li
            key={label}
            className={i < step ? "done" : i === step ? "current" : undefined}
            aria-current={i === step ? "step" : undefined}
          >
            {i + 1}. {label}
          </li>
        ))}
      </ol>
      {step === 0 ? (
        <ConnectionForm
          submitLabel="Create and continue"
          onCreated={(c) => {
            setConnection(c);
            setStep(1);
          }}
        />
      ) : null}
      {connection && step === 1 ? <CheckStep connection={connection} onOk={() => setStep(2)} /> : null}
      {connection && step === 2 ? (
        <DiscoverStep
          connection={connection}
          onFound={(found) => {
            setStreams(found);
            setPicked(found.map((s) => s.name));
            setStep(3);
          }}
        />
      ) : null}
      {connection && step === 3 ? (
        <PickStep streams={streams} picked={picked} onChange={setPicked} onNext={() => setStep(4)} />
      ) : null}
      {connection && step === 4 ? (
        <SyncStep connection={connection} streams={picked} onSynced={() => setStep(5)} />
      ) : null}
      {connection && step === 5 ? (
        <MappingStep connection={connection} streams={streams.filter((s) => picked.includes(s.name))} onDone={onDone} />
      ) : null}
    </Panel>
  );
}

function CheckStep({ connection, onOk }: { connection: Connection; onOk: () => void }) {
  const check = useCheckConnection();
  const [result, setResult] = useState<CheckResult | null>(null);
  const run = () => check.mutate(connection.id, { onSuccess: setResult });
  return (
    <div className="stack" role="status">
      <p>
        <strong>{connection.name}</strong> is saved. Before anything is read, check that the
        source answers with these settings.
      </p>
      {check.isPending ? <Loading label={`Reaching ${connection.name}`} /> : null}
      {check.error ? <ErrorState error={check.error} /> : null}
      {result?.ok ? (
        <p>
          <span className="badge ok">reachable</span> {connection.name} answered in{" "}
          {Math.round(result.latency_ms)} ms.
        </p>
      ) : null}
      {result && !result.ok ? (
        <div className="state error" role="alert">
          <strong>The source did not answer: {result.error ?? result.failure ?? "unknown error"}</strong>
          <span className="detail small">Fix its settings in AOS Connections, then check again.</span>
        </div>
      ) : null}
      <div className="row">
        <button type="button" className={result?.ok ? undefined : "primary"} disabled={check.isPending} onClick={run}>
          {result || check.error ? "Check again" : "Check the connection"}
        </button>
        <button type="button" className="primary" disabled={!result?.ok} onClick={onOk}>
          Continue
        </button>
      </div>
    </div>
  );
}

function DiscoverStep({
  connection,
  onFound,
}: {
  connection: Connection;
  onFound: (streams: DiscoveredStream[]) => void;
}) {
  const discover = useDiscover();
  const run = () => discover.mutate(connection.id);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(run, [connection.id]);
  if (discover.isPending || discover.isIdle) return <Loading label="Reading the source's streams" />;
  if (discover.error) return <ErrorState error={discover.error} onRetry={run} />;
  const found = discover.data?.streams ?? [];
  return (
    <div className="stack">
      {found.length === 0 ? (
        <div className="state error" role="alert">
          <strong>The source has no stream to read.</strong>
          <span className="detail small">Check the path or the objects it lists, then retry.</span>
          <button type="button" onClick={run}>
            Discover again
          </button>
        </div>
      ) : (
        <>
          <p>
            Found {found.length} stream{found.length === 1 ? "" : "s"} with{" "}
            {formatNumber(found.reduce((s, x) => s + x.fields.length, 0))} fields.
          </p>
          <div className="row">
            <button type="button" className="primary" onClick={() => onFound(found)}>
              Continue
            </button>
          </div>
        </>
      )}
    </div>
  );
}

function PickStep({
  streams,
  picked,
  onChange,
  onNext,
}: {
  streams: DiscoveredStream[];
  picked: string[];
  onChange: (picked: string[]) => void;
  onNext: () => void;
}) {
  const toggle = (name: string) =>
    onChange(picked.includes(name) ? picked.filter((p) => p !== name) : [...picked, name]);
  return (
    <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0 }}>
      <legend className="muted">Choose the streams to sync</legend>
      <div className="table-wrap">
        <table aria-label="Discovered streams">
          <thead>
            <tr>
              <th scope="col">Sync</th>
              <th scope="col">Stream</th>
              <th scope="col" className="num">
                Fields
              </th>
              <th scope="col">Primary key</th>
              <th scope="col">Cursor</th>
            </tr>
          </thead>
          <tbody>
            {streams.map((s) => (
              <tr key={s.name}>
                <td>
                  <input
                    type="checkbox"
                    checked={picked.includes(s.name)}
                    onChange={() => toggle(s.name)}
                    aria-label={`Sync ${s.name}`}
                  />
                </td>
                <td>{s.name}</td>
                <td className="num">{s.fields.length}</td>
                <td className="mono">{s.primary_key.join(", ") || "—"}</td>
                <td className="mono">{s.cursor_field ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button type="button" className="primary" disabled={picked.length === 0} onClick={onNext}>
          Continue with {picked.length} stream{picked.length === 1 ? "" : "s"}
        </button>
      </div>
    </fieldset>
  );
}

function SyncStep({
  connection,
  streams,
  onSynced,
}: {
  connection: Connection;
  streams: string[];
  onSynced: () => void;
}) {
  const settings = useRepairSettings();
  const sync = useStartSync();
  const [runId, setRunId] = useState<string | null>(null);
  const run = useRun(runId);
  const status = run.data?.status;
  return (
    <div className="stack">
      <div className="panel" style={{ boxShadow: "none" }}>
        <h3>Safe Mode</h3>
        {settings.isPending ? (
          <Loading label="Reading Safe Mode" />
        ) : settings.data ? (
          <ul className="small">
            <li>
              Drift policy of this connection: <strong>{connection.drift_policy}</strong>
              {connection.drift_policy === "propose" ? " (schema changes wait for review)" : ""}
            </li>
            <li>
              Repairs apply on their own only at or above{" "}
              <strong>{Math.round(settings.data.threshold * 100)}%</strong> confidence, and never
              when destructive
              {settings.data.auto_apply ? "" : "; automatic repairs are off: every repair waits for you"}.
            </li>
          </ul>
        ) : (
          <ErrorState error={settings.error} />
        )}
      </div>
      {!runId ? (
        <div className="row">
          <button
            type="button"
            className="primary"
            disabled={sync.isPending}
            onClick={() => sync.mutate({ id: connection.id, streams }, { onSuccess: (s) => setRunId(s.run_id) })}
          >
            Start the first sync
          </button>
          {sync.error ? <span className="form-error">{errorMessage(sync.error)}</span> : null}
        </div>
      ) : (
        <div className="stack">
          <SyncStatus runId={runId} />
          {status === "succeeded" ? (
            <div className="row">
              <button type="button" className="primary" onClick={onSynced}>
                Review mappings
              </button>
            </div>
          ) : status === "failed" || status === "cancelled" ? (
            <div className="row">
              <button type="button" onClick={() => setRunId(null)}>
                Try again
              </button>
            </div>
          ) : null}
        </div>
      )}
    </div>
  );
}

function MappingStep({
  connection,
  streams,
  onDone,
}: {
  connection: Connection;
  streams: DiscoveredStream[];
  onDone: () => void;
}) {
  const submit = useSubmitBatchMap();
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);
  const unavailable = submit.error instanceof ApiError && submit.error.status === 503;
  return (
    <div className="stack">
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={submit.isPending || jobId !== null}
          onClick={() => submit.mutate(connection.id, { onSuccess: (j) => setJobId(j.id) })}
        >
          Suggest mappings
        </button>
        {job.data ? (
          <span className="row">
            batch mapping job <StatusBadge status={job.data.status} />
            {job.data.error ? <span className="small form-error">{job.data.error}</span> : null}
          </span>
        ) : null}
        {submit.error ? (
          <span className="small" role="alert">
            {unavailable
              ? "This deployment runs no batch job server; map the fields by hand below."
              : errorMessage(submit.error)}
          </span>
        ) : null}
        <span className="spacer" />
        <Link to={`/connections/${connection.id}`} onClick={onDone}>
          Finish: open the connection
        </Link>
      </div>
      <p className="small muted">
        Suggestions at or above the Safe Mode threshold become active; the rest are proposed for
        you to accept below. Confident or not, nothing you decided is overwritten.
      </p>
      <MappingEditor connectionId={connection.id} canOperate discovered={streams} />
    </div>
  );
}
