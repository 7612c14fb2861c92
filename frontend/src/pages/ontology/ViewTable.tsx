import { useMemo, useState, type FormEvent } from "react";

import { useViewPage, useViews } from "../../api/queries/dcl";
import { CursorPager } from "../../components/Pager";
import { Panel } from "../../components/Panel";
import { EmptyState, ErrorState, Loading, QueryView } from "../../components/States";
import { cellText, formatNumber } from "../../lib/format";
import {
  ariaSort,
  currentCursor,
  FILTER_OPS,
  firstPage,
  needsValue,
  nextPage,
  nextSort,
  previousPage,
  toFilterParams,
  type FilterOp,
  type FilterRow,
} from "./viewQuery";

const LINEAGE = ["_source_connection", "_source_stream", "_source_key", "_synced_at"];

export function ViewTable({ entity, onEntity }: { entity: string | null; onEntity: (e: string) => void }) {
  const views = useViews();
  const chosen = entity ?? views.data?.views.find((v) => v.rows > 0)?.name ?? views.data?.views[0]?.name ?? null;
  return (
    <Panel
      status="ontology.table"
      payload={views.data}
      actions={
        views.data ? (
          <>
            <label htmlFor="entity-select" className="sr-only">
              Unified entity
            </label>
            <select id="entity-select" value={chosen ?? ""} onChange={(e) => onEntity(e.target.value)}>
              {views.data.views.map((v) => (
                <option key={v.name} value={v.name}>
                  {v.name} ({formatNumber(v.rows)} rows)
                </option>
              ))}
            </select>
          </>
        ) : null
      }
    >
      <QueryView query={views} loadingLabel="Loading views">
        {(data) =>
          data.views.length === 0 || !chosen ? (
            <EmptyState title="No unified view yet" />
          ) : (
            <EntityRows key={chosen} entity={chosen} />
          )
        }
      </QueryView>
    </Panel>
  );
}

function EntityRows({ entity }: { entity: string }) {
  const [draft, setDraft] = useState<FilterRow[]>([]);
  const [filters, setFilters] = useState<string[]>([]);
  const [sort, setSort] = useState("");
  const [limit, setLimit] = useState(25);
  const [showLineage, setShowLineage] = useState(false);
  const [trail, setTrail] = useState(firstPage);
  const params = useMemo(
    () => ({ filters, sort, limit, cursor: currentCursor(trail) }),
    [filters, sort, limit, trail],
  );
  const page = useViewPage(entity, params);
  const fields = page.data?.fields ?? [];
  const shown = showLineage ? fields : fields.filter((f) => !LINEAGE.includes(f));

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(toFilterParams(draft));
    setTrail(firstPage());
  };

  return (
    <div className="stack">
      <form onSubmit={apply} className="stack" aria-label="Filters" style={{ gap: 8 }}>
        {draft.map((row, i) => (
          <div className="row" key={i} role="group" aria-label={`Filter ${i + 1}`}>
            <label className="sr-only" htmlFor={`f-field-${i}`}>
              Field
            </label>
            <select
              id={`f-field-${i}`}
              value={row.field}
              onChange={(e) => setDraft(draft.map((r, j) => (j === i ? { ...r, field: e.target.value } : r)))}
            >
              <option value="">field…</option>
              {fields.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
            <label className="sr-only" htmlFor={`f-op-${i}`}>
              Operator
            </label>
            <select
              id={`f-op-${i}`}
              value={row.op}
              onChange={(e) => setDraft(draft.map((r, j) => (j === i ? { ...r, op: e.target.value as FilterOp } : r)))}
            >
              {FILTER_OPS.map(([op, label]) => (
                <option key={op} value={op}>
                  {label}
                </option>
              ))}
            </select>
            {needsValue(row.op) ? (
              <>
                <label className="sr-only" htmlFor={`f-value-${i}`}>
                  Value
                </label>
                <input
                  id={`f-value-${i}`}
                  value={row.value}
                  onChange={(e) => setDraft(draft.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)))}
                />
              </>
            ) : null}
            <button
              type="button"
              className="small ghost"
              aria-label={`Remove filter ${i + 1}`}
              onClick={() => setDraft(draft.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        ))}
        <div className="row">
          <button
            type="button"
            className="small"
            onClick={() => setDraft([...draft, { field: fields[0] ?? "", op: "eq", value: "" }])}
          >
            + Filter
          </button>
          <button type="submit" className="small primary">
            Apply
          </button>
          <span className="spacer" />
          <label className="row small">
            <input type="checkbox" checked={showLineage} onChange={(e) => setShowLineage(e.target.checked)} />
            Lineage columns
          </label>
          <label htmlFor="page-size" className="small">
            Rows per page
          </label>
          <select
            id="page-size"
            value={limit}
            onChange={(e) => {
              setLimit(Number(e.target.value));
              setTrail(firstPage());
            }}
          >
            {[10, 25, 50, 100].map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </div>
      </form>
      {page.isPending ? (
        <Loading label={`Reading ${entity}`} />
      ) : page.error ? (
        <ErrorState error={page.error} onRetry={() => void page.refetch()} />
      ) : page.data && page.data.rows.length === 0 ? (
        <EmptyState title={filters.length ? "No row matches these filters" : `${entity} has no rows yet`} />
      ) : page.data ? (
        <>
          <div className="table-wrap" style={{ maxHeight: 520 }} aria-busy={page.isFetching}>
            <table aria-label={`${entity} rows`}>
              <thead>
                <tr>
                  {shown.map((f) => (
                    <th key={f} scope="col" aria-sort={ariaSort(sort, f)}>
                      <button
                        type="button"
                        onClick={() => {
                          setSort(nextSort(sort, f));
                          setTrail(firstPage());
                        }}
                        aria-label={`Sort by ${f}`}
                      >
                        {f} {sort === f ? "▲" : sort === `-${f}` ? "▼" : ""}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.data.rows.map((row, i) => (
                  <tr key={String(row._source_key ?? "") + String(row._source_connection ?? "") + i}>
                    {shown.map((f) => (
                      <td key={f} title={cellText(row[f])}>
                        {cellText(row[f]).slice(0, 80)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager
            page={trail.cursors.length}
            hasNext={Boolean(page.data.next_cursor)}
            onPrevious={() => setTrail(previousPage(trail))}
            onNext={() => page.data?.next_cursor && setTrail(nextPage(trail, page.data.next_cursor))}
            label={`${entity} rows`}
          />
        </>
      ) : null}
    </div>
  );
}
