/**
 * The landed name of a source field, as the AAM normalises it (autonomos/aam/normalize.py):
 * snake_case per dotted part, a leading digit prefixed with "_", duplicates suffixed _2, _3.
 * Mappings name landed fields, while discovery shows the source's own names.
 */

function normalizePart(part: string): string {
  let s = part
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
  s = s.replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (!s) return "_";
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export function normalizeName(name: string): string {
  return name.split(".").map(normalizePart).join(".");
}

export function normalizeNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    const base = normalizeName(name);
    let candidate = base;
    for (let i = 2; seen.has(candidate); i += 1) candidate = `${base}_${i}`;
    seen.add(candidate);
    return candidate;
  });
}
