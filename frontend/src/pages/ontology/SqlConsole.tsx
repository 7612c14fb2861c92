import { useState, type FormEvent, type KeyboardEvent } from "react";

import { useRunQuery } from "../../api/queries/dcl";
import { Panel } from "../../components/Panel";
import { EmptyState, ErrorState, Loading } from "../../components/States";
import { cellText, formatNumber } from "../../lib/format";

const EXAMPLE = "SELECT industry, count(*) AS accounts\nFROM account\nGROUP BY industry\nORDER BY accounts DESC";

export function SqlConsole() {
  const [sql, setSql] = useState(EXAMPLE);
  const query = useRunQuery();
  const run = (event?: FormEvent) => {
    event?.preventDefault();
    if (sql.trim()) query.mutate(sql);
  };
  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
  };
  return (
    <Panel status="ontology.sql" payload={query.data}>
      <form onSubmit={run} className="stack" style={{ gap: 8 }}>
        <label htmlFor="sql">One read-only SELECT over your views (Ctrl+Enter runs it)</label>
        <textarea id="sql" className="sql-editor" value={sql} spellCheck={false} onChange={(e) => setSql(e.target.value)} onKeyDown={onKey} />
        <div className="row">
          <button type="submit" className="primary" disabled={query.isPending}>
            {query.isPending ? "Running…" : "Run"}
          </button>
          {query.data ? (
            <span className="small muted" role="status">
              {formatNumber(query.data.row_count)} rows in {query.data.elapsed_ms.toFixed(0)} ms
              {query.data.truncated ? " (truncated at the server's row limit)" : ""}
            </span>
          ) : null}
        </div>
      </form>
      <div style={{ marginTop: 12 }}>
        {query.isPending ? (
          <Loading label="Running the query" />
        ) : query.error ? (
          <ErrorState error={query.error} />
        ) : !query.data ? (
          <EmptyState title="Results appear here" icon="▦" />
        ) : query.data.rows.length === 0 ? (
          <EmptyState title="The query returned no row" />
        ) : (
          <div className="table-wrap" style={{ maxHeight: 480 }}>
            <table aria-label="Query results">
              <thead>
                <tr>
                  {query.data.columns.map((c) => (
                    <th key={c.name} scope="col" title={c.type}>
                      {c.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {query.data.rows.slice(0, 500).map((row, i) => (
                  <tr key={i}>
                    {row.map((value, j) => (
                      <td key={j}>{cellText(value).slice(0, 120)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Panel>
  );
}
