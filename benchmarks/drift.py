"""Drift detection on the evaluation cases: the repair agent's detector against a
name-similarity baseline, both scored by the shipped ``score.py``.

    python benchmarks/drift.py [--cases DIR] [--out PRED_DIR] [--verbose]

Writes one ``<id>.pred.json`` per case and detector (the shape ``score.py`` expects),
runs the scorer on each and prints its summaries; the project's summary line is last.

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
    print(f"rename F1: autonomos {f_ours:.3f} vs baseline {f_base:.3f}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
