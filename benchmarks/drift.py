"""Run every drift evaluation case through ``detect_drift`` and score it.

    python benchmarks/drift.py [--cases DIR] [--out PRED_DIR] [--verbose]

Writes one ``<id>.pred.json`` per case (the shape ``score.py`` expects), then runs the
shipped scorer and prints its summary.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from autonomos.aam.drift import detect_drift
from autonomos.aam.schema_io import load_schema

EVAL_DIR = Path("/work/shared/eval/drift")


def predict(case: dict[str, Any]) -> dict[str, Any]:
    before = load_schema(case["before"], case.get("object", "stream"))
    after = load_schema(case["after"], case.get("object", "stream"))
    # report the source's own spellings: map normalised paths back to the given names
    names = {**_names(case["before"]), **_names(case["after"])}
    src_type = {f.name: f.source_type for f in (*before.fields, *after.fields)}
    pred: dict[str, Any] = {
        "added": [],
        "removed": [],
        "renamed": {},
        "type_changed": {},
        "rename_confidence": {},
    }
    for c in detect_drift(before, after):
        if c.kind == "added":
            pred["added"].append(names[c.path])
        elif c.kind == "removed":
            pred["removed"].append(names[c.path])
        elif c.kind == "type_changed":
            n = names[c.path]
            pred["type_changed"][n] = [c.old_source_type or src_type.get(n), c.new_source_type]
        elif c.kind == "renamed" and c.old_path and c.new_path:
            old = names[c.old_path]
            pred["renamed"][old] = names[c.new_path]
            pred["rename_confidence"][old] = c.confidence
    return pred


def _names(doc: dict[str, Any]) -> dict[str, str]:
    from autonomos.aam.normalize import normalize_name

    return {normalize_name(f["name"]): f["name"] for f in doc["fields"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=EVAL_DIR / "cases")
    ap.add_argument("--scorer", type=Path, default=EVAL_DIR / "score.py")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="drift-pred-"))
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.cases.glob("*.json")):
        case = json.loads(path.read_text())
        (out / f"{case['id']}.pred.json").write_text(json.dumps(predict(case), indent=1))
    spec = importlib.util.spec_from_file_location("drift_score", args.scorer)
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    scorer_args = [str(out), "--cases", str(args.cases)] + (["--verbose"] if args.verbose else [])
    print(f"predictions: {out}")
    result: dict[str, Any] = scorer.main(scorer_args)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
