"""From signals to decisions: pair probabilities, the one-to-one assignment, calibrated
pair confidences and the entity decision (including "no entity fits").

Pure functions of an :class:`Analysis` (everything about one source schema that does not
depend on the fitted parameters) and a :class:`~autonomos.matching.model.MatcherModel`,
so fitting can replay decisions under many models without recomputing signals.

Confidence of a mapping = P(the pair is right | the entity is right) (the pair
calibrator, fitted on systems held out) x P(the entity is right) (the entity model, a
multinomial logit over the entities and "none", also fitted on held-out systems).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from autonomos.matching.crosswalk import match_crosswalk
from autonomos.matching.model import ENTITY_FEATURES, NONE_FEATURES, MatcherModel
from autonomos.matching.signals import FEATURES, PreparedField, sigmoid

MEMORY_WEIGHT = 0.98  # how far an exact remembered approval pushes a pair towards certainty
MIN_ASSIGN_P = 0.02  # pairs below this pair probability are never assigned
KEEP = 0.5  # a pair counts towards its entity's evidence from this pair confidence


def linear_sum_assignment(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's Hungarian solver, imported on first use (scipy.optimize as a whole costs ~1 s
    of start-up; the solver alone a few milliseconds)."""
    try:
        from scipy.optimize._lsap import linear_sum_assignment as lsa
    except ImportError:  # pragma: no cover - other scipy layouts
        from scipy.optimize import linear_sum_assignment as lsa
    return lsa(weight)


@dataclass
class Analysis:
    """A source schema prepared for deciding: signals of every (field, target) pair of
    every entity, the object's name prior and recalled knowledge (memory, crosswalks)."""

    fields: list[PreparedField]
    feats: dict[str, np.ndarray]  # entity -> (n_fields, n_targets, NF)
    targets: dict[str, list[str]]  # entity -> "entity.field" keys, in target order
    pk: dict[str, int]  # entity -> index of its primary-key target
    prior: dict[str, float]  # entity -> 0..1, how much the object's name says it
    specificity: dict[str, np.ndarray]  # entity -> per target, 1 / entities that have it
    recall: dict[tuple[int, str], float] = field(default_factory=dict)  # signed strengths
    transforms: dict[tuple[int, str], str] = field(default_factory=dict)
    kind: dict[str, float] = field(default_factory=dict)  # entity -> person/org evidence
    held: dict[str, float] = field(default_factory=dict)  # entity -> 1: holds a list of it
    named: float | None = None  # how much the name's words name any entity (no embedding)

    @cached_property
    def containers(self) -> np.ndarray:
        """Per source field: a structure whose members the schema lists (see
        :func:`containers`)."""
        return containers(self.fields)


@dataclass
class EntityResult:
    entity: str
    probs: np.ndarray  # (n_src, n_tgt) pair probabilities after memory / LLM
    feats: np.ndarray  # (n_src, n_tgt, NF)
    assigned: dict[int, tuple[int, float]]  # source index -> (target index, pair confidence)
    features: np.ndarray  # ENTITY_FEATURES of this entity's assignment
    memory: np.ndarray | None = None  # (n_src, n_tgt) signed memory strengths
    score: float = 0.0  # the entity model's logit


def recall_crosswalks(analysis: Analysis) -> None:
    """Add the published crosswalk's mappings (if one describes the object) to what the
    analysis recalls, like approvals in the tenant's memory."""
    _, hits = match_crosswalk([f.field.name for f in analysis.fields])
    for i, crossing in hits.items():
        key = (i, crossing.target)
        if abs(analysis.recall.get(key, 0.0)) < crossing.strength:
            analysis.recall[key] = crossing.strength
        if crossing.transform:
            analysis.transforms[key] = crossing.transform


def memory_matrix(analysis: Analysis, entity: str) -> np.ndarray | None:
    keys = {t: j for j, t in enumerate(analysis.targets[entity])}
    hits = [(i, keys[t], s) for (i, t), s in analysis.recall.items() if t in keys]
    if not hits:
        return None
    mem = np.zeros((len(analysis.fields), len(keys)))
    for i, j, s in hits:
        mem[i, j] = s
    return mem


