"""Leave-one-system-out measurement of the matcher over the project's own labelled corpus,
and the peers on the same objects (used by ``benchmarks/matching.py``).

For every real system (the corpus in ``autonomos/matching/corpus`` and the demo sources),
the matcher's models are fitted without it (:func:`autonomos.matching.fit.cross_validate`)
and its objects are matched as the shipped matcher would (published crosswalks included);
the peers fit nothing and run on the same objects. Everything is scored like the
evaluation's scorer (:mod:`autonomos.matching.evaluate`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autonomos.matching import fit  # noqa: E402
from autonomos.matching.decide import decide, mappings, recall_crosswalks  # noqa: E402
from autonomos.matching.evaluate import Scored, reliability, score  # noqa: E402

CLOUD = frozenset({"aws", "azure", "gcp", "focus"})  # shipped crosswalks describe these


def loso(dense: bool, per_entity: int = 60) -> dict[str, Any]:
    """Cross-validated predictions of the matcher (as shipped: crosswalks recalled)."""
    _, synthetic, real, extra = fit.build(per_entity, 0, dense)
    cv = fit.cross_validate(synthetic, real, extra, log=False, entity_l2=fit.entity_l2(dense))
    threshold = fit.best_threshold(cv)
    results = []
    seen = set()
    for it in real:
        key = (it.fold, it.labelled.schema.object, len(it.labelled.schema.fields))
        model = cv.models[it.fold]
        analysis = dataclasses.replace(it.analysis, recall=dict(it.analysis.recall))
        recall_crosswalks(analysis)
        d = decide(analysis, model)
        maps = [m for m in mappings(analysis, d, model, 0.0) if m[2] >= threshold]
        if key in seen:  # the demo sources come twice (with and without samples)
            continue
        seen.add(key)
        results.append((it.labelled, it.fold, d.entity, maps))
    return {"threshold": threshold, "results": results}


def scored(
    results: list[tuple[Any, str, str | None, list[tuple[str, str, float]]]],
    keep: Callable[[str], bool] = lambda fold: True,
) -> Scored:
    return score((ls, ent, maps) for ls, fold, ent, maps in results if keep(fold))


def run_peer(
    fn: Callable[[dict[str, Any]], dict[str, Any]],
    results: list[tuple[Any, str, str | None, list[tuple[str, str, float]]]],
) -> list[tuple[Any, str, str | None, list[tuple[str, str, float]]]]:
    """A peer on the same objects (its ``{"entity", "mappings"}`` answer, scored alike)."""
    out = []
    for ls, fold, _, _ in results:
        doc = {
            "system": ls.schema.system,
            "object": ls.schema.object,
            "fields": [
                {"name": f.name, "type": f.type, "description": f.description}
                for f in ls.schema.fields
            ],
        }
        pred = fn(doc)
        maps = [
            (m["source_field"], m["target"], float(m["confidence"]))
            for m in pred["mappings"]
            if m.get("target")
        ]
        out.append((ls, fold, pred.get("entity"), maps))
    return out


def metrics_line(name: str, s: Scored) -> str:
    m = s.metrics()
    return (
        f"{name:28s} {m['P']:6.3f} {m['R']:6.3f} {m['F1']:6.3f} {m['P@0.9']:6.3f} "
        f"{m['cover@0.9']:6.3f} {m['ECE']:6.3f} {m['top1']:6.3f} {m['entity']:6.3f}"
    )


HEADER = (
    f"{'matcher':28s} {'P':>6s} {'R':>6s} {'F1':>6s} {'P@0.9':>6s} {'cov.9':>6s} "
    f"{'ECE':>6s} {'top1':>6s} {'entity':>6s}"
)


def print_reliability(name: str, pairs: list[tuple[float, bool]]) -> None:
    """Reliability diagram as text: per confidence bin, count, mean confidence, accuracy."""
    conf = np.array([c for c, _ in pairs])
    ok = np.array([o for _, o in pairs], dtype=float)
    cells = [
        f"{b / 10:.1f}-{(b + 1) / 10:.1f}: n={n} conf={c:.2f} acc={a:.2f}"
        for b, (n, c, a) in enumerate(reliability(conf, ok))
        if n
    ]
    print(f"  reliability, {name}:")
    for cell in cells:
        print(f"    {cell}")
