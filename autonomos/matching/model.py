"""The matcher's learned parameters: a pair scorer and a confidence calibrator.

Both are logistic models over a handful of signals. They are fitted offline on data the
project owns (synthetic variants of the ontology and the demo sources, whose correspondence
is known by construction; see :mod:`autonomos.matching.fit`) and stored in
:mod:`autonomos.matching._params` as plain numbers, one set with embeddings and one without.
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
class MatcherModel:
    pair: PairModel
    calibrator: Calibrator
    threshold: float = 0.5  # keep a mapping when its confidence reaches this
    extra: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> MatcherModel:
        pw = d["pair"]["weights"]
        weights = tuple(float(pw.get(n, 0.0)) for n in FEATURES)
        cw = d["calibrator"]["weights"]
        cal = tuple(float(cw.get(n, 0.0)) for n in CAL_FEATURES)
        return cls(
            PairModel(weights, float(d["pair"]["bias"])),
            Calibrator(cal, float(d["calibrator"]["bias"])),
            float(d.get("threshold", 0.5)),
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
            "threshold": self.threshold,
            "extra": self.extra,
        }


def default_model(dense: bool) -> MatcherModel:
    from autonomos.matching import _params

    return MatcherModel.from_dict(_params.DENSE if dense else _params.LEXICAL)


assert len(FEATURES) == NF
