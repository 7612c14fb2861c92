"""What a source object's fields say about the kind of record it is, beyond the pairs.

The entity decision weighs each entity's assignment; some evidence lies in fields that map
onto no ontology field at all:

- person vs organisation (:func:`kind_evidence`): a birthday, a gender or a salutation say
  the record is a person; a tax number, a ticker or a legal name that it is an
  organisation. This settles the ``customers`` objects that are people in one system and
  companies in another, where the name and the mapped fields are split.
- collections held (:func:`held_entities`): a record that holds a list of payments
  (``payments[].amount``) or of persons (``ContactPersons``) is not itself a payment or a
  person.

Both read only field names (general vocabulary in :mod:`~autonomos.matching.lexicon`),
never an entity's fitted parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from autonomos.common.text import singular
from autonomos.matching.lexicon import (
    ABBREVIATIONS,
    ENTITY_KIND,
    ENTITY_WORDS,
    ORGANISATION_WORDS,
    PERSON_WORDS,
)
from autonomos.matching.signals import PreparedField, usual_depth
from autonomos.matching.text import split_path, split_words


def _expanded(words: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for w in words:
        w = w.lower()
        out.update(ABBREVIATIONS.get(w, (w,)))
        out.add(singular(w))
    return frozenset(out)


def _concepts(leaf: frozenset[str], vocab: Mapping[str, tuple[tuple[str, ...], ...]]) -> set[str]:
    return {c for c, phrases in vocab.items() if any(set(p) <= leaf for p in phrases)}


def kind_evidence(fields: Sequence[PreparedField]) -> tuple[int, int]:
    """(person, organisation): how many distinct person-only and organisation-only
    attributes the record has at its own level (nested objects are about something else)."""
    base = usual_depth(fields)
    person: set[str] = set()
    org: set[str] = set()
    for pf in fields:
        if pf.meta or pf.depth > base:
            continue
        leaf = _expanded(pf.raw_leaf)
        person |= _concepts(leaf, PERSON_WORDS)
        org |= _concepts(leaf, ORGANISATION_WORDS)
    return len(person), len(org)


def kind_scores(fields: Sequence[PreparedField], entities: Iterable[str]) -> dict[str, float]:
    """Entity -> -1..1: how far the person/organisation evidence speaks for the entity's
    kind (0 for entities that are neither, or when the fields say nothing)."""
    person, org = kind_evidence(fields)
    lean = (person - org) / (person + org + 1)
    out = {}
    for ent in entities:
        kind = ENTITY_KIND.get(ent)
        out[ent] = lean if kind == "person" else -lean if kind == "organisation" else 0.0
    return out


def _entity_words(entity: str) -> frozenset[str]:
    return frozenset(singular(w) for w in (*split_words(entity), *ENTITY_WORDS.get(entity, ())))


def held_entities(fields: Sequence[PreparedField], entities: Iterable[str]) -> dict[str, float]:
    """Entity -> 1 when the record holds a collection named for it: a nested object or an
    array named in the plural with the entity's words only (``payments``,
    ``ContactPersons``, ``charges``; not ``social_profiles``), else 0."""
    held: set[tuple[str, ...]] = set()
    for pf in fields:
        segments = split_path(pf.field.name) or [pf.field.name]
        holders = segments[:-1] + (segments[-1:] if pf.type == "json" else [])
        for seg in holders:
            words = tuple(w.lower() for w in split_words(seg))
            if words and singular(words[-1]) != words[-1]:
                held.add(tuple(singular(w) for w in words))
    out = {}
    for ent in entities:
        vocab = _entity_words(ent)
        out[ent] = float(any(set(words) <= vocab for words in held))
    return out
