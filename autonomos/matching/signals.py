"""Pairwise signals between source fields and ontology fields.

``TargetIndex`` prepares the ontology once (token forms, BM25 index, expected value kinds);
``prepare_source`` prepares a source schema; ``pair_features`` returns, for one entity, a
``(n_source, n_target, n_features)`` array of signals in FEATURES order. Dense similarities
(from an embedder) are computed by the caller and passed in.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from autonomos.common.text import singular
from autonomos.matching import profiles
from autonomos.matching.field_types import _TYPE_INDEX, _TYPE_MATRIX, normalise_type
from autonomos.matching.names import (
    _QUALIFIERS,
    _WRAPPERS,
    Form,
    _relax,
    best_form_sim,
    entity_tokens,
    path_forms,
    prefixed_forms,
    source_forms,
    target_forms,
    token_sim,
)
from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.text import (
    RELATED_MAP,
    canon,
    canon_words,
    humanise,
    parse_name,
    split_words,
    text_tokens,
)
from autonomos.ontology.loader import Ontology

FEATURES: tuple[str, ...] = (
    "name",  # best soft token overlap of the names under relaxations (0..1)
    "exact",  # 1: same words; 0.9: same canonical tokens (fields at the record's level only)
    "bm25_rel",  # BM25 of the source's words against the target's name + description, / best
    "bm25_abs",  # the same, squashed absolute score
    "dense",  # cosine of name+description embeddings (0 without an embedder)
    "dense_weak",  # dense minus the best dense over the entity's fields (clipped at -0.2),
    # times (1 - name): embeddings count where the names do not match
    "type",  # type compatibility (0..1)
    "type_bad",  # 1 when the types cannot hold the same thing (boolean vs timestamp, ...)
    "profile",  # sample values agree (+1) / conflict (-1) with what the target holds
    "depth",  # nesting depth beyond the schema's usual one, wrappers not counted (0..1)
    "shadowed",  # a shallower source field has the same leaf name (plan.created vs created)
    "meta",  # ETL bookkeeping column (_fivetran_synced, _sdc_...)
    "member",  # the source sits inside another target that holds JSON (tags/ServiceType)
    "qualifier",  # the source adds a qualifier the target lacks (shipping_city vs city)
    "context",  # the source's parent path names this entity or one of its fields
    "name_top",  # the target is (one of) the source's best by name within the entity
    "reference",  # matched through a reference object: owner.id, CustomerRef.value ~ owner_id
    "own_key",  # the record's own identifier against the entity's key (see record_keys)
    "foreign_key",  # another record's identifier (<words>_id) against the entity's key
)
NF = len(FEATURES)
F = {name: i for i, name in enumerate(FEATURES)}
# leaves of a reference object: the key of the record it points to (owner.id, CustomerRef.value)
_REF_LEAVES = frozenset({"id", "ids", "key", "uuid", "guid", "value", "ref", "code"})
# a record's own identifier: a bare id, or <words>_id whose words name the record itself
_KEY_WORDS = frozenset({"id", "uuid", "guid"})
_BARE_KEYS = frozenset((w,) for w in _KEY_WORDS)
_SELF_WORDS = frozenset({"record", "object", "row", "sys", "system", "entity", "primary"})


# ---------------------------------------------------------------- prepared ontology and sources


@dataclass(frozen=True)
class Target:
    entity: str
    name: str
    type: str
    description: str
    pk: bool
    tokens: tuple[str, ...]
    soft_vocab: frozenset[str]  # every token of its forms
    raw: tuple[str, ...]  # its name's words

    @property
    def key(self) -> str:
        return f"{self.entity}.{self.name}"


class TargetIndex:
    """The ontology prepared for matching: targets, per-entity slices, a BM25 index."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        self.targets: list[Target] = []
        self.slices: dict[str, slice] = {}
        for ent in ontology.entities:
            start = len(self.targets)
            for f in ent.fields:
                toks = canon_words(split_words(f.name))
                vocab = {t for form, _ in target_forms(f.name, ent.name, f.type) for t in form}
                self.targets.append(
                    Target(
                        ent.name,
                        f.name,
                        f.type,
                        f.description,
                        f.pk,
                        toks,
                        frozenset(vocab),
                        split_words(f.name),
                    )
                )
            self.slices[ent.name] = slice(start, len(self.targets))
        self.entities = [e.name for e in ontology.entities]
        self.entity_tokens = {
            e.name: entity_tokens(e.name, [f.name for f in e.fields if not f.pk])
            for e in ontology.entities
        }
        self.entity_text = {
            e.name: f"{humanise(e.name)}: {e.description}" for e in ontology.entities
        }
        self.entity_desc_tokens = {
            e.name: frozenset(text_tokens(e.description)) | self.entity_tokens[e.name]
            for e in ontology.entities
        }
        self._bm25()
        self.expected = [profiles.expected(t.tokens, t.type) for t in self.targets]
        self.type_idx = np.array([_TYPE_INDEX.get(t.type, 0) for t in self.targets])
        # words a target's name or description says (a source's qualifier is no mismatch
        # when the target mentions it: expected_close ~ close_date, "expected or actual")
        self.mentions = [
            frozenset(t.tokens) | frozenset(text_tokens(t.description)) for t in self.targets
        ]
        self._by_token: dict[str, set[int]] = {}
        for k, t in enumerate(self.targets):
            for w in t.soft_vocab:
                self._by_token.setdefault(w, set()).add(k)
        self._token_hits: dict[str, frozenset[int]] = {}
        self._cand_cache: dict[tuple[frozenset[str], int], list[int]] = {}
        self._profiles: dict[str, np.ndarray] = {}
        self.texts = [
            f"{humanise(t.entity)} {humanise(t.name)}: {t.description}" for t in self.targets
        ]
        # how much mapping a target says about its entity: 1 / number of entities having a
        # field of that name (an email says contact; a created_at says nothing)
        holders: dict[str, int] = {}
        for t in self.targets:
            holders[t.name] = holders.get(t.name, 0) + 1
        self.specificity = {
            ent: np.array([1.0 / holders[t.name] for t in self.targets[sl]])
            for ent, sl in self.slices.items()
        }

    def _bm25(self) -> None:
        docs = []
        for t in self.targets:
            doc = list(t.tokens) * 2 + list(text_tokens(t.description))
            docs.append(doc)
        bm = BM25Okapi(docs)
        vocab = sorted(bm.idf)
        self.vocab = {w: i for i, w in enumerate(vocab)}
        mat = np.zeros((len(docs), len(vocab)), dtype=np.float32)
        for d, (freqs, dl) in enumerate(zip(bm.doc_freqs, bm.doc_len, strict=True)):
            norm = bm.k1 * (1 - bm.b + bm.b * dl / bm.avgdl)
            for w, tf in freqs.items():
                mat[d, self.vocab[w]] = bm.idf[w] * tf * (bm.k1 + 1) / (tf + norm)
        self.bm25_matrix = mat

    def _hits(self, token: str) -> frozenset[int]:
        """Targets sharing this token, a related word or a near spelling of it."""
        hit = self._token_hits.get(token)
        if hit is None:
            out: set[int] = set()
            for w in {token} | RELATED_MAP.get(token, frozenset()):
                out |= self._by_token.get(w, set())
            if len(token) >= 5:
                for w, ks in self._by_token.items():
                    if len(w) >= 5 and w[:3] == token[:3] and token_sim(token, w) > 0:
                        out |= ks
            hit = frozenset(out)
            self._token_hits[token] = hit
        return hit

    def candidates(self, vocab: frozenset[str], sl: slice) -> list[int]:
        """Indices (within ``sl``) of the targets whose names can overlap ``vocab`` at all."""
        key = (vocab, sl.start)
        got = self._cand_cache.get(key)
        if got is None:
            ks: set[int] = set()
            for t in vocab:
                ks |= self._hits(t)
            got = sorted(k - sl.start for k in ks if sl.start <= k < sl.stop)
            if len(self._cand_cache) > 200_000:
                self._cand_cache.clear()
            self._cand_cache[key] = got
        return got

    def profile_vector(self, kind: str) -> np.ndarray:
        vec = self._profiles.get(kind)
        if vec is None:
            vec = np.array([profiles.agreement(kind, e) for e in self.expected], dtype=np.float32)
            self._profiles[kind] = vec
        return vec

    def bm25_scores(self, queries: Sequence[Sequence[str]]) -> np.ndarray:
        """(n_queries, n_targets) BM25 scores; repeated query tokens count repeatedly."""
        q = np.zeros((len(queries), len(self.vocab)), dtype=np.float32)
        for i, toks in enumerate(queries):
            for t in toks:
                j = self.vocab.get(t)
                if j is not None:
                    q[i, j] += 1.0
        return q @ self.bm25_matrix.T


