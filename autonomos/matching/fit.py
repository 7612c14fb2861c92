"""Fit the matcher's pair scorer and confidence calibrator on data the project owns.

    python -m autonomos.matching.fit [--per-entity 60] [--seed 0] [--no-dense] [--write]

Training data: synthetic schemas generated from the ontology (:mod:`~autonomos.matching.synth`)
and realistic schemas the project owns (:mod:`~autonomos.matching.training_data`: the demo
sources, known by construction, and well-known systems' schemas labelled by the project).
Evaluation sets are never read. The pair scorer is an L2-regularised logistic regression over
the signals of every (source field, field of the true entity) pair; the calibrator a
monotone logistic regression over the assigned pairs' score and competition. Both are checked
by two-fold cross-validation (half the synthetic and half the realistic schemas each way),
then refitted on everything. ``--write`` stores the result in ``autonomos/matching/_params.py``.
"""

from __future__ import annotations

import argparse
import pprint
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from autonomos.matching.matcher import Matcher
from autonomos.matching.model import CAL_FEATURES, Calibrator, MatcherModel, PairModel
from autonomos.matching.signals import FEATURES, NF, object_tokens, pair_features, prepare_source
from autonomos.matching.synth import Generator, LabelledSchema
from autonomos.matching.training_data import IGNORE, demo_schemas, known_schemas
from autonomos.ontology.loader import load_ontology

# calibrator inputs where more evidence must never mean less confidence
MONOTONE = tuple(
    CAL_FEATURES.index(n) for n in ("logit", "row_gap", "col_gap", "row_share", "col_share")
)
# A source field maps to at most one target: when its pair probabilities are spread over
# several near-equal candidates, the one picked is right about its share of the time.
# Synthetic schemas rarely show such ties, so this prior is imposed rather than learned.
FLOOR = {CAL_FEATURES.index("row_share"): 0.7}
# Share of the training mass given to the realistic schemas (demo sources, known systems):
# synthetic data teaches which signals matter, realistic data anchors how often they are right.
REAL_SHARE_PAIR = 0.25
REAL_SHARE_CAL = 0.5


@dataclass
class Example:
    labelled: LabelledSchema
    feats: np.ndarray  # (n, m, NF) for the true entity
    labels: np.ndarray  # (n, m): 1 true, 0 false, -1 ignored row
    targets: list[str]


def featurise(matcher: Matcher, items: list[LabelledSchema]) -> list[Example]:
    index = matcher.index
    out = []
    all_texts: list[str] = []
    prepared = []
    for ls in items:
        fields = prepare_source(ls.schema)
        prepared.append(fields)
        all_texts.extend(f.text for f in fields)
    if matcher.embedder is not None:
        matcher._targets_dense()
        for k in range(0, len(all_texts), 2048):
            matcher._encode(all_texts[k : k + 2048])
    for ls, fields in zip(items, prepared, strict=True):
        bm25 = index.bm25_scores([f.query for f in fields])
        dense = None
        if matcher.embedder is not None:
            tv, _ = matcher._targets_dense()
            dense = matcher._encode([f.text for f in fields]) @ tv.T
        feats = pair_features(index, fields, ls.entity, bm25, dense, object_tokens(ls.schema))
        targets = [t.key for t in index.targets[index.slices[ls.entity]]]
        labels = np.zeros(feats.shape[:2], dtype=np.int8)
        for i, f in enumerate(fields):
            t = ls.truth.get(f.field.name)
            if t == IGNORE:
                labels[i, :] = -1
            elif t:
                labels[i, targets.index(t)] = 1
        out.append(Example(ls, feats, labels, targets))
    return out


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
    nonneg: tuple[int, ...] = (),
    floor: dict[int, float] | None = None,
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression; weights listed in ``nonneg`` are kept >= 0 (or
    >= their ``floor``)."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    w0 = np.zeros(x.shape[1] + 1)
    sw = np.ones(len(y)) if sample_weight is None else sample_weight

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w[:-1] + w[-1]
        p = 1 / (1 + np.exp(-np.clip(z, -35, 35)))
        ll = -np.sum(sw * (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))
        reg = 0.5 * l2 * np.sum(w[:-1] ** 2)
        g = sw * (p - y)
        grad = np.concatenate([x.T @ g + l2 * w[:-1], [g.sum()]])
        return -ll + reg, grad

    floor = floor or {}
    bounds = [(floor.get(k, 0.0), None) if k in nonneg else (None, None) for k in range(x.shape[1])]
    w0 = np.array([max(v, floor.get(k, v)) for k, v in enumerate(w0[:-1])] + [0.0])
    res = minimize(loss, w0, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)])
    return res.x[:-1], float(res.x[-1])


