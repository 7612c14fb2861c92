"""The rename model's learned parameters (see :mod:`autonomos.aam.rename_fit`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from autonomos.aam._rename_signals import RENAME_FEATURES


@dataclass(frozen=True)
class RenameModel:
    """A logistic regression over RENAME_FEATURES: P(the pair is a rename)."""

    weights: tuple[float, ...]
    bias: float

    @classmethod
    def from_dict(cls, d: dict) -> RenameModel:
        w = d["weights"]
        return cls(tuple(float(w.get(n, 0.0)) for n in RENAME_FEATURES), float(d["bias"]))

    def to_dict(self) -> dict:
        return {"weights": dict(zip(RENAME_FEATURES, self.weights, strict=True)), "bias": self.bias}


@functools.lru_cache(maxsize=1)
def default_model() -> RenameModel:
    from autonomos.aam import _rename_params

    return RenameModel.from_dict(_rename_params.MODEL)
