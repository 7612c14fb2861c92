"""Rename candidates: which removed field reappears as which added field, and how sure.

Every plausible pair (removed ``old``, added ``new``) is classified by the structural
patterns of :mod:`autonomos.aam._rename_patterns` (separator, envelope, move, typo,
representation suffix, ... and the traps: opposites, qualifiers, numbered siblings) and
scored by a learned model over that evidence and more (:mod:`autonomos.aam._rename_signals`:
the same meaningful words once representation words are set aside, identifiers respelled,
type compatibility, position, descriptions, sample values). The model is a logistic
regression fitted on synthetic and real API-version drift the project owns
(``python -m autonomos.aam.rename_fit``); its probabilities are checked on real systems
held out of the fit (``benchmarks/drift.py`` prints the reliability). Pairs are then
assigned one-to-one, best first; two near-equal candidates make a pair ambiguous (below
the auto-apply range, neither is proposed). Evidence across pairs lifts plausible ones:
the lone record identifiers, the one field replaced in place, a term renamed in several
fields (``builds_enabled`` / ``public_builds`` -> ``jobs_enabled`` / ``public_jobs``).

Rules stay where data cannot speak: traps are never renames, qualified pairs stay under
the threshold, an inverted boolean needs a ``not`` and is never confident, and patterns
the names alone cannot settle (a one-letter change, an abbreviation, a new suffix, a
move, a reordering, words replaced) stay below the auto-apply range.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import fuzz, process

from autonomos.aam._rename_model import RenameModel, default_model
from autonomos.aam._rename_patterns import (
    SEPARATOR_ONLY,
    FieldView,
    align,
    description_similarity,
    pattern,
    type_factor,
)
from autonomos.aam._rename_signals import RENAME_FEATURES, core, features, id_form
from autonomos.common.text import name_similarity as _text_similarity
from autonomos.common.text import name_tokens, singular
from autonomos.connectors.schema import FieldType

__all__ = [
    "RENAME_THRESHOLD",
    "SEPARATOR_ONLY",
    "FieldView",
    "RenameCandidate",
    "description_similarity",
    "match_renames",
    "name_similarity",
    "placed",
    "rank_candidates",
    "schema_vocabulary",
    "score_pair",
]

RENAME_THRESHOLD = 0.78  # below this a removed + added pair stays removed + added
UNSURE_CAP = 0.89  # patterns the names alone cannot settle never reach auto-apply
QUALIFIED_CAP = 0.55  # a qualifier changes the fact: a replacement, not a rename
TEMPORAL_FLOOR = 0.86  # only a date/at/time word differs: a plausible rename
ID_FLOOR = 0.82  # the one removed and the one added identifier of the record
GAP_FLOOR = 0.8  # the one field removed and the one added in the same place, same head word
SWAP_FLOOR = 0.8  # one word replaced by the same other word in several fields (build -> job)
_AMBIGUOUS_MARGIN = 0.03  # a runner-up this close makes a confident pair ambiguous
_AMBIGUOUS_CAP = 0.86
_FUZZY_CAP = 0.95
# structural patterns that may be confident on names alone; the rest are capped
_SURE_PATTERNS = frozenset({"separator", "joined", "envelope", "lookup"})
_NEVER = frozenset({"opposite", "numbered"})
_RESPELLED = frozenset({"typo", "spelling"})
_tokens = name_tokens
_TEMPORAL = RENAME_FEATURES.index("temporal_swap")


@dataclass(frozen=True)
class RenameCandidate:
    old: str
    new: str
    confidence: float
    pattern: str  # separator | joined | envelope | move | typo | reordered | plural | ...
    transform: str | None = None  # "not" for an inverted boolean
    signals: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def is_rename(self) -> bool:
        return self.confidence >= RENAME_THRESHOLD


def name_similarity(old: str, new: str) -> float:
    """0..1: how alike two dotted paths are as text (no judgement of meaning); the same
    words under other separators score :data:`SEPARATOR_ONLY`."""
    if _tokens(old) == _tokens(new) and _tokens(old):
        return SEPARATOR_ONLY
    return min(_text_similarity(old, new) * _FUZZY_CAP, _FUZZY_CAP)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0)))


@dataclass(frozen=True)
class Scored:
    """A pair's pattern and learned score before competition is weighed."""

    old: FieldView
    new: FieldView
    pattern: str
    transform: str | None
    base: float  # the pattern's base confidence x type compatibility
    score: float  # the learned probability (0 when a rule forbids the pair)
    signals: dict[str, float]