@dataclass(frozen=True)
class PreparedField:
    field: SourceField
    type: str
    forms: tuple[Form, ...]
    leaf: tuple[str, ...]
    context: tuple[str, ...]
    segments: tuple[tuple[str, ...], ...]
    raw_leaf: tuple[str, ...]
    depth: int
    meta: bool
    query: tuple[str, ...]
    soft_vocab: frozenset[str]
    kind: str | None
    text: str
    shadowed: bool = False  # a shallower field of the same schema has the same leaf


@functools.lru_cache(maxsize=8192)
def _soft_vocab(tokens: frozenset[str]) -> frozenset[str]:
    out = set(tokens)
    for t in tokens:
        out |= RELATED_MAP.get(t, frozenset())
    return frozenset(out)


def prepare_field(f: SourceField, system: frozenset[str] = frozenset()) -> PreparedField:
    ftype = normalise_type(f.type)
    parts = parse_name(f.name)
    forms = source_forms(f.name, ftype) + prefixed_forms(f.name, ftype, system)
    desc = text_tokens(f.description)
    query = tuple(parts.leaf) * 2 + tuple(parts.context) + desc
    vocab = _soft_vocab(frozenset(t for form, _ in forms for t in form))
    kind = profiles.detect(list(f.samples)) if f.samples else None
    text = humanise(f.name)
    if f.description:
        text = f"{text}: {f.description.strip()[:300]}"
    return PreparedField(
        f,
        ftype,
        forms,
        parts.leaf,
        parts.context,
        parts.segments,
        parts.raw_leaf,
        sum(1 for seg in parts.segments if seg not in _WRAPPERS),
        parts.meta,
        query,
        vocab,
        kind,
        text,
    )


