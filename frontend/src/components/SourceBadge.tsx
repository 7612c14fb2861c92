import { useId } from "react";

import { useLiveStream } from "../api/events/LiveEvents";
import { badgeFor, type LiveStatusKey } from "../config/liveStatus";

/** The green pulsing "Live" or amber "Demo" badge, with where the data comes from. */
export function SourceBadge({ status, payload }: { status: LiveStatusKey; payload?: unknown }) {
  const badge = badgeFor(status, payload);
  const id = useId();
  // the Live badge pulses only while the event stream is connected
  const stream = useLiveStream().status.state;
  const pulsing = badge.kind === "live" && stream === "open";
  return (
    // a toggletip: focusable, its tooltip shown on hover and focus, read as its description
    <button
      type="button"
      className={`badge source-badge ${badge.kind} ${badge.kind === "live" ? "ok" : "warn"}${pulsing ? " pulsing" : ""}`}
      aria-label={`${badge.label} data: where it comes from`}
      aria-describedby={id}
      data-source={badge.kind}
      data-stream={stream}
    >
      <span className="dot" aria-hidden="true" />
      {badge.label}
      <span role="tooltip" id={id} className="tooltip">
        {badge.tooltip}
      </span>
    </button>
  );
}