def _score(
    old: FieldView, new: FieldView, vocab: frozenset[str], model: RenameModel | None = None
) -> Scored:
    name_sim = name_similarity(old.path, new.path)
    kind, base, transform = pattern(old, new, name_sim, vocab)
    type_f = type_factor(old, new)
    position = 1.0 - abs(old.position - new.position)
    signals = {"name": round(name_sim, 4), "type": round(type_f, 4), "position": round(position, 4)}
    desc = description_similarity(old.description, new.description)
    if desc is not None:
        signals["description"] = round(desc, 4)
    if base <= 0 or type_f <= 0 or kind in _NEVER:
        return Scored(old, new, kind, transform, 0.0, 0.0, signals)
    base *= type_f
    if kind == "inverted":  # a rename only with a ``not``: the rule's own confidence
        return Scored(old, new, kind, transform, base, base, signals)
    model = model or default_model()
    x = features(old, new, kind, base)
    score = _sigmoid(float(x @ np.asarray(model.weights)) + model.bias)
    if x[_TEMPORAL] and type_f >= 0.9:
        # the same words but a date/at/time word (created_date -> created_at): the fact
        # is the same, re-spelled; plausible whatever the data says, never sure on names
        score = max(score, TEMPORAL_FLOOR)
    if kind == "qualified" or (kind == "plural" and type_f < 0.8):
        score = min(score, QUALIFIED_CAP)  # a new fact (email -> primary_email), or one -> many
    return Scored(old, new, kind, transform, base, score, signals)


def _confidence(s: Scored) -> float:
    """A pair's confidence: its learned probability under the rules' caps. A name only
    re-spelled (separators, joined words, an envelope, a slip of the keyboard) keeps at
    least the rule's confidence (adjusted by what the descriptions say); a slip is sure
    only when the schema itself already used the right spelling."""
    if s.score <= 0:
        return 0.0
    if s.pattern == "qualified":
        return min(s.score, QUALIFIED_CAP)
    if s.pattern in _RESPELLED:  # a slip of the keyboard: the rule's floor, never sure
        return min(max(s.score, s.base), UNSURE_CAP) if s.base < 0.9 else max(s.score, s.base)
    if s.pattern in _SURE_PATTERNS:
        base = s.base
        desc = s.signals.get("description")
        if desc is not None and desc >= 0.8:
            base = min(base + (1.0 - base) * 0.4, SEPARATOR_ONLY)
        elif desc is not None and desc < 0.25:
            base *= 0.85
            return min(s.score, base)
        return max(s.score, base)
    return min(s.score, UNSURE_CAP)


def score_pair(
    old: FieldView, new: FieldView, vocab: frozenset[str] = frozenset()
) -> RenameCandidate:
    """Score ``old`` (removed) reappearing as ``new`` (added), alone; 0 = never.

    ``vocab``: the words of the whole old schema, which tell a fixed typo (the new
    spelling was already used elsewhere) from a different word one letter away."""
    s = _score(old, new, vocab)
    conf = _confidence(s)
    return RenameCandidate(old.path, new.path, round(conf, 4), s.pattern, s.transform, s.signals)


def _description_match(
    old: FieldView, new: FieldView, rivals: Sequence[FieldView]
) -> RenameCandidate | None:
    """A pair whose names differ but whose long, distinctive descriptions agree."""
    desc = description_similarity(old.description, new.description)
    if desc is None or desc < 0.9 or len((old.description or "").split()) < 5:
        return None
    if type_factor(old, new) < 0.96:
        return None
    if any(
        f.path not in (old.path, new.path)
        and (description_similarity(f.description, old.description) or 0) >= 0.7
        for f in rivals
    ):
        return None  # the description is not distinctive
    position = 1.0 - abs(old.position - new.position)
    conf = round(0.82 * (0.97 + 0.03 * position), 4)
    signals = {
        "name": round(name_similarity(old.path, new.path), 4),
        "type": type_factor(old, new),
        "position": round(position, 4),
        "description": round(desc, 4),
    }
    return RenameCandidate(old.path, new.path, conf, "description", None, signals)


def _keys(f: FieldView) -> set[str]:
    """Blocking keys: the words of the name (singular), their first four letters."""
    toks = _tokens(f.path)
    return {singular(t) for t in toks} | {t[:4] for t in toks if len(t) >= 4}