def fit_pair(examples: list[Example], weights: np.ndarray | None = None) -> PairModel:
    xs, ys, ws = [], [], []
    for k, ex in enumerate(examples):
        keep = ex.labels >= 0
        xs.append(ex.feats[keep])
        ys.append(ex.labels[keep])
        ws.append(np.full(int(keep.sum()), 1.0 if weights is None else weights[k]))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    w, b = fit_logistic(x, y, l2=2.0, sample_weight=np.concatenate(ws))
    return PairModel(tuple(float(v) for v in w), b)


def assigned_rows(
    matcher: Matcher, examples: list[Example], weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibration features, correctness and weight of every assigned pair (ignored rows
    left out)."""
    feats, ok, ws = [], [], []
    for k, ex in enumerate(examples):
        probs = 1 / (1 + np.exp(-matcher.model.pair.logits(ex.feats).astype(np.float64)))
        rows = matcher.calibration_rows(probs, ex.feats)
        for i, j, f in rows:
            if ex.labels[i, 0] == -1:
                continue
            feats.append(f)
            ok.append(int(ex.labels[i, j] == 1))
            ws.append(1.0 if weights is None else weights[k])
    return np.asarray(feats), np.asarray(ok), np.asarray(ws)


def ece(conf: np.ndarray, ok: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() / len(conf) * abs(ok[sel].mean() - conf[sel].mean())
    return total


def report(name: str, conf: np.ndarray, ok: np.ndarray, n_true: int, thr: float) -> dict:
    kept = conf >= thr
    tp = int((ok[kept] == 1).sum())
    fp = int((ok[kept] == 0).sum())
    hi = conf >= 0.9
    p = tp / max(1, tp + fp)
    r = tp / max(1, n_true)
    res = {
        "P": p,
        "R": r,
        "F1": 2 * p * r / max(1e-9, p + r),
        "P@0.9": float(ok[hi].mean()) if hi.any() else 0.0,
        "cover@0.9": int(ok[hi].sum()) / max(1, n_true),
        "ECE": ece(conf[kept], ok[kept]),
    }
    print(f"{name:28s} " + " ".join(f"{k}={v:.3f}" for k, v in res.items()))
    return res


def n_true(examples: list[Example]) -> int:
    return int(sum((ex.labels == 1).sum() for ex in examples))


def _weights(examples: list[Example], real: set[int], share: float) -> np.ndarray | None:
    """Per-example weights giving the real-world examples ``share`` of the total mass."""
    n_real = sum(1 for k in range(len(examples)) if k in real)
    if not n_real or n_real == len(examples):
        return None
    w_real = share / n_real
    w_syn = (1 - share) / (len(examples) - n_real)
    w = np.array([w_real if k in real else w_syn for k in range(len(examples))])
    return w / w.mean()


def fit_models(
    train: list[Example], real: set[int], matcher: Matcher, threshold: float = 0.5
) -> MatcherModel:
    ex_w = _weights(train, real, REAL_SHARE_PAIR)
    pair = fit_pair(train, ex_w)
    matcher.model = MatcherModel(pair, Calibrator((1.0,) + (0.0,) * (len(CAL_FEATURES) - 1), 0.0))
    ex_w = _weights(train, real, REAL_SHARE_CAL)
    cx, cy, cw = assigned_rows(matcher, train, ex_w)
    w, b = fit_logistic(cx, cy, l2=1.0, sample_weight=cw, nonneg=MONOTONE, floor=FLOOR)
    return MatcherModel(pair, Calibrator(tuple(float(v) for v in w), b), threshold)


def run(per_entity: int, seed: int, dense: bool) -> MatcherModel:
    onto = load_ontology()
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    gen = Generator(onto, seed=seed)
    data = list(gen.generate(per_entity))
    realistic = (
        demo_schemas(rng, with_samples=True)
        + demo_schemas(rng, with_samples=False)
        + known_schemas()
    )
    rng.shuffle(realistic)
    embedder = None
    if dense:
        from autonomos.models.embedder import get_embedder

        embedder = get_embedder()
    matcher = Matcher(onto, embedder=embedder)
    t0 = time.time()
    syn = featurise(matcher, data)
    real = featurise(matcher, realistic)
    print(
        f"featurised {len(syn)} synthetic + {len(real)} realistic schemas in "
        f"{time.time() - t0:.1f}s",
        file=sys.stderr,
    )
    # two folds: fit on half the synthetic and half the realistic schemas, test on the rest
    hs, hr = len(syn) // 2, len(real) // 2
    folds = [
        (syn[:hs] + real[:hr], syn[hs:], real[hr:]),
        (syn[hs:] + real[hr:], syn[:hs], real[:hr]),
    ]
    rows: dict[str, list[np.ndarray]] = {"sx": [], "sy": [], "rx": [], "ry": []}
    n_syn_true = n_real_true = 0
    for train, syn_test, real_test in folds:
        real_idx = {k for k, ex in enumerate(train) if any(ex is r for r in real)}
        model = fit_models(train, real_idx, matcher)
        matcher.model = model
        sx, sy, _ = assigned_rows(matcher, syn_test)
        rx, ry, _ = assigned_rows(matcher, real_test)
        rows["sx"].append(model.calibrator(sx))
        rows["sy"].append(sy)
        rows["rx"].append(model.calibrator(rx))
        rows["ry"].append(ry)
        n_syn_true += n_true(syn_test)
        n_real_true += n_true(real_test)
    sc, sy = np.concatenate(rows["sx"]), np.concatenate(rows["sy"])
    rc, ry = np.concatenate(rows["rx"]), np.concatenate(rows["ry"])
    best = (0.0, 0.5)
    for thr in np.arange(0.3, 0.71, 0.05):  # best F1, synthetic and realistic counted equally
        f1s = []
        for c, y, nt in ((sc, sy, n_syn_true), (rc, ry, n_real_true)):
            tp = int((y[c >= thr] == 1).sum())
            p, r = tp / max(1, int((c >= thr).sum())), tp / max(1, nt)
            f1s.append(2 * p * r / max(1e-9, p + r))
        if np.mean(f1s) > best[0] + 1e-9:
            best = (float(np.mean(f1s)), float(thr))
    threshold = round(best[1], 2)
    report("held-out synthetic", sc, sy, n_syn_true, threshold)
    report("held-out realistic", rc, ry, n_real_true, threshold)
    # the shipped parameters: everything
    everything = syn + real
    final = fit_models(everything, set(range(len(syn), len(everything))), matcher, threshold)
    print(
        "pair weights:",
        {k: round(v, 2) for k, v in zip(FEATURES, final.pair.weights, strict=True)},
        "bias",
        round(final.pair.bias, 2),
        file=sys.stderr,
    )
    print(
        "calibrator:",
        {k: round(v, 2) for k, v in zip(CAL_FEATURES, final.calibrator.weights, strict=True)},
        "bias",
        round(final.calibrator.bias, 2),
        "threshold",
        final.threshold,
        file=sys.stderr,
    )
    return final


def write_params(lexical: MatcherModel | None, dense: MatcherModel | None) -> None:
    path = Path(__file__).with_name("_params.py")
    from autonomos.matching import _params

    lex = lexical.to_dict() if lexical else _params.LEXICAL
    den = dense.to_dict() if dense else _params.DENSE
    text = (
        '"""Fitted matcher parameters (generated by ``python -m autonomos.matching.fit'
        ' --write``)."""\n\n'
        f"LEXICAL = {pprint.pformat(_round(lex), width=96, sort_dicts=False)}\n"
        f"DENSE = {pprint.pformat(_round(den), width=96, sort_dicts=False)}\n"
    )
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


def _round(d: object) -> object:
    if isinstance(d, dict):
        return {k: _round(v) for k, v in d.items()}
    if isinstance(d, float):
        return round(d, 4)
    return d


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-entity", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-dense", action="store_true")
    ap.add_argument("--no-lexical", action="store_true")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    lex = None if a.no_lexical else run(a.per_entity, a.seed, dense=False)
    den = None if a.no_dense else run(a.per_entity, a.seed, dense=True)
    if a.write:
        write_params(lex, den)


assert NF == len(FEATURES)

if __name__ == "__main__":
    main()
