import { useState, type FormEvent } from "react";

import { errorMessage } from "../api/errors";
import { useCreateConnection } from "../api/queries/aam";
import type { Connection } from "../api/types";
import { buildConfig, missingFields, SOURCE_TYPES, type SourceType } from "../lib/sources";

const POLICIES = [
  ["propose", "Propose: changes wait as repair proposals (Safe Mode)"],
  ["auto", "Auto: apply safe changes, propose the rest"],
  ["block", "Block: stop the stream until someone decides"],
  ["quarantine", "Quarantine: land changed rows aside"],
] as const;

export function ConnectionForm({
  onCreated,
  submitLabel = "Create connection",
}: {
  onCreated: (connection: Connection) => void;
  submitLabel?: string;
}) {
  const create = useCreateConnection();
  const [name, setName] = useState("");
  const [type, setType] = useState<SourceType>("files");
  const [policy, setPolicy] = useState<(typeof POLICIES)[number][0]>("propose");
  const [values, setValues] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const missing = missingFields(type, values);
    if (!name.trim()) missing.unshift("Name");
    if (missing.length) {
      setProblem(`Fill in: ${missing.join(", ")}.`);
      return;
    }
    setProblem(null);
    create.mutate(
      { name: name.trim(), source_type: type, config: buildConfig(type, values), drift_policy: policy },
      {
        onSuccess: (connection) => onCreated(connection),
        onError: (e) => setProblem(errorMessage(e)),
      },
    );
  };

  return (
    <form className="form" onSubmit={submit} aria-label="New connection">
      <div className="field">
        <label htmlFor="conn-name">Name</label>
        <input id="conn-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="conn-type">Source type</label>
        <select
          id="conn-type"
          value={type}
          onChange={(e) => {
            setType(e.target.value as SourceType);
            setValues({});
          }}
        >
          {(Object.keys(SOURCE_TYPES) as SourceType[]).map((t) => (
            <option key={t} value={t}>
              {SOURCE_TYPES[t].label}
            </option>
          ))}
        </select>
      </div>
      {SOURCE_TYPES[type].fields.map((field) => (
        <div className="field" key={field.key}>
          <label htmlFor={`conn-${field.key}`}>
            {field.label}
            {field.required ? " *" : ""}
          </label>
          {field.options ? (
            <select
              id={`conn-${field.key}`}
              value={values[field.key] ?? field.options[0]}
              onChange={(e) => setValues({ ...values, [field.key]: e.target.value })}
            >
              {field.options.map((o) => (
                <option key={o} value={o}>
                  {o || "automatic"}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`conn-${field.key}`}
              type={field.secret ? "password" : "text"}
              autoComplete="off"
              placeholder={field.placeholder}
              value={values[field.key] ?? ""}
              onChange={(e) => setValues({ ...values, [field.key]: e.target.value })}
            />
          )}
          {field.help ? <span className="small muted">{field.help}</span> : null}
        </div>
      ))}
      <div className="field">
        <label htmlFor="conn-policy">When the schema drifts</label>
        <select id="conn-policy" value={policy} onChange={(e) => setPolicy(e.target.value as typeof policy)}>
          {POLICIES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="form-error" role="alert">
        {problem}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
