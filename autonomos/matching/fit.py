"""Fit the matcher on data the project owns, calibrated on systems held out.

    python -m autonomos.matching.fit [--per-entity 60] [--seed 0] [--no-dense] [--no-lexical]
                                     [--write]

Data: synthetic schemas generated from the ontology (:mod:`~autonomos.matching.synth`),
the demo sources and the labelled corpus of real systems' schemas
(:mod:`~autonomos.matching.training_data`). Evaluation sets are never read.

Leave-one-system-out: for every real system, the pair scorer is fitted on everything
else (synthetic schemas always included) and the system's objects are replayed under it.
The calibrator is fitted on those out-of-fold assignments, and the entity model on the
out-of-fold entity decisions (each fold's decisions use a calibrator fitted without that
fold), so that a confidence of 0.9 means 9 in 10 on a system the scorer has not seen. The
shipped pair scorer is then fitted on everything; the threshold is the one with the best
out-of-fold F1. ``--write`` stores the result in ``autonomos/matching/_params.py``.
:func:`cross_validate` is also what ``benchmarks/matching.py`` reports.
"""

from __future__ import annotations

import argparse
import pprint
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autonomos.matching.decide import decide, mappings
from autonomos.matching.evaluate import Scored, score
from autonomos.matching.learn import (
    DENSE_ENTITY_L2,
    ENTITY_L2,
    EntityRow,
    Item,
    calibrator_rows,
    entity_rows,
    fit_calibrator,
    fit_entity,
    fit_pair,
)
from autonomos.matching.matcher import Matcher
from autonomos.matching.model import CAL_FEATURES, ENTITY_FEATURES, MatcherModel
from autonomos.matching.signals import FEATURES
from autonomos.matching.synth import Generator, LabelledSchema
from autonomos.matching.training_data import corpus_schemas, demo_schemas
from autonomos.ontology.loader import load_ontology

# Share of the pair scorer's training mass given to real schemas (demo sources, corpus):
# synthetic data teaches which signals matter, real data how they look in the wild.
REAL_SHARE = 0.5
# Weight of the held-out synthetic objects in the entity model, relative to the real ones.
EXTRA_SHARE = 0.5
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.3, 0.81, 0.05))


@dataclass
class CrossVal:
    """Out-of-fold models and predictions of a leave-one-system-out run."""

    folds: list[str]
    models: dict[str, MatcherModel]  # fold -> model that never saw the fold's system
    predictions: list[tuple[Item, str | None, list[tuple[str, str, float]]]] = field(
        default_factory=list
    )  # all confidences (threshold 0): apply one with :func:`at_threshold`
    cal_rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    entity_rows: dict[str, list[EntityRow]] = field(default_factory=dict)
    entity_l2: float = ENTITY_L2  # the entity model's penalty (see :func:`entity_l2`)

    def at_threshold(self, threshold: float, folds: Sequence[str] | None = None) -> Scored:
        keep = set(folds) if folds is not None else None
        return score(
            (it.labelled, ent, [m for m in maps if m[2] >= threshold])
            for it, ent, maps in self.predictions
            if keep is None or it.fold in keep
        )


def analyse(matcher: Matcher, labelled: Sequence[LabelledSchema], fold: str | None) -> list[Item]:
    """Items (signals computed once) for labelled schemas; embeddings batched."""
    if matcher.embedder is not None:
        from autonomos.matching.signals import prepare_source

        texts = [f.text for ls in labelled for f in prepare_source(ls.schema)]
        matcher._targets_dense()
        for k in range(0, len(texts), 2048):
            matcher._encode(texts[k : k + 2048])
    return [
        Item(ls, matcher.analyse(ls.schema), ls.system if fold is None else fold) for ls in labelled
    ]


def weigh(synthetic: list[Item], real: list[Item], share: float = REAL_SHARE) -> None:
    """Give the real items ``share`` of the pair scorer's training mass."""
    n_syn = sum(1 for it in synthetic if it.entity)
    n_real = sum(1 for it in real if it.entity)
    for it in synthetic:
        it.weight = (1 - share) / max(1, n_syn) * (n_syn + n_real)
    for it in real:
        it.weight = share / max(1, n_real) * (n_syn + n_real)


def entity_l2(dense: bool) -> float:
    """The entity model's L2 penalty, lexical or with embeddings."""
    return DENSE_ENTITY_L2 if dense else ENTITY_L2