def prepare_source(schema: SourceSchema) -> list[PreparedField]:
    system = frozenset(split_words(schema.system or ""))
    fields = [prepare_field(f, system) for f in schema.fields]
    shallowest: dict[tuple[str, ...], int] = {}
    for pf in fields:
        shallowest[pf.leaf] = min(shallowest.get(pf.leaf, 99), pf.depth)
    return [dataclasses.replace(pf, shadowed=shallowest[pf.leaf] < pf.depth) for pf in fields]


def pair_features(
    index: TargetIndex,
    fields: Sequence[PreparedField],
    entity: str,
    bm25: np.ndarray,
    dense: np.ndarray | None,
    object_tokens: frozenset[str] = frozenset(),
    object_name: str = "",
) -> np.ndarray:
    """Signals of every (source field, target of ``entity``) pair: (n_src, n_tgt, NF)."""
    sl = index.slices[entity]
    targets = index.targets[sl]
    n, m = len(fields), len(targets)
    x = np.zeros((n, m, NF), dtype=np.float32)
    ent_toks = index.entity_tokens[entity] | object_tokens
    ent_field_toks = {t for tg in targets for t in tg.tokens} | ent_toks
    tforms = [target_forms(t.name, t.entity, t.type) for t in targets]
    # depth beyond what is usual in this schema (everything under properties.* is usual)
    base_depth = usual_depth(fields)
    json_targets = {tg.tokens: j for j, tg in enumerate(targets) if tg.type == "json"}
    ttypes = index.type_idx[sl]
    mentions = index.mentions[sl]
    for i, pf in enumerate(fields):
        # the source without words that only repeat the entity (account_name ~ name)
        sforms = list(pf.forms)
        rest = tuple(t for t in pf.leaf if t not in ent_toks)
        if rest and len(rest) < len(pf.leaf):
            extra: dict[tuple[str, ...], float] = {}
            _relax(rest, pf.type, 0.04, extra)
            sforms.extend(extra.items())
        pforms = path_forms(pf.field.name, pf.type, ent_toks) if pf.depth else ()
        vocab = {t for form, _ in sforms for t in form} | {t for form, _ in pforms for t in form}
        for j in index.candidates(frozenset(vocab), sl):
            tg = targets[j]
            by_leaf = best_form_sim(sforms, tforms[j])
            by_path = best_form_sim(pforms, tforms[j]) if pforms else 0.0
            x[i, j, F["name"]] = max(by_leaf, by_path)
            if pf.shadowed and by_leaf >= by_path and by_leaf > 0:
                x[i, j, F["shadowed"]] = 1.0
            if by_path > by_leaf and pf.raw_leaf and pf.raw_leaf[-1] in _REF_LEAVES:
                x[i, j, F["reference"]] = by_path
            if pf.depth > base_depth:
                continue  # refund.amount is not the amount: exactness counts at record level
            if pf.raw_leaf == tg.raw:
                x[i, j, F["exact"]] = 1.0
            elif pf.leaf == tg.tokens:
                x[i, j, F["exact"]] = 0.9
        tc = _TYPE_MATRIX[_TYPE_INDEX.get(pf.type, 0)][ttypes]
        x[i, :, F["type"]] = tc
        x[i, :, F["type_bad"]] = tc < 0.2
        if pf.kind is not None:
            x[i, :, F["profile"]] = index.profile_vector(pf.kind)[sl]
        quals = {t for t in pf.leaf if t in _QUALIFIERS}
        if quals:
            x[i, :, F["qualifier"]] = [bool(quals - m) for m in mentions]
        member = next((json_targets[seg] for seg in pf.segments if seg in json_targets), None)
        if member is not None:
            x[i, :, F["member"]] = 1.0
            x[i, member, F["member"]] = 0.0
        if pf.context:
            ctx = set(pf.context[-2:])
            x[i, :, F["context"]] = len(ctx & ent_field_toks) / len(ctx)
        x[i, :, F["depth"]] = min(max(pf.depth - base_depth, 0), 3) / 3.0
        x[i, :, F["meta"]] = 1.0 if pf.meta else 0.0
    pk = next((j for j, tg in enumerate(targets) if tg.pk), None)
    if pk is not None:
        own, foreign = record_keys(fields, entity, object_name)
        for i in own:
            x[i, pk, F["own_key"]] = 1.0
        for i in foreign:
            x[i, pk, F["foreign_key"]] = 1.0
    names = x[:, :, F["name"]]
    best = names.max(axis=1, keepdims=True)
    x[:, :, F["name_top"]] = ((names >= best - 1e-6) & (best > 0)).astype(np.float32)
    b = bm25[:, sl]
    bmax = b.max(axis=1, keepdims=True)
    x[:, :, F["bm25_rel"]] = np.where(bmax > 0, b / np.maximum(bmax, 1e-9), 0.0)
    x[:, :, F["bm25_abs"]] = 1.0 - np.exp(-b / 6.0)
    if dense is not None:
        d = dense[:, sl]
        x[:, :, F["dense"]] = d
        rel = np.maximum(d - d.max(axis=1, keepdims=True), -0.2)
        # where the names say little, embeddings break the tie
        x[:, :, F["dense_weak"]] = rel * (1.0 - x[:, :, F["name"]])
    return x


