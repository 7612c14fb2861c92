"""Persona routing: which persona a free question is for, measured by stratified k-fold
cross-validation on the labelled set shipped with the package
(``autonomos/nlp/personas/routing_set.jsonl``: 120 questions, 30 per persona).

    python benchmarks/persona_routing.py [--folds 5] [--seeds 0 1 2]

Routers (``autonomos/nlp/personas/router.py``), each trained on the other folds:
(a) lexical:   naive Bayes over stemmed words and word pairs (no model);
(b) embedding: cosine to each persona's centroid of MiniLM embeddings, softmax;
(c) hybrid:    the mean of (a) and (b)'s probabilities;
baseline: the majority class (25% on a balanced set).
Reported per router: accuracy (mean over seeds, with each seed's), expected calibration
error of the confidence (10 bins), mean confidence when right and when wrong.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from autonomos.models.embedder import LocalEmbedder
from autonomos.nlp.personas.router import (
    EmbeddingRouter,
    HybridRouter,
    LexicalRouter,
    cross_validate,
    load_examples,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    examples = load_examples()
    model = LocalEmbedder(None, device="cpu")
    cache: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in cache]
        if missing:
            vectors, _ = model.embed_texts(missing)
            cache.update(zip(missing, vectors, strict=True))
        return np.stack([cache[t] for t in texts])

    routers = {
        "lexical": lambda train: LexicalRouter(train),
        "embedding": lambda train: EmbeddingRouter(train, encode),
        "hybrid": lambda train: HybridRouter(train, encode),
    }
    print(f"{len(examples)} questions, {args.folds}-fold stratified, seeds {args.seeds}")
    print("baseline (majority class): accuracy 0.250")
    for name, make in routers.items():
        started = time.perf_counter()
        runs = [cross_validate(make, examples, folds=args.folds, seed=s) for s in args.seeds]
        acc = [r["accuracy"] for r in runs]
        print(
            f"{name:10s} accuracy {statistics.mean(acc):.3f} "
            f"(seeds: {', '.join(f'{a:.3f}' for a in acc)}) "
            f"ece {statistics.mean(r['ece'] for r in runs):.3f} "
            f"conf right {statistics.mean(r['mean_confidence_right'] for r in runs):.2f} "
            f"wrong {statistics.mean(r['mean_confidence_wrong'] for r in runs):.2f} "
            f"({time.perf_counter() - started:.1f} s)"
        )
        print(f"{'':10s} confusion (truth -> routed, seed {args.seeds[0]}): {runs[0]['confusion']}")


if __name__ == "__main__":
    main()
