"""Fitting primitives: rows from analysed labelled schemas, and the three models.

An :class:`Item` is a labelled schema with its :class:`~autonomos.matching.decide.Analysis`
(signals computed once). From items come the pair scorer's rows (every pair of the true
entity), the calibrator's rows (assigned pairs, entity imposed, right or wrong) and the
entity model's rows (each entity's assignment features, and which option is right). The
pair scorer and calibrator are L2-regularised logistic regressions; the entity model a
multinomial logit with one weight vector shared by all entities plus a logit for "none".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from autonomos.matching.decide import (
    Analysis,
    assign,
    calibration_rows,
    entity_features,
    memory_matrix,
    none_features,
    pair_probabilities,
)
from autonomos.matching.model import (
    CAL_FEATURES,
    ENTITY_FEATURES,
    NONE_FEATURES,
    Calibrator,
    EntityModel,
    MatcherModel,
    PairModel,
)
from autonomos.matching.synth import LabelledSchema

IGNORE = "?"
# calibrator inputs where more evidence must never mean less confidence
MONOTONE = tuple(
    CAL_FEATURES.index(n) for n in ("logit", "row_gap", "col_gap", "row_share", "col_share")
)
# entity evidence that must never count against the entity, and evidence that must never
# count for it
ENTITY_AGAINST = (ENTITY_FEATURES.index("held"),)
ENTITY_MONOTONE = tuple(k for k in range(len(ENTITY_FEATURES)) if k not in ENTITY_AGAINST)
IDENTITY = Calibrator((1.0,) + (0.0,) * (len(CAL_FEATURES) - 1), 0.0)
# L2 penalty of the entity model, lexical and with embeddings: of 0.01, 0.03, 0.1, 0.3 and 1,
# the one whose held-out entity decisions had the best log-loss (leave-one-system-out;
# benchmarks/RESULTS.md, matching). 0.3 shrank the evidence so far that right decisions on
# ambiguous objects (``customers``: a person or an organisation?) stayed at p 0.81-0.89,
# and their mappings under 0.9.
ENTITY_L2 = 0.1
DENSE_ENTITY_L2 = 0.01


@dataclass
class Item:
    labelled: LabelledSchema
    analysis: Analysis
    fold: str  # the system it comes from ("" for synthetic schemas: always trained on)
    weight: float = 1.0

    @property
    def entity(self) -> str | None:
        return self.labelled.entity

    def labels(self) -> np.ndarray:
        """(n_fields, n_targets) for the true entity: 1 true, 0 false, -1 ignored row."""
        assert self.entity is not None
        targets = self.analysis.targets[self.entity]
        out = np.zeros((len(self.analysis.fields), len(targets)), dtype=np.int8)
        for i, f in enumerate(self.analysis.fields):
            t = self.labelled.truth.get(f.field.name)
            if t == IGNORE:
                out[i, :] = -1
            elif t:
                out[i, targets.index(t)] = 1
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
    sw = np.ones(len(y)) if sample_weight is None else sample_weight

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w[:-1] + w[-1]
        p = 1 / (1 + np.exp(-np.clip(z, -35, 35)))
        ll = -np.sum(sw * (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))
        g = sw * (p - y)
        grad = np.concatenate([x.T @ g + l2 * w[:-1], [g.sum()]])
        return -ll + 0.5 * l2 * float(np.sum(w[:-1] ** 2)), grad

    if not nonneg:
        return _newton(x, y, sw, l2)
    floor = floor or {}
    bounds = [(floor.get(k, 0.0), None) if k in nonneg else (None, None) for k in range(x.shape[1])]
    w0 = np.array([floor.get(k, 0.0) for k in range(x.shape[1])] + [0.0])
    res = minimize(loss, w0, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)])
    return res.x[:-1], float(res.x[-1])


def _newton(
    x: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float, iters: int = 50
) -> tuple[np.ndarray, float]:
    """Unconstrained L2 logistic regression by Newton's method (few, exact steps)."""
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    w = np.zeros(xb.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -35, 35)))
        grad = xb.T @ (sw * (p - y)) + reg * w
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return w[:-1], float(w[-1])


# ---------------------------------------------------------------- pair scorer


