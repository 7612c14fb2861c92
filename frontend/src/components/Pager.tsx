/** Offset paging (limit/offset APIs) with page numbers said out loud. */
export function OffsetPager({
  offset,
  limit,
  total,
  onChange,
  label,
}: {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
  label: string;
}) {
  if (total <= limit) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <span>
        {offset + 1}–{Math.min(offset + limit, total)} of {total}
      </span>
      <button
        type="button"
        className="small"
        disabled={page <= 1}
        onClick={() => onChange(Math.max(0, offset - limit))}
        aria-label="Previous page"
      >
        ‹ Previous
      </button>
      <span aria-current="page">
        Page {page} of {pages}
      </span>
      <button
        type="button"
        className="small"
        disabled={page >= pages}
        onClick={() => onChange(offset + limit)}
        aria-label="Next page"
      >
        Next ›
      </button>
    </nav>
  );
}

/** Keyset paging: the server hands a cursor for the next page; we keep the way back. */
export function CursorPager({
  page,
  hasNext,
  onPrevious,
  onNext,
  label,
}: {
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button
        type="button"
        className="small"
        disabled={page <= 1}
        onClick={onPrevious}
        aria-label="Previous page"
      >
        ‹ Previous
      </button>
      <span aria-current="page">Page {page}</span>
      <button
        type="button"
        className="small"
        disabled={!hasNext}
        onClick={onNext}
        aria-label="Next page"
      >
        Next ›
      </button>
    </nav>
  );
}
