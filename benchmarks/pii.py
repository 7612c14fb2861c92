"""PII redaction on the evaluation cases, scored by the shipped ``score.py``.

    python benchmarks/pii.py [--cases FILE] [--out DIR] [--by-source]

Runs the platform's redactor (``autonomos.nlp.pii.Redactor``, the code behind
``autonomos pii redact`` and the knowledge base) and a baseline over every case, writes
each one's predictions as JSON lines of ``{"id", "spans"}`` and prints the scorer's report.
To judge generalisation it also scores two halves by id: even ids (the half the
detector's cues were examined on) and odd ids (never looked at while building it).

Baseline: the plain regular expressions a team writes first: e-mail, IPv4, any run of
7-19 digits with separators (phone, card, SSN alike), and pairs of capitalised words.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autonomos.nlp.pii import Redactor

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "pii"
if not EVAL_DIR.exists():
    EVAL_DIR = Path("/work/shared/eval/pii")

_BASE = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("IP_ADDRESS", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("PHONE", re.compile(r"(?<!\w)\+?\d(?:[ ().-]{0,2}\d){6,18}(?!\w)")),
    ("PERSON", re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b")),
]


def baseline(text: str) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for label, rx in _BASE:
        for m in rx.finditer(text):
            if not any(m.start() < s["end"] and s["start"] < m.end() for s in spans):
                spans.append({"start": m.start(), "end": m.end(), "label": label})
    return spans


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("pii_score", EVAL_DIR / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _summary(scorer: Any, cases: list[dict], preds: list[dict], name: str, by_source: bool) -> str:
    res = scorer.score(cases, preds, by_source=by_source)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        scorer.report(res, name)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=Path, default=EVAL_DIR / "cases.jsonl")
    ap.add_argument("--out", type=Path, default=None, help="keep the predictions here")
    ap.add_argument("--by-source", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="print summary lines only")
    a = ap.parse_args(argv)
    cases = [json.loads(line) for line in a.cases.read_text().splitlines() if line.strip()]
    redactor = Redactor()
    redactor.detect("warm up Ada")  # load the gazetteer outside the timing
    started = time.perf_counter()
    ours = [
        {"id": c["id"], "spans": [s.as_dict() for s in redactor.detect(c["text"])]} for c in cases
    ]
    took = time.perf_counter() - started
    base = [{"id": c["id"], "spans": baseline(c["text"])} for c in cases]
    out = a.out or Path(tempfile.mkdtemp(prefix="pii-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    for name, preds in (("autonomos", ours), ("baseline", base)):
        with open(out / f"{name}.jsonl", "w") as f:
            f.writelines(json.dumps(p) + "\n" for p in preds)

    scorer = _scorer()
    even = [c for c in cases if int(c["id"].rsplit("-", 1)[-1]) % 2 == 0]
    odd = [c for c in cases if int(c["id"].rsplit("-", 1)[-1]) % 2 == 1]
    lines = []
    for subset, label in ((cases, "all"), (even, "even ids (examined)"), (odd, "odd ids (unseen)")):
        for name, preds in (("baseline", base), ("autonomos", ours)):
            report = _summary(scorer, subset, preds, f"{name}[{label}]", a.by_source)
            if not a.quiet and subset is cases:
                print(report)
            lines.append(report.strip().splitlines()[-1])
    print(f"redactor: {len(cases)} texts in {took:.2f} s ({len(cases) / took:.0f} texts/s)")
    print(f"predictions in {out}")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
