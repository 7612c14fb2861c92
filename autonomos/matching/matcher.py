"""The schema matcher: a source object's schema -> entity + one-to-one field mapping.

Per candidate entity, every (source field, ontology field) pair gets signals (names under
relaxations, BM25 over names + descriptions, dense embeddings, types, value profiles; see
:mod:`~autonomos.matching.signals`), a logistic pair score, the tenant's memory of past
decisions, and optionally an LLM's re-ranking of ambiguous fields. A global one-to-one
assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) picks at most one target per
source field and one source field per target; each assigned pair's confidence is calibrated
from its score and its competition, and pairs below the threshold are left unmapped. The
entity whose assignment is best (plus the object's name) wins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from autonomos.matching.lexicon import ENTITY_WORDS
from autonomos.matching.memory import MappingMemory
from autonomos.matching.model import MatcherModel, default_model
from autonomos.matching.schema import FieldSuggestion, SourceSchema, Suggestion
from autonomos.matching.signals import (
    FEATURES,
    PreparedField,
    TargetIndex,
    object_tokens,
    pair_features,
    prepare_source,
    sigmoid,
)
from autonomos.matching.text import canon, split_words
from autonomos.ontology.loader import Ontology, load_ontology

log = logging.getLogger(__name__)

MEMORY_WEIGHT = 0.98  # how far an exact remembered approval pushes a pair towards certainty
MIN_ASSIGN_P = 0.02  # pairs below this pair probability are never assigned
OBJECT_NAME_WEIGHT = 3.0  # entity decision: weight of the object's name naming the entity
ENTITY_TEMPERATURE = 1.0


def linear_sum_assignment(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's Hungarian solver, imported on first use (scipy.optimize as a whole costs ~1 s
    of start-up; the solver alone a few milliseconds)."""
    try:
        from scipy.optimize._lsap import linear_sum_assignment as lsa
    except ImportError:  # pragma: no cover - other scipy layouts
        from scipy.optimize import linear_sum_assignment as lsa
    return lsa(weight)


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class LLM(Protocol):
    def complete_json(self, tenant_id: Any, prompt: str, schema: dict) -> dict: ...


@dataclass
class EntityResult:
    entity: str
    probs: np.ndarray  # (n_src, n_tgt) pair probabilities after memory / LLM
    feats: np.ndarray  # (n_src, n_tgt, NF)
    assigned: dict[int, tuple[int, float]]  # source index -> (target index, confidence)
    score: float
    memory: np.ndarray | None = None  # (n_src, n_tgt) signed memory strengths


