"""The matcher's learned parameters: a pair scorer, a pair calibrator and an entity model.

- pair scorer: logistic over the pair signals (:data:`~autonomos.matching.signals.FEATURES`);
- pair calibrator: logistic over the assigned pair's score and its competition
  (:data:`CAL_FEATURES`): P(the pair is right | the entity is right);
- entity model: a multinomial logit whose options are the ontology's entities (each scored
  from its assignment and what the fields say about the record, :data:`ENTITY_FEATURES`)
  and "no entity fits" (a constant plus what the object's name says, :data:`NONE_FEATURES`).

They are fitted offline on data the project owns (see :mod:`autonomos.matching.fit`): the
scorer on everything, the calibrator and the entity model on decisions replayed for
systems held out of the scorer's fit, so their probabilities hold on unseen systems. The
numbers live in :mod:`autonomos.matching._params`, one set with embeddings, one without.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autonomos.matching.signals import FEATURES, NF, sigmoid

CAL_FEATURES: tuple[str, ...] = (
    "logit",  # the pair scorer's log-odds for the assigned pair
    "row_gap",  # its log-odds minus the source's best other target's (>= 0 usually)
    "col_gap",  # minus the best other source's for the same target
    "row_share",  # log of its share of the source's summed pair probabilities
    "col_share",  # log of its share of the target's summed pair probabilities
    "exact",  # the names are the same words
)
ENTITY_FEATURES: tuple[str, ...] = (
    "kept",  # summed confidence of the pairs that would be kept (>= 0.5)
    "specific",  # the same, each pair weighed by how specific its target is to the entity
    "kept_log",  # log(1 + their number)
    "kept_share",  # their number over the number of source fields
    "prior",  # how much the object's name says this entity (0..1)
    "pk",  # confidence of the pair assigned to the entity's primary key (0: none)
    "best",  # the best pair confidence
    "kind",  # person/organisation evidence of the fields for the entity's kind (-1..1)
    "held",  # 1: the record holds a collection of this entity (so it is not one)
)
# evidence for "no entity fits", beside its constant
NONE_FEATURES: tuple[str, ...] = (
    "unnamed",  # 1 - the strongest prior of the name's words: they name no entity
)


@dataclass(frozen=True)
class PairModel:
    weights: tuple[float, ...]
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x @ np.asarray(self.weights, dtype=np.float32) + self.bias


@dataclass(frozen=True)
class Calibrator:
    weights: tuple[float, ...]
    bias: float

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        return sigmoid(feats @ np.asarray(self.weights, dtype=np.float64) + self.bias)


@dataclass(frozen=True)
class EntityModel:
    weights: tuple[float, ...]  # over ENTITY_FEATURES
    none_bias: float  # the constant of the logit of "no entity fits"
    none_weights: tuple[float, ...] = (0.0,) * len(NONE_FEATURES)

    def logit(self, phi: np.ndarray) -> float:
        return float(phi @ np.asarray(self.weights, dtype=np.float64))

    def none_logit(self, psi: np.ndarray) -> float:
        return self.none_bias + float(psi @ np.asarray(self.none_weights, dtype=np.float64))


# Before an entity model is fitted: the evidence of the assignment plus the object's
# name, and "none" only when almost nothing maps.
DEFAULT_ENTITY = EntityModel((1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0), -2.0)


@dataclass(frozen=True)
class MatcherModel:
    pair: PairModel
    calibrator: Calibrator
    threshold: float = 0.5  # keep a mapping when its confidence reaches this
    entity: EntityModel = DEFAULT_ENTITY
    extra: dict[str, float] = field(default_factory=dict)

    def confidence(self, pair: float, entity: float) -> float:
        """A mapping's confidence: P(pair right | entity right) x P(entity right)."""
        return pair * entity

    @classmethod
    def from_dict(cls, d: dict) -> MatcherModel:
        pw = d["pair"]["weights"]
        weights = tuple(float(pw.get(n, 0.0)) for n in FEATURES)
        cw = d["calibrator"]["weights"]
        cal = tuple(float(cw.get(n, 0.0)) for n in CAL_FEATURES)
        entity = DEFAULT_ENTITY
        if "entity" in d:
            ew = d["entity"]["weights"]
            nw = d["entity"].get("none_weights", {})
            entity = EntityModel(
                tuple(float(ew.get(n, 0.0)) for n in ENTITY_FEATURES),
                float(d["entity"]["none_bias"]),
                tuple(float(nw.get(n, 0.0)) for n in NONE_FEATURES),
            )
        return cls(
            PairModel(weights, float(d["pair"]["bias"])),
            Calibrator(cal, float(d["calibrator"]["bias"])),
            float(d.get("threshold", 0.5)),
            entity,
            dict(d.get("extra", {})),
        )

    def to_dict(self) -> dict:
        return {
            "pair": {
                "weights": dict(zip(FEATURES, self.pair.weights, strict=True)),
                "bias": self.pair.bias,
            },
            "calibrator": {
                "weights": dict(zip(CAL_FEATURES, self.calibrator.weights, strict=True)),
                "bias": self.calibrator.bias,
            },
            "entity": {
                "weights": dict(zip(ENTITY_FEATURES, self.entity.weights, strict=True)),
                "none_bias": self.entity.none_bias,
                "none_weights": dict(zip(NONE_FEATURES, self.entity.none_weights, strict=True)),
            },
            "threshold": self.threshold,
            "extra": self.extra,
        }


def default_model(dense: bool) -> MatcherModel:
    from autonomos.matching import _params

    return MatcherModel.from_dict(_params.DENSE if dense else _params.LEXICAL)


assert len(FEATURES) == NF
