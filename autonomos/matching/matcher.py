"""The schema matcher: a source object's schema -> entity + one-to-one field mapping.

Per candidate entity, every (source field, ontology field) pair gets signals (names under
relaxations, BM25 over names + descriptions, dense embeddings, types, value profiles; see
:mod:`~autonomos.matching.signals`), a logistic pair score, the tenant's memory of past
decisions and published crosswalks (:mod:`~autonomos.matching.crosswalk`), and optionally
an LLM's re-ranking of ambiguous fields. A global one-to-one assignment (Hungarian) picks
at most one target per source field and one source field per target. The entity model
then weighs each entity's assignment and the object's name against "no entity fits"
(:mod:`~autonomos.matching.decide`); a mapping's confidence is its calibrated pair
confidence times the probability of the entity, and pairs below the threshold are left
unmapped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from autonomos.common.text import singular
from autonomos.matching.decide import (
    Analysis,
    EntityResult,
    assign,
    decide,
    entity_result,
    final_confidence,
    recall_crosswalks,
)
from autonomos.matching.evidence import held_entities, kind_scores
from autonomos.matching.lexicon import ENTITY_WORDS, WEAK_ENTITY_WORDS
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
)
from autonomos.matching.text import split_words
from autonomos.ontology.loader import Ontology, load_ontology

__all__ = ["LLM", "Embedder", "EntityResult", "Matcher"]

log = logging.getLogger(__name__)


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class LLM(Protocol):
    def complete_json(self, tenant_id: Any, prompt: str, schema: dict) -> dict: ...


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
        crosswalks: bool = True,
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
        self.crosswalks = crosswalks  # published export crosswalks (cloud cost -> FOCUS)

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

    def _name_prior(self, schema: SourceSchema) -> dict[str, float]:
        """How much the object's name says each entity, by its words: its own name (1), a
        word systems use for it (0.7), a word that names it less often than another entity
        (0.5: ``customers`` are usually accounts, sometimes people)."""
        toks = {singular(w) for w in split_words(schema.object or "")}
        prior: dict[str, float] = {}
        for ent in self.index.entities:
            own = {singular(w) for w in split_words(ent)}
            words = {singular(w) for w in ENTITY_WORDS.get(ent, ())}
            weak = {singular(w) for w in WEAK_ENTITY_WORDS.get(ent, ())}
            prior[ent] = 1.0 if toks & own else 0.7 if toks & words else 0.5 if toks & weak else 0.0
        return prior

    def _object_prior(
        self, named: dict[str, float], obj_vec: np.ndarray | None
    ) -> dict[str, float]:
        """The name prior, raised where the embedding of the object's name is close to the
        entity's (at most 0.7)."""
        if obj_vec is None or self._entity_vecs is None:
            return dict(named)
        sims = np.clip((self._entity_vecs @ obj_vec - 0.2) / 0.4, 0, 1) * 0.7
        return {e: max(named[e], float(sims[i])) for i, e in enumerate(self.index.entities)}

    def analyse(self, schema: SourceSchema) -> Analysis:
        """Everything about ``schema`` that does not depend on the fitted parameters."""
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
        feats, targets, pk = {}, {}, {}
        for ent in self.index.entities:
            sl = self.index.slices[ent]
            feats[ent] = pair_features(
                self.index, fields, ent, bm25, dense, obj, schema.object or ""
            )
            targets[ent] = [t.key for t in self.index.targets[sl]]
            pk[ent] = next((j for j, t in enumerate(self.index.targets[sl]) if t.pk), -1)
        named = self._name_prior(schema)
        prior = self._object_prior(named, obj_vec)
        analysis = Analysis(fields, feats, targets, pk, prior, self.index.specificity, recall)
        analysis.named = max(named.values(), default=0.0)
        analysis.kind = kind_scores(fields, self.index.entities)
        analysis.held = held_entities(fields, self.index.entities)
        if self.crosswalks:
            recall_crosswalks(analysis)
        return analysis

    def score_entities(
        self, schema: SourceSchema
    ) -> tuple[list[EntityResult], list[PreparedField]]:
        analysis = self.analyse(schema)
        results = [entity_result(self.model, analysis, e) for e in self.index.entities]
        return results, analysis.fields

    # ------------------------------------------------------------------ public

    def suggest(self, schema: SourceSchema, *, entity: str | None = None) -> Suggestion:
        """Decide the entity (unless given) and suggest a mapping for every source field.

        When no entity fits the object (a non-business object), ``entity`` is None, every
        field is unmapped and ``entity_confidence`` is the probability that none fits."""
        analysis = self.analyse(schema)
        fields = analysis.fields
        decision = decide(analysis, self.model, entity)
        res = decision.result
        if res is None:
            return Suggestion(
                entity=None,
                entity_confidence=decision.p_entity,
                mappings=[FieldSuggestion(f.field.name, None, 0.0) for f in fields],
                entity_scores=decision.scores,
            )
        if self.llm is not None:
            res = self._llm_rerank(schema, fields, res)
        p_entity = decision.p_entity
        targets = analysis.targets[res.entity]
        mappings = []
        for i, f in enumerate(fields):
            order = np.argsort(-res.probs[i])[:3]
            alts = [(targets[j], float(res.probs[i, j])) for j in order if res.probs[i, j] > 0.01]
            j, c = res.assigned.get(i, (-1, 0.0))
            c = final_confidence(self.model, res, i, j, c, p_entity) if j >= 0 else 0.0
            if j >= 0 and c >= self.model.threshold:
                sig = {name: float(res.feats[i, j, k]) for k, name in enumerate(FEATURES)}
                sig["pair_probability"] = float(res.probs[i, j])
                suggestion = FieldSuggestion(
                    f.field.name,
                    targets[j],
                    float(np.clip(c, 0.0, 1.0)),
                    sig,
                    alts,
                    analysis.transforms.get((i, targets[j])),
                )
            else:
                best = float(res.probs[i].max()) * p_entity if res.probs.shape[1] else 0.0
                suggestion = FieldSuggestion(f.field.name, None, best, {}, alts)
            mappings.append(suggestion)
        return Suggestion(
            entity=res.entity,
            entity_confidence=decision.scores[res.entity] if entity else p_entity,
            mappings=mappings,
            entity_scores=decision.scores,
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
        assigned = assign(self.model, probs, res.feats, res.memory)
        for i, factor in damp.items():
            if i in assigned:
                assigned[i] = (assigned[i][0], assigned[i][1] * factor)
        return EntityResult(
            res.entity, probs, res.feats, assigned, res.features, res.memory, res.score
        )