def cross_validate(
    synthetic: list[Item],
    real: list[Item],
    extra: Sequence[Item] = (),
    *,
    log: bool = True,
    entity_l2: float = ENTITY_L2,
) -> CrossVal:
    """Leave-one-system-out over ``real``; ``extra``: held-out synthetic objects (business
    and non-business) that only the entity model learns from."""
    folds = sorted({it.fold for it in real})
    pairs = {}
    cal_rows = {}
    for k in folds:
        train = synthetic + [it for it in real if it.fold != k]
        pairs[k] = fit_pair(train)
        cal_rows[k] = calibrator_rows(pairs[k], [it for it in real if it.fold == k])
    calibrators = {}
    ent_rows = {}
    for k in folds:
        x = np.concatenate([cal_rows[j][0] for j in folds if j != k])
        y = np.concatenate([cal_rows[j][1] for j in folds if j != k])
        calibrators[k] = fit_calibrator(x, y)
        model = MatcherModel(pairs[k], calibrators[k])
        ent_rows[k] = entity_rows(model, [it for it in real if it.fold == k])
        # the synthetic objects replayed under every fold's model: each copy weighs 1/folds
        ent_rows[k] += [(p, q, y, w / len(folds)) for p, q, y, w in entity_rows(model, extra)]
    cv = CrossVal(folds, {}, cal_rows=cal_rows, entity_rows=ent_rows, entity_l2=entity_l2)
    for k in folds:
        others = [r for j in folds if j != k for r in ent_rows[j]]
        model = MatcherModel(pairs[k], calibrators[k], 0.0, fit_entity(others, entity_l2))
        cv.models[k] = model
        for it in (it for it in real if it.fold == k):
            d = decide(it.analysis, model)
            cv.predictions.append((it, d.entity, mappings(it.analysis, d, model, 0.0)))
    if log:
        print(f"cross-validated over {len(folds)} held-out systems", file=sys.stderr)
    return cv


def best_threshold(cv: CrossVal) -> float:
    f1 = {t: cv.at_threshold(t).metrics()["F1"] for t in THRESHOLDS}
    return max(THRESHOLDS, key=lambda t: (round(f1[t], 4), -abs(t - 0.5)))


def final_model(synthetic: list[Item], real: list[Item], cv: CrossVal) -> MatcherModel:
    pair = fit_pair(synthetic + real)
    x = np.concatenate([cv.cal_rows[k][0] for k in cv.folds])
    y = np.concatenate([cv.cal_rows[k][1] for k in cv.folds])
    entity = fit_entity([r for k in cv.folds for r in cv.entity_rows[k]], cv.entity_l2)
    return MatcherModel(pair, fit_calibrator(x, y), best_threshold(cv), entity)


def build(
    per_entity: int, seed: int, dense: bool, matcher: Matcher | None = None
) -> tuple[Matcher, list[Item], list[Item], list[Item]]:
    """The matcher used to compute signals; the synthetic items (pair scorer), the real
    items (everything, cross-validated) and held-out synthetic items (entity model)."""
    onto = load_ontology()
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    if matcher is None:
        embedder = None
        if dense:
            from autonomos.models.embedder import LocalEmbedder

            embedder = LocalEmbedder()
        # crosswalks stay out of fitting: what is fitted must come from the signals
        matcher = Matcher(onto, embedder=embedder, crosswalks=False)
    t0 = time.time()
    synthetic = analyse(matcher, list(Generator(onto, seed=seed).generate(per_entity)), "")
    real_schemas = (
        demo_schemas(rng, with_samples=True)
        + demo_schemas(rng, with_samples=False)
        + corpus_schemas()
    )
    real = analyse(matcher, real_schemas, None)
    weigh(synthetic, real)
    gen = Generator(onto, seed=seed + 1)
    held_out = list(gen.generate(max(1, per_entity // 8)))
    held_out += [gen.none_schema() for _ in range(len(held_out))]
    extra = analyse(matcher, held_out, "")
    for it in extra:  # together as much as the real objects
        it.weight = len(real) / len(extra) * EXTRA_SHARE
    print(
        f"analysed {len(synthetic)} + {len(extra)} synthetic and {len(real)} real schemas "
        f"({len({it.fold for it in real})} systems) in {time.time() - t0:.1f}s",
        file=sys.stderr,
    )
    return matcher, synthetic, real, extra


def run(per_entity: int, seed: int, dense: bool) -> MatcherModel:
    _, synthetic, real, extra = build(per_entity, seed, dense)
    cv = cross_validate(synthetic, real, extra, entity_l2=entity_l2(dense))
    model = final_model(synthetic, real, cv)
    m = cv.at_threshold(model.threshold).metrics()
    print(
        f"leave-one-system-out ({'dense' if dense else 'lexical'}, threshold "
        f"{model.threshold}): " + " ".join(f"{k}={v:.3f}" for k, v in m.items()),
        file=sys.stderr,
    )
    return model


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
    if isinstance(d, float | np.floating):
        return round(float(d), 4)
    return d


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
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


assert len(FEATURES) and len(CAL_FEATURES) and len(ENTITY_FEATURES)

if __name__ == "__main__":
    main()
