"""Drift detection: dev cases, leave-one-system-out over the project's own drift corpus,
and a name-similarity baseline on both.

    python benchmarks/drift.py [--cases DIR] [--out PRED_DIR] [--verbose] [--no-loso] [--misses]

Dev: one ``<id>.pred.json`` per case and detector (the shape ``score.py`` expects), scored
by the shipped scorer. Leave-one-system-out (the figure to improve): over the real
API-version drift in ``autonomos/aam/drift_corpus`` (no system the evaluation keeps
aside), every system's cases are detected by a rename model fitted without that system
(:func:`autonomos.aam.rename_fit.cross_validate`), scored like the evaluation does, with
the reliability diagram of rename confidences. The project's summary line is last.

Baseline: what a data-integration tool without rename detection could bolt on: pair
each removed field with the most similar added field by rapidfuzz's normalised
Levenshtein ratio (>= 0.8, one-to-one, greedy), confidence = the ratio; same-name fields
whose JSON type changed are type changes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autonomos.aam.repair import diff_schemas

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "drift"
if not EVAL_DIR.exists():
    EVAL_DIR = Path("/work/shared/eval/drift")


def predict(case: dict[str, Any]) -> dict[str, Any]:
    return diff_schemas(case["before"]["fields"], case["after"]["fields"])


def baseline(case: dict[str, Any]) -> dict[str, Any]:
    from rapidfuzz.distance import Levenshtein

    def types(doc: dict[str, Any]) -> dict[str, str]:
        out = {}
        for f in doc["fields"]:
            t = f.get("type", "string")
            out[f["name"]] = "|".join(t) if isinstance(t, list) else str(t)
        return out

    before, after = types(case["before"]), types(case["after"])
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    scored = sorted(
        (
            (Levenshtein.normalized_similarity(o.lower(), n.lower()), o, n)
            for o in removed
            for n in added
        ),
        reverse=True,
    )
    renamed: dict[str, str] = {}
    conf: dict[str, float] = {}
    used: set[str] = set()
    for s, o, n in scored:
        if s >= 0.8 and o not in renamed and n not in used:
            renamed[o], conf[o] = n, round(s, 4)
            used.add(n)
    return {
        "added": [n for n in added if n not in used],
        "removed": [o for o in removed if o not in renamed],
        "renamed": renamed,
        "type_changed": {
            n: [before[n], after[n]] for n in before if n in after and before[n] != after[n]
        },
        "rename_confidence": conf,
    }


def loso(misses: bool = False) -> dict[str, Any]:
    """Rename detection on systems the rename model never saw, and the baseline there;
    ``misses``: list the true renames not found and the pairs that are wrong."""
    from autonomos.aam import rename_fit
    from autonomos.aam.drift_eval import rename_pairs, rename_reliability, score_cases

    real = rename_fit.real_cases()
    cv, _ = rename_fit.cross_validate(real, rename_fit.synthetic_cases(20, 0))
    ours = [(c.truth, cv.predictions[c.id]) for c in real]
    base = [
        (c.truth, baseline({"before": {"fields": c.before}, "after": {"fields": c.after}}))
        for c in real
    ]
    out = {"autonomos (map diff)": score_cases(ours), "rapidfuzz baseline": score_cases(base)}
    print(
        f"leave-one-system-out: {len(real)} real API-version changes of {len(cv.folds)} "
        "systems, each detected by a rename model fitted without its system:"
    )
    hdr = (
        f"{'detector':22s} {'P':>6s} {'R':>6s} {'F1':>6s} {'P@0.9':>6s} {'n@0.9':>6s} "
        f"{'cov.9':>6s} {'ECE':>6s} {'type R':>7s} {'type F1':>7s}"
    )
    print(hdr)
    print("-" * len(hdr))
    for name, r in out.items():
        print(
            f"{name:22s} {r['rename_P']:6.3f} {r['rename_R']:6.3f} {r['rename_F1']:6.3f} "
            f"{r['rename_P@0.9']:6.3f} {int(r['rename_n@0.9']):6d} {r['rename_cover@0.9']:6.3f} "
            f"{r['rename_ECE']:6.3f} {r['type_R']:7.3f} {r['type_F1']:7.3f}"
        )
    if misses:
        _print_misses(real, cv.predictions)
    print("  reliability of rename confidences, held-out systems:")
    for b, (n, c, acc) in enumerate(rename_reliability(rename_pairs(ours))):
        if n:
            print(f"    {b / 10:.1f}-{(b + 1) / 10:.1f}: n={n} conf={c:.2f} acc={acc:.2f}")
    return out


def _print_misses(real: list[Any], predictions: dict[str, dict[str, Any]]) -> None:
    missed, wrong = [], []
    for c in real:
        got, conf = predictions[c.id]["renamed"], predictions[c.id].get("rename_confidence", {})
        truth = c.truth["renamed"]
        missed += [(c.id, o, n, got.get(o)) for o, n in truth.items() if got.get(o) != n]
        wrong += [(c.id, o, n, conf.get(o)) for o, n in got.items() if truth.get(o) != n]
    print(f"  renames missed ({len(missed)}): case, old -> true new [predicted new]")
    for cid, o, n, g in missed:
        print(f"    {cid}: {o} -> {n}" + (f" [{g}]" if g else ""))
    print(f"  wrong renames ({len(wrong)}): case, old -> predicted new (confidence)")
    for cid, o, n, c in wrong:
        print(f"    {cid}: {o} -> {n} ({c})")


def _scorer(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("drift_score", path)
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    return scorer


def run(name: str, detector: Any, cases: list[dict[str, Any]], out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for case in cases:
        (out / f"{case['id']}.pred.json").write_text(json.dumps(detector(case), indent=1))
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=EVAL_DIR / "cases")
    ap.add_argument("--scorer", type=Path, default=EVAL_DIR / "score.py")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--no-loso", action="store_true", help="skip leave-one-system-out")
    ap.add_argument(
        "--misses", action="store_true", help="list the renames leave-one-system-out gets wrong"
    )
    args = ap.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="drift-pred-"))
    cases = [json.loads(p.read_text()) for p in sorted(args.cases.glob("*.json"))]
    scorer = _scorer(args.scorer)
    extra = ["--verbose"] if args.verbose else []
    base_ms = run("baseline", baseline, cases, root / "baseline")
    base_out = io.StringIO()
    with contextlib.redirect_stdout(base_out):
        base = scorer.main([str(root / "baseline"), "--cases", str(args.cases)])
    ours_ms = run("autonomos", predict, cases, root / "autonomos")
    print(f"baseline (rapidfuzz name ratio >= 0.8), {base_ms:.0f} ms:")
    print("  " + base_out.getvalue().strip().splitlines()[-1])
    print(f"autonomos (map diff), {ours_ms:.0f} ms for {len(cases)} cases; predictions: {root}")
    result: dict[str, Any] = scorer.main(
        [str(root / "autonomos"), "--cases", str(args.cases), *extra]
    )
    f_ours, f_base = result["renamed"]["f1"], base["renamed"]["f1"]
    print(f"rename F1 (dev): autonomos {f_ours:.3f} vs baseline {f_base:.3f}")
    if not args.no_loso:
        print()
        out = loso(args.misses)
        r, b = out["autonomos (map diff)"], out["rapidfuzz baseline"]
        print(
            f"renames, leave-one-system-out: F1={r['rename_F1']:.3f} P@0.9={r['rename_P@0.9']:.3f} "
            f"cover@0.9={r['rename_cover@0.9']:.3f} ECE={r['rename_ECE']:.3f} "
            f"type-change recall={r['type_R']:.3f} vs baseline F1={b['rename_F1']:.3f}"
        )
        result["loso"] = out
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