def record_keys(
    fields: Sequence[PreparedField], entity: str, object_name: str
) -> tuple[set[int], set[int]]:
    """(own, foreign): the fields at the record's level that identify the record itself,
    and those that identify another record. A bare ``id`` (``uuid``, ``guid``) is the key
    when there is one; otherwise ``<words>_id`` whose words, as written, all name the
    object or the entity (``ContactID`` in contacts, ``accountid`` for an account). Every
    other ``<words>_id`` is foreign (``invoice_id`` beside an ``id``)."""
    base = usual_depth(fields)
    own_words = {singular(w) for w in split_words(entity)} | {
        singular(w) for w in split_words(object_name)
    }
    level = [i for i, pf in enumerate(fields) if pf.depth <= base and not pf.meta]
    ids = [i for i in level if fields[i].raw_leaf and fields[i].raw_leaf[-1] in _KEY_WORDS]
    bare = {i for i in ids if fields[i].raw_leaf in _BARE_KEYS}
    named = [i for i in ids if len(fields[i].raw_leaf) > 1]
    if bare:
        return bare, set(named)
    own = {
        i
        for i in named
        if {singular(w) for w in fields[i].raw_leaf[:-1]} <= own_words | _SELF_WORDS
    }
    return own, set(named) - own


def usual_depth(fields: Sequence[PreparedField]) -> int:
    """The shallowest nesting depth that holds at least a fifth of the schema's fields
    (wrappers not counted): where the record's own attributes live. Fields of nested
    objects below it are about something else (``assigned_to.user.email``)."""
    depths = [pf.depth for pf in fields if not pf.meta]
    if not depths:
        return 0
    for d in sorted(set(depths)):
        if depths.count(d) >= 0.2 * len(depths):
            return d
    return min(depths)


def object_tokens(schema: SourceSchema) -> frozenset[str]:
    return frozenset(canon(w) for w in split_words(schema.object or ""))


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