def _candidate_pairs(
    removed: Sequence[FieldView], added: Sequence[FieldView]
) -> Iterator[tuple[FieldView, FieldView]]:
    """The pairs worth scoring, found without scoring all of them: pairs that share a
    distinctive word, or are spelled alike (C-speed ratio), or are two booleans (an
    inversion shares no word), or have alike descriptions. Every pattern that can reach
    the rename threshold falls in one of these."""
    if not removed or not added:
        return
    frequent = max(8, len(added) // 10)  # a word most fields have tells nothing
    index: dict[str, list[int]] = {}
    for j, n in enumerate(added):
        for k in _keys(n):
            index.setdefault(k, []).append(j)
    joined = ["".join(_tokens(f.path)) for f in (*removed, *added)]
    similar = process.cdist(
        joined[: len(removed)],
        joined[len(removed) :],
        scorer=fuzz.ratio,
        score_cutoff=40,
        dtype=np.uint8,
    )
    descs_old = [f.description or "" for f in removed]
    descs_new = [f.description or "" for f in added]
    alike = None
    if any(descs_old) and any(descs_new):
        alike = process.cdist(
            descs_old, descs_new, scorer=fuzz.token_set_ratio, score_cutoff=70, dtype=np.uint8
        )
    booleans = [j for j, n in enumerate(added) if n.type is FieldType.BOOLEAN]
    for i, o in enumerate(removed):
        js: set[int] = set(np.flatnonzero(similar[i]).tolist())
        for k in _keys(o):
            hits = index.get(k, ())
            if len(hits) <= frequent:
                js.update(hits)
        if o.type is FieldType.BOOLEAN:
            js.update(booleans)
        if alike is not None and descs_old[i]:
            js.update(np.flatnonzero(alike[i]).tolist())
        for j in sorted(js):
            yield o, added[j]


def rank_candidates(
    old: FieldView, added: Sequence[FieldView], k: int = 3, vocab: frozenset[str] = frozenset()
) -> list[RenameCandidate]:
    """The ``k`` best-scoring added fields for one removed field (evidence, alternatives)."""
    scored = [score_pair(old, n, vocab) for n in added]
    scored.sort(key=lambda c: (-c.confidence, -c.signals.get("name", 0.0), c.new))
    return [c for c in scored if c.confidence > 0][:k]


def placed(
    before: Sequence[FieldView], after: Sequence[FieldView]
) -> tuple[dict[str, FieldView], dict[str, FieldView]]:
    """The removed and added fields of two versions (each in its schema's order), each
    told where it sits among the fields both versions keep: the nearest kept field before
    and after it. A field renamed in place keeps its neighbours; one removed while another
    is added elsewhere does not."""
    kept = {v.path for v in before} & {v.path for v in after}

    def gaps(views: Sequence[FieldView]) -> dict[str, FieldView]:
        out: dict[str, FieldView] = {}
        prev = ""
        pending: list[FieldView] = []
        for v in views:
            if v.path in kept:
                out.update((p.path, replace(p, gap=(prev, v.path))) for p in pending)
                prev, pending = v.path, []
            else:
                pending.append(v)
        out.update((p.path, replace(p, gap=(prev, ""))) for p in pending)
        return out

    return gaps(before), gaps(after)


def schema_vocabulary(paths: Iterable[str]) -> frozenset[str]:
    """Every word used in ``paths`` (for :func:`match_renames`' ``vocab``)."""
    return frozenset(t for p in paths for t in _tokens(p))


def scored_pairs(
    removed: Sequence[FieldView],
    added: Sequence[FieldView],
    vocab: frozenset[str],
    model: RenameModel | None = None,
) -> list[Scored]:
    """Every candidate pair with its pattern and learned score (rules applied)."""
    return [_score(o, n, vocab, model) for o, n in _candidate_pairs(removed, added)]


def match_renames(
    removed: Sequence[FieldView],
    added: Sequence[FieldView],
    vocab: frozenset[str] = frozenset(),
    model: RenameModel | None = None,
) -> list[RenameCandidate]:
    """One-to-one rename pairs at or above :data:`RENAME_THRESHOLD`, best first.

    Assignment is greedy by confidence (ties: name similarity, then position); a pair
    whose runner-up on either side is confident too and within a small margin is capped
    below the auto-apply range, since the evidence cannot tell the two apart.
    """
    rivals = [f for f in (*removed, *added) if f.description]
    table: dict[tuple[str, str], RenameCandidate] = {}
    in_gap = Counter(f.gap for f in (*removed, *added) if f.gap is not None)
    swaps: dict[tuple[str, str], list[Scored]] = {}
    for s in scored_pairs(removed, added, vocab, model):
        conf = _confidence(s)
        if (w := _swapped_word(s)) is not None:
            swaps.setdefault(w, []).append(s)
        if s.score > 0 and _alone_in_place(s, in_gap):
            conf = max(conf, GAP_FLOOR)
        c = RenameCandidate(
            s.old.path, s.new.path, round(conf, 4), s.pattern, s.transform, s.signals
        )
        if not c.is_rename and c.confidence > 0 and c.pattern in ("fuzzy", "extended"):
            c = _description_match(s.old, s.new, rivals) or c
        if c.confidence > 0:
            table[(c.old, c.new)] = c
    for c in [c for c in table.values() if c.is_rename and c.signals["type"] >= 0.9]:
        # an object flattened to its value (StateCode {StateCode.Value} -> statecode): the
        # value child is the renamed field; the object, a new shape, is not
        parent = table.get((c.old.rsplit(".", 1)[0], c.new)) if "." in c.old else None
        if parent is not None and parent.signals["type"] <= 0.75:
            del table[(parent.old, parent.new)]
    _identifiers(table, removed, added, vocab)
    _vocabulary_swaps(table, swaps)
    ranked = sorted(
        table.values(),
        key=lambda c: (-c.confidence, -c.signals["name"], -c.signals["position"], c.old, c.new),
    )
    by_old: dict[str, list[float]] = {}
    by_new: dict[str, list[float]] = {}
    for c in table.values():
        by_old.setdefault(c.old, []).append(c.confidence)
        by_new.setdefault(c.new, []).append(c.confidence)
    fields_of: dict[str, list[RenameCandidate]] = {}  # the plausible pairs of each field
    for c in table.values():
        if c.is_rename:
            fields_of.setdefault(c.old, []).append(c)
            fields_of.setdefault(c.new, []).append(c)
    used_old: set[str] = set()
    used_new: set[str] = set()
    pairs: list[RenameCandidate] = []
    for c in ranked:
        if not c.is_rename or c.old in used_old or c.new in used_new:
            continue
        open_pairs = (*fields_of[c.old], *fields_of[c.new])
        if c.confidence < 0.9 and _open_rival(c, open_pairs, used_old, used_new):
            continue  # two plausible answers, neither sure (euid or leid -> id): no choice
        used_old.add(c.old)
        used_new.add(c.new)
        runner_up = max(
            _runner_up(by_old[c.old], c.confidence), _runner_up(by_new[c.new], c.confidence)
        )
        if c.confidence >= 0.9 and runner_up >= c.confidence - _AMBIGUOUS_MARGIN:
            c = RenameCandidate(
                c.old,
                c.new,
                min(c.confidence, _AMBIGUOUS_CAP),
                c.pattern,
                c.transform,
                {**c.signals, "runner_up": round(runner_up, 4)},
            )
        pairs.append(c)
    return pairs


def _alone_in_place(s: Scored, in_gap: Counter[tuple[str, str]]) -> bool:
    """The only field removed and the only field added between the same two kept fields,
    of a compatible type, naming the same thing (the same last meaningful word:
    ``account_balance`` -> ``balance``, ``contact_count`` -> ``membership_count``)."""
    if s.pattern in ("qualified", "inverted") or s.old.gap is None or s.old.gap != s.new.gap:
        return False
    if in_gap[s.old.gap] != 2 or s.signals["type"] < 0.9:
        return False
    a, b = core(s.old.path), core(s.new.path)
    return bool(a) and a[-1:] == b[-1:]


def _swapped_word(s: Scored) -> tuple[str, str] | None:
    """(old word, new word) when the two names differ by one word replaced by an unrelated
    one, every other word the same and the leaf still saying something of its own
    (``builds_enabled`` -> ``jobs_enabled``)."""
    if s.pattern != "fuzzy" or s.score <= 0 or s.signals["type"] < 0.9:
        return None
    a, b = _tokens(s.old.path), _tokens(s.new.path)
    if len(a) < 2 or len(a) != len(b) or s.old.path.count(".") != s.new.path.count("."):
        return None
    al = align(a, b)
    if al.kinds or len(al.left) != 1 or len(al.right) != 1:
        return None
    x, y = al.left[0], al.right[0]
    if tuple(y if t == x else t for t in a) != b:
        return None  # other words moved too
    if any(c.isdigit() for c in x + y) or not set(core(s.old.path.rsplit(".", 1)[-1])) - set(
        core(x)
    ):
        return None  # a number, or the leaf's only meaningful word (created_at -> seat_at)
    return singular(x), singular(y)


def _vocabulary_swaps(
    table: dict[tuple[str, str], RenameCandidate], swaps: dict[tuple[str, str], list[Scored]]
) -> None:
    """The API renamed a term (build -> job): the same word replaced by the same other word
    in two or more removed fields, each paired with a distinct added field, is a plausible
    rename of each; so is one word of a long name (four words or more) replaced, the rest
    in place. Never sure: a feature dropped for a parallel one looks alike."""
    for pairs in swaps.values():
        if len({s.old.path for s in pairs}) < 2 or len({s.new.path for s in pairs}) < 2:
            # alone, only in a long leaf: one word of four or more replaced in place
            pairs = [s for s in pairs if len(_tokens(s.old.path.rsplit(".", 1)[-1])) >= 4]
        for s in pairs:
            c = table.get((s.old.path, s.new.path))
            if c is not None and c.confidence < SWAP_FLOOR:
                table[(s.old.path, s.new.path)] = replace(c, confidence=SWAP_FLOOR)


def _id_tokens(path: str, vocab: frozenset[str]) -> tuple[str, ...]:
    """A path's words, a glued identifier split when its front is a word the schema uses
    (``ACCOUNTID`` -> account, id when ``Account Name`` is a field)."""
    toks = _tokens(path)
    if len(toks) == 1 and len(toks[0]) > 4 and toks[0].endswith("id") and toks[0][:-2] in vocab:
        return (toks[0][:-2], "id")
    return toks


def _identifiers(
    table: dict[tuple[str, str], RenameCandidate],
    removed: Sequence[FieldView],
    added: Sequence[FieldView],
    vocab: frozenset[str],
) -> None:
    """The record's identifier respelled (``id`` -> ``gid``, ``vid`` -> ``id``, ``id`` ->
    ``list_id``): when one removed identifier and one added identifier at the same depth
    pair only with each other, with compatible types, the pair is a plausible rename
    (never sure on names)."""
    olds = [(o, _id_tokens(o.path, vocab)) for o in removed]
    news = [(n, _id_tokens(n.path, vocab)) for n in added]
    olds = [(o, t) for o, t in olds if 0 < len(t) <= 2 and t[-1].endswith(("id", "key"))]
    news = [(n, t) for n, t in news if 0 < len(t) <= 2 and t[-1].endswith(("id", "key"))]
    ids = [
        (o, n)
        for o, a in olds
        for n, b in news
        if o.path.count(".") == n.path.count(".")  # followers.id is another record's
        and id_form(a, b)
        and type_factor(o, n) >= 0.9
    ]
    by_old = Counter(o.path for o, _ in ids)
    by_new = Counter(n.path for _, n in ids)
    for o, n in ids:
        if by_old[o.path] != 1 or by_new[n.path] != 1:
            continue
        c = table.get((o.path, n.path))
        if c is None:
            position = round(1.0 - abs(o.position - n.position), 4)
            signals = {
                "name": round(name_similarity(o.path, n.path), 4),
                "type": type_factor(o, n),
                "position": position,
            }
            c = RenameCandidate(o.path, n.path, 0.0, "identifier", None, signals)
        if c.confidence < ID_FLOOR:
            table[(o.path, n.path)] = replace(c, confidence=ID_FLOOR)


def _open_rival(
    c: RenameCandidate,
    candidates: Iterable[RenameCandidate],
    used_old: set[str],
    used_new: set[str],
) -> bool:
    """Another pair still open for one of ``c``'s fields, at the rename threshold and
    within the ambiguity margin of ``c``."""
    floor = max(RENAME_THRESHOLD, c.confidence - _AMBIGUOUS_MARGIN)
    return any(
        r.confidence >= floor
        and (r.old == c.old) != (r.new == c.new)
        and r.old not in used_old
        and r.new not in used_new
        for r in candidates
    )


def _runner_up(values: list[float], own: float) -> float:
    """The best of ``values`` once one occurrence of ``own`` is left out."""
    rest = list(values)
    rest.remove(own)
    return max(rest, default=0.0)