class Matcher:
    def __init__(
        self,
        ontology: Ontology | None = None,
        embedder: Embedder | None = None,
        memory: MappingMemory | None = None,
        llm: LLM | None = None,
        *,
        model: MatcherModel | None = None,
        tenant_id: Any = None,
        llm_margin: float = 0.15,
        llm_max_fields: int = 12,
        on_embedder_error: Any = None,
    ) -> None:
        self.ontology = ontology or load_ontology()
        self.index = TargetIndex(self.ontology)
        self.embedder = embedder
        self.memory = memory
        self.llm = llm
        self.model = model or default_model(dense=embedder is not None)
        self.tenant_id = tenant_id if tenant_id is not None else getattr(memory, "tenant_id", None)
        self.llm_margin = llm_margin
        self.llm_max_fields = llm_max_fields
        self._target_vecs: np.ndarray | None = None
        self._entity_vecs: np.ndarray | None = None
        self._vec_cache: dict[str, np.ndarray] = {}
        self.llm_calls = 0
        self.on_embedder_error = on_embedder_error

    # ------------------------------------------------------------------ embeddings

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        assert self.embedder is not None
        if len(self._vec_cache) > 50_000:
            keep = {t: self._vec_cache[t] for t in self.index.texts if t in self._vec_cache}
            self._vec_cache = keep
        missing = [t for t in dict.fromkeys(texts) if t not in self._vec_cache]
        if missing:
            vecs = np.asarray(self.embedder.encode(list(missing)), dtype=np.float32)
            for t, v in zip(missing, vecs, strict=True):
                self._vec_cache[t] = v
        return np.stack([self._vec_cache[t] for t in texts]) if texts else np.zeros((0, 1))

    def _targets_dense(self) -> tuple[np.ndarray, np.ndarray]:
        if self._target_vecs is None or self._entity_vecs is None:
            self._target_vecs = self._encode(self.index.texts)
            self._entity_vecs = self._encode(
                [self.index.entity_text[e] for e in self.index.entities]
            )
        return self._target_vecs, self._entity_vecs

    def _drop_embedder(self, error: Exception) -> None:
        msg = f"embedding model failed ({error}); using lexical signals only"
        log.warning(msg)
        if self.on_embedder_error is not None:
            self.on_embedder_error(msg)
        self.embedder = None
        self.model = default_model(dense=False)

    # ------------------------------------------------------------------ scoring

    def _object_prior(self, schema: SourceSchema, obj_vec: np.ndarray | None) -> dict[str, float]:
        toks = {canon(w) for w in split_words(schema.object or "")}
        prior: dict[str, float] = {}
        for i, ent in enumerate(self.index.entities):
            words = {canon(w) for w in split_words(ent)} | {
                canon(w) for w in ENTITY_WORDS.get(ent, ())
            }
            own = {canon(w) for w in split_words(ent)}
            score = 0.0
            if toks & own:
                score = 1.0
            elif toks & words:
                score = 0.7
            if obj_vec is not None and self._entity_vecs is not None:
                score = max(
                    score, float(np.clip((obj_vec @ self._entity_vecs[i] - 0.2) / 0.4, 0, 1)) * 0.7
                )
            prior[ent] = score
        return prior

    def pair_probabilities(
        self,
        fields: list[PreparedField],
        entity: str,
        bm25: np.ndarray,
        dense: np.ndarray | None,
        obj: frozenset[str],
        recall: dict[tuple[int, str], float],
    ) -> tuple[np.ndarray, np.ndarray]:
        feats = pair_features(self.index, fields, entity, bm25, dense, obj)
        probs = sigmoid(self.model.pair.logits(feats)).astype(np.float64)
        if recall:
            sl = self.index.slices[entity]
            keys = {t.key: j for j, t in enumerate(self.index.targets[sl])}
            for (i, target), s in recall.items():
                j = keys.get(target)
                if j is None:
                    continue
                if s > 0:
                    probs[i, j] = 1 - (1 - probs[i, j]) * (1 - MEMORY_WEIGHT * s)
                else:
                    probs[i, j] *= 1 + MEMORY_WEIGHT * s
        return probs, feats

    @staticmethod
    def calibration_rows(probs: np.ndarray, feats: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """One-to-one assignment maximising the summed pair probability; for each assigned
        pair, the calibrator's features (its log-odds and its margins over the competition)."""
        n, m = probs.shape
        if n == 0 or m == 0:
            return []
        weight = np.where(probs >= MIN_ASSIGN_P, probs, 0.0)
        rows, cols = linear_sum_assignment(-weight)
        lg = np.log(np.clip(probs, 1e-6, 1 - 1e-6)) - np.log(np.clip(1 - probs, 1e-6, 1))
        out = []
        exact = FEATURES.index("exact")
        for i, j in zip(rows, cols, strict=True):
            if weight[i, j] <= 0:
                continue
            row = np.delete(lg[i], j)
            col = np.delete(lg[:, j], i)
            f = np.array(
                [
                    lg[i, j],
                    np.clip(lg[i, j] - (row.max() if row.size else -14.0), -10, 10),
                    np.clip(lg[i, j] - (col.max() if col.size else -14.0), -10, 10),
                    np.log(probs[i, j] / probs[i].sum()),
                    np.log(probs[i, j] / probs[:, j].sum()),
                    feats[i, j, exact],
                ]
            )
            out.append((int(i), int(j), f))
        return out

    def _assign(
        self, probs: np.ndarray, feats: np.ndarray, mem: np.ndarray | None
    ) -> dict[int, tuple[int, float]]:
        picks = self.calibration_rows(probs, feats)
        if not picks:
            return {}
        conf = self.model.calibrator(np.stack([f for _, _, f in picks]))
        out: dict[int, tuple[int, float]] = {}
        for k, (i, j, _) in enumerate(picks):
            c = float(conf[k])
            if mem is not None and mem[i, j] > 0:
                c = 1 - (1 - c) * (1 - MEMORY_WEIGHT * mem[i, j])
            elif mem is not None and mem[i, j] < 0:
                c *= 1 + MEMORY_WEIGHT * mem[i, j]
            out[i] = (j, c)
        return out

    def score_entities(
        self, schema: SourceSchema
    ) -> tuple[list[EntityResult], list[PreparedField]]:
        fields = prepare_source(schema)
        bm25 = self.index.bm25_scores([f.query for f in fields])
        dense = None
        src_vecs = None
        obj_vec = None
        if self.embedder is not None and fields:
            try:
                tv, _ = self._targets_dense()
                texts = [f.text for f in fields]
                if schema.object:
                    texts.append(" ".join(split_words(schema.object)))
                vecs = self._encode(texts)
            except Exception as e:  # the model is optional: fall back to lexical signals
                self._drop_embedder(e)
            else:
                src_vecs = vecs[: len(fields)]
                obj_vec = vecs[len(fields)] if schema.object else None
                dense = src_vecs @ tv.T
        recall = self.memory.recall([f.field for f in fields], src_vecs) if self.memory else {}
        obj = object_tokens(schema)
        prior = self._object_prior(schema, obj_vec)
        results = []
        for ent in self.index.entities:
            probs, feats = self.pair_probabilities(fields, ent, bm25, dense, obj, recall)
            mem = self._memory_matrix(recall, ent, len(fields))
            assigned = self._assign(probs, feats, mem)
            kept = sum(c for _, c in assigned.values() if c >= self.model.threshold)
            score = kept + OBJECT_NAME_WEIGHT * prior.get(ent, 0.0)
            results.append(EntityResult(ent, probs, feats, assigned, score, mem))
        return results, fields

    def _memory_matrix(
        self, recall: dict[tuple[int, str], float], entity: str, n: int
    ) -> np.ndarray | None:
        sl = self.index.slices[entity]
        keys = {t.key: j for j, t in enumerate(self.index.targets[sl])}
        hits = [(i, keys[t], s) for (i, t), s in recall.items() if t in keys]
        if not hits:
            return None
        mem = np.zeros((n, sl.stop - sl.start))
        for i, j, s in hits:
            mem[i, j] = s
        return mem

    # ------------------------------------------------------------------ public

    def suggest(self, schema: SourceSchema, *, entity: str | None = None) -> Suggestion:
        """Decide the entity (unless given) and suggest a mapping for every source field."""
        results, fields = self.score_entities(schema)
        if not results:
            raise ValueError("the ontology has no entities")
        scores = np.array([r.score for r in results])
        ex = np.exp((scores - scores.max()) / ENTITY_TEMPERATURE)
        ent_probs = ex / ex.sum()
        if entity is not None:
            best = next(i for i, r in enumerate(results) if r.entity == entity)
        else:
            best = int(np.argmax(scores))
        res = results[best]
        if self.llm is not None:
            res = self._llm_rerank(schema, fields, res)
        targets = self.index.targets[self.index.slices[res.entity]]
        ent_conf = float(ent_probs[best])
        mappings = []
        for i, f in enumerate(fields):
            order = np.argsort(-res.probs[i])[:3]
            alts = [
                (targets[j].key, float(res.probs[i, j])) for j in order if res.probs[i, j] > 0.01
            ]
            if i in res.assigned and res.assigned[i][1] >= self.model.threshold:
                j, c = res.assigned[i]
                target: str | None = targets[j].key
                sig = {name: float(res.feats[i, j, k]) for k, name in enumerate(FEATURES)}
                sig["pair_probability"] = float(res.probs[i, j])
            else:
                target, c = None, float(res.probs[i].max()) if res.probs.shape[1] else 0.0
                sig = {}
            mappings.append(
                FieldSuggestion(f.field.name, target, float(np.clip(c, 0.0, 1.0)), sig, alts)
            )
        return Suggestion(
            entity=res.entity,
            entity_confidence=ent_conf,
            mappings=mappings,
            entity_scores={r.entity: float(p) for r, p in zip(results, ent_probs, strict=True)},
        )

    # ------------------------------------------------------------------ LLM re-ranking

    def _llm_rerank(
        self, schema: SourceSchema, fields: list[PreparedField], res: EntityResult
    ) -> EntityResult:
        from autonomos.matching.rerank import ambiguous_fields, apply_answer, ask_llm

        assert self.llm is not None
        targets = self.index.targets[self.index.slices[res.entity]]
        todo = ambiguous_fields(res.probs, self.llm_margin, self.llm_max_fields)
        if not todo:
            return res
        probs = res.probs.copy()
        damp: dict[int, float] = {}
        for i in todo:
            order = [int(j) for j in np.argsort(-probs[i])[:3]]
            answer = ask_llm(
                self.llm, self.tenant_id, schema, fields[i].field, [targets[j] for j in order]
            )
            self.llm_calls += 1
            if answer is None:
                continue
            choice, conf = answer
            chosen = (
                None
                if choice is None
                else next((j for j in order if targets[j].key == choice), None)
            )
            if choice is not None and chosen is None:
                continue
            probs[i] = apply_answer(probs[i], order, chosen, conf)
            if chosen is None:
                damp[i] = 1 - 0.5 * conf  # "none of these": less sure of any mapping
        assigned = self._assign(probs, res.feats, res.memory)
        for i, factor in damp.items():
            if i in assigned:
                assigned[i] = (assigned[i][0], assigned[i][1] * factor)
        return EntityResult(res.entity, probs, res.feats, assigned, res.score, res.memory)
