import { useEffect, useRef, useState, type ReactNode } from "react";

import { formatDateTime, relativeTime } from "../lib/format";

export function Kpi({
  label,
  value,
  tone = "blue",
  hint,
}: {
  label: string;
  value: ReactNode;
  tone?: "green" | "blue" | "purple" | "amber";
  hint?: string;
}) {
  return (
    <div className={`kpi ${tone}`} title={hint}>
      <div className="value">{value}</div>
      <div className="label">{label}</div>
    </div>
  );
}

export function Confidence({ value }: { value: number | null | undefined }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  const pct = Math.round(value * 100);
  const band = value >= 0.9 ? "high" : value >= 0.6 ? "mid" : "low";
  return (
    <span className={`confidence ${band}`} aria-label={`confidence ${pct}%`}>
      <span className="bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      {pct}%
    </span>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">never</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {relativeTime(at)}
    </time>
  );
}

const STATUS_TONE: Record<string, string> = {
  active: "ok",
  succeeded: "ok",
  applied: "ok",
  ok: "ok",
  running: "info",
  queued: "info",
  pending: "accent",
  proposed: "accent",
  paused: "neutral",
  retired: "neutral",
  superseded: "neutral",
  rolled_back: "neutral",
  cancelled: "neutral",
  failed: "danger",
  broken: "danger",
  rejected: "warn",
  error: "danger",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${STATUS_TONE[status] ?? "neutral"}`}>{status.replace("_", " ")}</span>
  );
}

export function DriftBadge() {
  return (
    <span className="badge warn" title="The source's schema changed: see its drift history">
      DRIFT
    </span>
  );
}

/** A destructive action asks once more, in place (keyboard friendly, no modal trap). */
export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  disabled,
  busy,
  className = "danger",
  title,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  busy?: boolean;
  className?: string;
  title?: string;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement | null>(null);
  // the confirmation takes focus so Enter confirms and Escape-like retreat is one Tab away
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        className={`${className} small`}
        disabled={disabled || busy}
        onClick={() => setAsking(true)}
        title={title}
      >
        {busy ? "Working…" : label}
      </button>
    );
  }
  return (
    <span className="row" role="group" aria-label={confirmLabel}>
      <button
        ref={confirmRef}
        type="button"
        className={`${className} small`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="small ghost" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
