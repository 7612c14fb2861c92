/** Table-view state as the API takes it: field:op:value filters, one sort key, keyset cursors. */

export const FILTER_OPS = [
  ["eq", "="],
  ["ne", "≠"],
  ["lt", "<"],
  ["lte", "≤"],
  ["gt", ">"],
  ["gte", "≥"],
  ["contains", "contains"],
  ["prefix", "starts with"],
  ["in", "in (a,b,c)"],
  ["null", "is empty"],
  ["notnull", "is not empty"],
] as const;

export type FilterOp = (typeof FILTER_OPS)[number][0];

export interface FilterRow {
  field: string;
  op: FilterOp;
  value: string;
}

export function needsValue(op: FilterOp): boolean {
  return op !== "null" && op !== "notnull";
}

/** API filter strings; rows without a field, or without a needed value, are skipped. */
export function toFilterParams(rows: readonly FilterRow[]): string[] {
  return rows
    .filter((r) => r.field && (!needsValue(r.op) || r.value !== ""))
    .map((r) => (needsValue(r.op) ? `${r.field}:${r.op}:${r.value}` : `${r.field}:${r.op}`));
}

/** Clicking a column: ascending, then descending, then unsorted. */
export function nextSort(current: string, field: string): string {
  if (current === field) return `-${field}`;
  if (current === `-${field}`) return "";
  return field;
}

export function ariaSort(current: string, field: string): "ascending" | "descending" | "none" {
  if (current === field) return "ascending";
  if (current === `-${field}`) return "descending";
  return "none";
}

/** Keyset paging keeps the cursors that led to each page so "previous" needs no offset. */
export interface CursorTrail {
  cursors: (string | null)[]; // cursors[i] opens page i+1
}

export const firstPage = (): CursorTrail => ({ cursors: [null] });

export function nextPage(trail: CursorTrail, next: string): CursorTrail {
  return { cursors: [...trail.cursors, next] };
}

export function previousPage(trail: CursorTrail): CursorTrail {
  return trail.cursors.length > 1 ? { cursors: trail.cursors.slice(0, -1) } : trail;
}

export function currentCursor(trail: CursorTrail): string | null {
  return trail.cursors[trail.cursors.length - 1] ?? null;
}
