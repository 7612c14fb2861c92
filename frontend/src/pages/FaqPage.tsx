import { Link } from "react-router-dom";

import { SourceBadge } from "../components/SourceBadge";
import { Page } from "../components/Page";

const FAQ: { q: string; a: React.ReactNode }[] = [
  {
    q: "What does AutonomOS do with my sources?",
    a: (
      <>
        It reads each connection into canonical events, fingerprints every schema, and maps source
        fields onto one ontology (accounts, contacts, opportunities, invoices, cloud costs, …). The
        mapped rows become unified views in your tenant's own DuckDB, which you can browse in{" "}
        <Link to="/ontology">AOS Ontology</Link>.
      </>
    ),
  },
  {
    q: "What is drift, and what happens when a source changes?",
    a: (
      <>
        Drift is a change in a source's schema: a field added, removed, renamed, or of another type.
        Each sync compares the schema's fingerprint with the last accepted one. The connection's drift
        policy decides what happens: <em>propose</em> (the default) turns changes into repair proposals,
        which appear in the <Link to="/review">Review queue</Link>.
      </>
    ),
  },
  {
    q: "What is Safe Mode?",
    a: (
      <>
        The repair agent applies a repair on its own only when its confidence is at or above your
        tenant's threshold (90% unless an admin changes it) and the repair destroys nothing. Everything
        else waits for a person, with its evidence: the signals behind the score, sample values before
        and after, the alternatives, and both schema fingerprints. An admin can switch automatic repairs
        off entirely on the Review queue page.
      </>
    ),
  },
  {
    q: "Can I undo a decision?",
    a: (
      <>
        Yes. An applied repair can be rolled back from its proposal, and any field mapping can be
        restored to an earlier version from its history (AOS Connections → a connection → Field mappings).
        Every decision is audited with who, when, before and after.
      </>
    ),
  },
  {
    q: "What do the Live and Demo badges mean?",
    a: (
      <>
        <SourceBadge status="control.connections" /> means the panel shows what the API answered for
        your tenant just now; hover or focus it to see which endpoint it reads. A Demo badge marks
        demonstration data (an answer the API flags with <code>"demo": true</code>); no panel shows such
        data without it. The Live badge pulses while the dashboard is connected to the platform&apos;s
        event stream, so pages change the moment a sync, repair, view refresh or agent run does; the
        sidebar says whether live updates are on.
      </>
    ),
  },
  {
    q: "What do the agents do, and where do their numbers come from?",
    a: (
      <>
        The FinOps agent reads the unified <code>cloud_cost</code> view (spend anomalies, forecasts, cost
        drivers, idle resources); the RevOps agent reads <code>opportunity</code> and <code>account</code>{" "}
        (slipped and stale deals, concentration). They run after each view refresh, on a schedule, or when
        an operator presses Run on AOS Orchestration. Every finding on AOS Agents carries its numbers and
        the SQL query that reproduces them; third-party agents report their runs to the same place.
      </>
    ),
  },
  {
    q: "Who can do what?",
    a: (
      <>
        Viewers read everything of their tenant. Operators also create, test and sync connections, map
        fields and decide repairs. Admins also delete connections, manage users and change Safe Mode.
      </>
    ),
  },
  {
    q: "Is my data visible to other tenants?",
    a: (
      <>
        No. Every row, file, actor and view carries your tenant's id; the API answers another tenant's
        object exactly like a missing one, and on PostgreSQL row-level security enforces it a second time.
      </>
    ),
  },
  {
    q: "Where is the API?",
    a: (
      <>
        Under <code>/api/v1</code>, documented at <a href="/docs">/docs</a> (OpenAPI at{" "}
        <a href="/openapi.json">/openapi.json</a>). This dashboard uses nothing else.
      </>
    ),
  },
];

export default function FaqPage() {
  return (
    <Page feature="FAQ" description="How the platform behaves, in short.">
      <div className="panel faq">
        {FAQ.map((item) => (
          <details key={item.q}>
            <summary>{item.q}</summary>
            <p>{item.a}</p>
          </details>
        ))}
      </div>
    </Page>
  );
}
