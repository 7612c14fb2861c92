"""Fit the rename model on drift the project owns, calibrated on systems held out.

    python -m autonomos.aam.rename_fit [--per-schema 6] [--seed 0] [--write]

Data: real API-version drift (``drift_corpus/<system>.json``: schema versions from
singer-io taps' histories and vendors' documented migrations, renames labelled by hand;
no system the evaluation keeps aside) and synthetic drift of real field lists
(:mod:`autonomos.aam._drift_synth`). Every candidate pair the detector considers is a row:
its features (:mod:`autonomos.aam._rename_signals`) and whether it is a true rename.

Leave-one-system-out over the real systems: the scorer is fitted on everything else and
drift detection is replayed on the held-out system (:func:`cross_validate`, which
``benchmarks/drift.py`` reports with the reliability of the confidences: on held-out
systems the scorer's probabilities are calibrated as they are, so no second calibration
stage is fitted). The shipped scorer is fitted on everything; ``--write`` stores it in
``autonomos/aam/_rename_params.py``.
"""

from __future__ import annotations

import argparse
import json
import pprint
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autonomos.aam._drift_synth import generate
from autonomos.aam._rename import placed, schema_vocabulary, scored_pairs
from autonomos.aam._rename_model import RenameModel
from autonomos.aam._rename_patterns import FieldView
from autonomos.aam._rename_signals import RENAME_FEATURES, features
from autonomos.aam.drift import _views
from autonomos.aam.repair.diff import diff_schemas
from autonomos.aam.schema_io import load_schema
from autonomos.common.text import normalize_names

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "drift_corpus"
SCHEMAS = HERE.parent / "matching" / "corpus"  # real field lists to drift synthetically
REAL_SHARE = 0.5  # of the scorer's training mass


@dataclass
class Case:
    id: str
    system: str
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    renamed: dict[str, str]  # raw old name -> raw new name
    truth: dict[str, Any] = field(default_factory=dict)  # the full truth, real cases only