def containers(fields: Sequence[PreparedField]) -> np.ndarray:
    """Per source field, whether it is a structure whose own members are fields of the
    schema (``websites`` beside ``websites.url``): its value is not one attribute, its
    members are the ones to map."""
    names = [pf.field.name for pf in fields]
    parents = {n[:k] for n in names for k, ch in enumerate(n) if ch in "./" and k}
    return np.array([pf.type == "json" and pf.field.name in parents for pf in fields], dtype=bool)


def pair_probabilities(
    model: MatcherModel,
    feats: np.ndarray,
    mem: np.ndarray | None,
    container: np.ndarray | None = None,
) -> np.ndarray:
    """Pair probabilities; a container's pairs are out (probability 0) unless recalled."""
    probs = sigmoid(model.pair.logits(feats)).astype(np.float64)
    if container is not None and container.any():
        probs[container] = 0.0
    if mem is not None:
        probs = np.where(
            mem > 0,
            1 - (1 - probs) * (1 - MEMORY_WEIGHT * mem),
            probs * (1 + MEMORY_WEIGHT * np.minimum(mem, 0)),
        )
    return probs


def _other_max(lg: np.ndarray, axis: int, idx: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per assigned pair, the best log-odds along ``axis`` excluding the pair itself
    (-14 when there is no other)."""
    if lg.shape[axis] < 2:
        return np.full(len(idx), -14.0)
    part = -np.partition(-lg, 1, axis=axis)
    top1 = np.take(part, 0, axis=axis)
    top2 = np.take(part, 1, axis=axis)
    own = lg[idx, other] if axis == 1 else lg[other, idx]
    return np.where(own >= top1[idx], top2[idx], top1[idx])


def calibration_rows(probs: np.ndarray, feats: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """One-to-one assignment maximising the summed pair probability; for each assigned
    pair, the calibrator's features (its log-odds and its margins over the competition)."""
    n, m = probs.shape
    if n == 0 or m == 0:
        return []
    weight = np.where(probs >= MIN_ASSIGN_P, probs, 0.0)
    rows, cols = linear_sum_assignment(-weight)
    keep = weight[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    if not len(rows):
        return []
    lg = np.log(np.clip(probs, 1e-6, 1 - 1e-6)) - np.log(np.clip(1 - probs, 1e-6, 1))
    own = lg[rows, cols]
    x = np.stack(
        [
            own,
            np.clip(own - _other_max(lg, 1, rows, cols), -10, 10),
            np.clip(own - _other_max(lg, 0, cols, rows), -10, 10),
            np.log(probs[rows, cols] / probs[rows].sum(axis=1)),
            np.log(probs[rows, cols] / probs[:, cols].sum(axis=0)),
            feats[rows, cols, FEATURES.index("exact")],
        ],
        axis=1,
    )
    return [(int(i), int(j), x[k]) for k, (i, j) in enumerate(zip(rows, cols, strict=True))]


def assign(
    model: MatcherModel, probs: np.ndarray, feats: np.ndarray, mem: np.ndarray | None
) -> dict[int, tuple[int, float]]:
    """Source index -> (target index, calibrated pair confidence) of the assignment."""
    picks = calibration_rows(probs, feats)
    if not picks:
        return {}
    conf = model.calibrator(np.stack([f for _, _, f in picks]))
    out: dict[int, tuple[int, float]] = {}
    for k, (i, j, _) in enumerate(picks):
        c = float(conf[k])
        if mem is not None and mem[i, j] > 0:
            c = 1 - (1 - c) * (1 - MEMORY_WEIGHT * mem[i, j])
        elif mem is not None and mem[i, j] < 0:
            c *= 1 + MEMORY_WEIGHT * mem[i, j]
        out[i] = (j, c)
    return out


def entity_features(
    assigned: dict[int, tuple[int, float]], analysis: Analysis, entity: str
) -> np.ndarray:
    """What an entity's assignment says about the entity (see ENTITY_FEATURES)."""
    confs = [c for _, c in assigned.values()]
    kept = [c for c in confs if c >= KEEP]
    pk = analysis.pk[entity]
    pk_conf = next((c for j, c in assigned.values() if j == pk), 0.0)
    spec = analysis.specificity[entity]
    prior = analysis.prior.get(entity, 0.0)
    values = {
        "kept": sum(kept),
        "specific": sum(c * spec[j] for j, c in assigned.values() if c >= KEEP),
        "kept_log": float(np.log1p(len(kept))),
        "kept_share": len(kept) / max(1, len(analysis.fields)),
        "prior": prior,
        "pk": pk_conf,
        "best": max(confs, default=0.0),
        "kind": analysis.kind.get(entity, 0.0),
        "held": analysis.held.get(entity, 0.0),
    }
    return np.array([values[n] for n in ENTITY_FEATURES])


def entity_result(model: MatcherModel, analysis: Analysis, entity: str) -> EntityResult:
    feats = analysis.feats[entity]
    mem = memory_matrix(analysis, entity)
    probs = pair_probabilities(model, feats, mem, analysis.containers)
    assigned = assign(model, probs, feats, mem)
    phi = entity_features(assigned, analysis, entity)
    return EntityResult(entity, probs, feats, assigned, phi, mem, model.entity.logit(phi))


def final_confidence(
    model: MatcherModel, res: EntityResult, i: int, j: int, pair: float, p_entity: float
) -> float:
    """A mapping's confidence: its pair confidence times the entity's probability; what
    the tenant approved (or a published crosswalk says) stays near-certain."""
    conf = model.confidence(pair, p_entity)
    mem = res.memory[i, j] if res.memory is not None else 0.0
    if mem > 0:  # the approval names the target, its entity included
        conf = max(1 - (1 - conf) * (1 - MEMORY_WEIGHT * mem), pair)
    return conf


def none_features(analysis: Analysis) -> np.ndarray:
    """What speaks for "no entity fits" (see NONE_FEATURES)."""
    named = analysis.named
    if named is None:
        named = max(analysis.prior.values(), default=0.0)
    values = {"unnamed": 1.0 - named}
    return np.array([values[n] for n in NONE_FEATURES])


def entity_probabilities(
    results: Sequence[EntityResult], model: MatcherModel, analysis: Analysis
) -> np.ndarray:
    """Softmax over the entities and, last, "no entity fits"."""
    z = np.array([r.score for r in results] + [model.entity.none_logit(none_features(analysis))])
    z = np.exp(z - z.max())
    return z / z.sum()


@dataclass
class Decision:
    entity: str | None  # None: no entity fits
    p_entity: float  # probability of that decision
    result: EntityResult | None  # the chosen entity's assignment
    scores: dict[str, float]  # entity -> probability (and "none")


def decide(analysis: Analysis, model: MatcherModel, entity: str | None = None) -> Decision:
    """The entity decision (unless ``entity`` is imposed) and that entity's assignment."""
    results = [entity_result(model, analysis, e) for e in analysis.targets]
    if not results:
        raise ValueError("the ontology has no entities")
    probs = entity_probabilities(results, model, analysis)
    scores = {r.entity: float(p) for r, p in zip(results, probs, strict=False)}
    scores["none"] = float(probs[-1])
    if entity is not None:
        chosen = next(r for r in results if r.entity == entity)
        return Decision(entity, 1.0, chosen, scores)
    best = int(np.argmax(probs))
    if best == len(results):
        return Decision(None, float(probs[best]), None, scores)
    return Decision(results[best].entity, float(probs[best]), results[best], scores)


def mappings(
    analysis: Analysis, decision: Decision, model: MatcherModel, threshold: float
) -> list[tuple[str, str, float]]:
    """(source field, target, confidence) of the pairs kept (confidence >= threshold)."""
    res = decision.result
    if res is None:
        return []
    targets = analysis.targets[res.entity]
    out = []
    for i, (j, c) in res.assigned.items():
        conf = final_confidence(model, res, i, j, c, decision.p_entity)
        if conf >= threshold:
            out.append((analysis.fields[i].field.name, targets[j], conf))
    return out
