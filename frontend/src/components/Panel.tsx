import { useId, type ReactNode } from "react";

import { LIVE_STATUS, type LiveStatusKey } from "../config/liveStatus";
import { SourceBadge } from "./SourceBadge";

/** A titled card showing one registered data component, with its Live/Demo badge. */
export function Panel({
  status,
  payload,
  title,
  actions,
  children,
  className,
}: {
  status?: LiveStatusKey;
  payload?: unknown;
  title?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  const heading = title ?? (status ? LIVE_STATUS[status].title : "");
  return (
    <section className={`panel ${className ?? ""}`} aria-labelledby={id}>
      <div className="panel-head">
        <h2 id={id}>{heading}</h2>
        {status ? <SourceBadge status={status} payload={payload} /> : null}
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