def real_cases() -> list[Case]:
    out = []
    for path in sorted(CORPUS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for c in doc["cases"]:
            out.append(
                Case(
                    c["id"],
                    doc["system"],
                    c["before"]["fields"],
                    c["after"]["fields"],
                    c["truth"]["renamed"],
                    c["truth"],
                )
            )
    return out


def synthetic_cases(per_schema: int, seed: int) -> list[Case]:
    schemas = []
    for path in sorted(SCHEMAS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for sc in doc["schemas"]:
            fields = [
                {k: f[k] for k in ("name", "type", "description") if f.get(k)} for f in sc["fields"]
            ]
            schemas.append((doc["system"], sc["object"], fields))
    return [
        Case(f"synthetic-{k}", "", c.before, c.after, c.renamed)
        for k, c in enumerate(generate(schemas, per_schema, seed))
    ]


@dataclass
class Rows:
    """Candidate pairs of one case: features and labels, and what rescoring needs."""

    case: Case
    removed: list[FieldView]
    added: list[FieldView]
    vocab: frozenset[str]
    truth: dict[str, str]  # normalised old path -> normalised new path
    x: np.ndarray
    y: np.ndarray


def _sides(
    case: Case,
) -> tuple[list[FieldView], list[FieldView], dict[str, str], frozenset[str]]:
    """FieldViews of the removed and added fields (normalised names, as detection sees
    them), the true renames in normalised names, and the old schema's words."""
    bn = dict(zip(normalize_names(f["name"] for f in case.before), case.before, strict=True))
    an = dict(zip(normalize_names(f["name"] for f in case.after), case.after, strict=True))
    before = load_schema({"fields": [{**f, "name": n} for n, f in bn.items()]})
    after = load_schema({"fields": [{**f, "name": n} for n, f in an.items()]})
    values: dict[str, Sequence[Any]] = {n: f.get("samples") or () for n, f in {**bn, **an}.items()}

    def samples(path: str) -> Sequence[Any]:
        return values.get(path, ())

    ov, nv = placed(list(_views(before, samples).values()), list(_views(after, samples).values()))
    removed = [ov[p] for p in bn if p not in an]
    added = [nv[p] for p in an if p not in bn]
    raw_b = {f["name"]: n for n, f in bn.items()}
    raw_a = {f["name"]: n for n, f in an.items()}
    truth = {raw_b[o]: raw_a[n] for o, n in case.renamed.items() if o in raw_b and n in raw_a}
    return removed, added, truth, schema_vocabulary(bn)


def case_rows(case: Case, model: RenameModel) -> Rows:
    removed, added, truth, vocab = _sides(case)
    pairs = [s for s in scored_pairs(removed, added, vocab, model) if s.score > 0]
    pairs = [s for s in pairs if s.pattern != "inverted"]  # a rule, not the model, scores these
    x = np.array([features(s.old, s.new, s.pattern, s.base) for s in pairs]).reshape(
        len(pairs), len(RENAME_FEATURES)
    )
    y = np.array([int(truth.get(s.old.path) == s.new.path) for s in pairs])
    return Rows(case, removed, added, vocab, truth, x, y)


def _newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    v = np.zeros(xb.shape[1])
    for _ in range(60):
        p = 1 / (1 + np.exp(-np.clip(xb @ v, -35, 35)))
        grad = xb.T @ (w * (p - y)) + reg * v
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        v -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return v[:-1], float(v[-1])


def fit_scorer(rows: Sequence[Rows], real_share: float = REAL_SHARE) -> RenameModel:
    real = [r for r in rows if r.case.system]
    syn = [r for r in rows if not r.case.system]
    n_real = sum(len(r.y) for r in real) or 1
    n_syn = sum(len(r.y) for r in syn) or 1
    total = n_real + n_syn
    xs, ys, ws = [], [], []
    for r in rows:
        share = real_share / n_real if r.case.system else (1 - real_share) / n_syn
        xs.append(r.x)
        ys.append(r.y)
        ws.append(np.full(len(r.y), share * total))
    w, b = _newton(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), l2=1.0)
    return RenameModel(tuple(float(v) for v in w), b)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def predict(case: Case, model: RenameModel) -> dict[str, Any]:
    """The drift detector's answer for a case under ``model`` (what ``map diff`` prints)."""
    return diff_schemas(case.before, case.after, rename_model=model)


@dataclass
class CrossVal:
    folds: list[str]
    models: dict[str, RenameModel]
    predictions: dict[str, dict[str, Any]]  # case id -> prediction


def cross_validate(real: list[Case], synthetic: list[Case]) -> tuple[CrossVal, RenameModel]:
    """Leave-one-system-out over ``real``; returns it and the model fitted on everything."""
    base = RenameModel((1.0,) + (0.0,) * (len(RENAME_FEATURES) - 1), 0.0)
    syn_rows = [case_rows(c, base) for c in synthetic]
    real_rows = [case_rows(c, base) for c in real]
    folds = sorted({c.system for c in real})
    cv = CrossVal(folds, {}, {})
    for k in folds:
        model = fit_scorer(syn_rows + [r for r in real_rows if r.case.system != k])
        cv.models[k] = model
        for c in (c for c in real if c.system == k):
            cv.predictions[c.id] = predict(c, model)
    return cv, fit_scorer(syn_rows + real_rows)


def write_params(model: RenameModel) -> None:
    path = HERE / "_rename_params.py"
    d = model.to_dict()
    d = {"weights": {k: round(v, 4) for k, v in d["weights"].items()}, "bias": round(d["bias"], 4)}
    path.write_text(
        '"""Fitted rename model (generated by ``python -m autonomos.aam.rename_fit'
        ' --write``)."""\n\n'
        f"MODEL = {pprint.pformat(d, width=96, sort_dicts=False)}\n",
        encoding="utf-8",
    )
    print(f"wrote {path}", file=sys.stderr)


def _iter_scores(cv: CrossVal, real: list[Case]) -> Iterator[tuple[Case, dict[str, Any]]]:
    for c in real:
        yield c, cv.predictions[c.id]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--per-schema", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    real = real_cases()
    synthetic = synthetic_cases(a.per_schema, a.seed)
    cv, model = cross_validate(real, synthetic)
    from autonomos.aam.drift_eval import score_cases

    res = score_cases([(c.truth, p) for c, p in _iter_scores(cv, real)])
    print(
        f"{len(real)} real cases over {len(cv.folds)} systems, {len(synthetic)} synthetic; "
        f"leave-one-system-out: " + " ".join(f"{k}={v:.3f}" for k, v in res.items()),
        file=sys.stderr,
    )
    if a.write:
        write_params(model)


if __name__ == "__main__":
    main()