def pair_rows(items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signals, label and weight of every pair of every item's true entity."""
    xs, ys, ws = [], [], []
    for it in items:
        if it.entity is None:
            continue
        labels = it.labels()
        keep = labels >= 0
        xs.append(it.analysis.feats[it.entity][keep])
        ys.append(labels[keep])
        ws.append(np.full(int(keep.sum()), it.weight))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def compress(
    x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identical (signals, label) rows merged, their weights summed: most pairs share
    nothing and look alike, so the fit gets ~20x faster and stays exact."""
    rows = np.ascontiguousarray(
        np.concatenate([x.astype(np.float32), y[:, None].astype(np.float32)], axis=1)
    )
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=w, minlength=len(first))
    return rows[first, :-1], rows[first, -1], weight


def fit_pair(items: Sequence[Item], l2: float = 2.0) -> PairModel:
    x, y, w = compress(*pair_rows(items))
    weights, bias = fit_logistic(x, y, l2=l2, sample_weight=w)
    return PairModel(tuple(float(v) for v in weights), bias)


# ---------------------------------------------------------------- calibrator


def calibrator_rows(pair: PairModel, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
    """Calibration features and correctness of every assigned pair, entity imposed (pairs
    of ignored fields left out)."""
    model = MatcherModel(pair, IDENTITY)
    feats, ok = [], []
    for it in items:
        if it.entity is None:
            continue
        labels = it.labels()
        x = it.analysis.feats[it.entity]
        mem = memory_matrix(it.analysis, it.entity)
        probs = pair_probabilities(model, x, mem, it.analysis.containers)
        for i, j, f in calibration_rows(probs, x):
            if labels[i, 0] != -1:
                feats.append(f)
                ok.append(int(labels[i, j] == 1))
    if not feats:
        return np.zeros((0, len(CAL_FEATURES))), np.zeros(0)
    return np.asarray(feats), np.asarray(ok)


def fit_calibrator(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> Calibrator:
    w, b = fit_logistic(x, y, l2=l2, nonneg=MONOTONE)
    return Calibrator(tuple(float(v) for v in w), b)


# ---------------------------------------------------------------- entity model


EntityRow = tuple[np.ndarray, np.ndarray, int, float]


def entity_rows(model: MatcherModel, items: Sequence[Item]) -> list[EntityRow]:
    """Per item: the (n_entities, ENTITY_FEATURES) matrix, the NONE_FEATURES vector, the
    index of the right option (n_entities for "no entity fits") and the item's weight."""
    out = []
    for it in items:
        a = it.analysis
        ents = list(a.targets)
        phi = []
        for ent in ents:
            x = a.feats[ent]
            mem = memory_matrix(a, ent)
            assigned = assign(model, pair_probabilities(model, x, mem, a.containers), x, mem)
            phi.append(entity_features(assigned, a, ent))
        label = ents.index(it.entity) if it.entity is not None else len(ents)
        out.append((np.asarray(phi), none_features(a), label, it.weight))
    return out


def fit_entity(rows: Sequence[EntityRow], l2: float = ENTITY_L2) -> EntityModel:
    """Multinomial logit: z_e = w . phi_e for each entity, z_none = b + v . psi."""
    nf, nn = len(ENTITY_FEATURES), len(NONE_FEATURES)
    if not rows:
        raise ValueError("no entity rows to fit")
    phi = np.stack([r[0] for r in rows])  # (R, E, F)
    psi = np.stack([r[1] for r in rows]).reshape(len(rows), nn)  # (R, N)
    label = np.array([r[2] for r in rows])
    weight = np.array([r[3] for r in rows], dtype=np.float64)
    onehot = np.zeros((len(rows), phi.shape[1] + 1))
    onehot[np.arange(len(rows)), label] = 1.0

    def loss(v: np.ndarray) -> tuple[float, np.ndarray]:
        w, b, u = v[:nf], v[nf], v[nf + 1 :]
        z = np.concatenate([phi @ w, (b + psi @ u)[:, None]], axis=1)
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total = -float((weight * (onehot * logp).sum(axis=1)).sum())
        d = weight[:, None] * (np.exp(logp) - onehot)
        grad = np.concatenate(
            [np.einsum("re,ref->f", d[:, :-1], phi), [d[:, -1].sum()], psi.T @ d[:, -1]]
        )
        total += 0.5 * l2 * float(np.sum(w**2) + np.sum(u**2))
        grad[:nf] += l2 * w
        grad[nf + 1 :] += l2 * u
        return total, grad

    bounds: list[tuple[float | None, float | None]] = [
        (0.0, None) if k in ENTITY_MONOTONE else (None, 0.0) for k in range(nf)
    ]
    res = minimize(
        loss,
        np.zeros(nf + 1 + nn),
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None), *[(None, None)] * nn],
    )
    return EntityModel(
        tuple(float(x) for x in res.x[:nf]),
        float(res.x[nf]),
        tuple(float(x) for x in res.x[nf + 1 :]),
    )
