"""Persona routing on the labelled set shipped with the package (lexical model here: no
weights to load; benchmarks/persona_routing.py measures the embedding router too)."""

from __future__ import annotations

from collections import Counter

import pytest

from autonomos.nlp.personas import LexicalRouter, Persona, cross_validate, load_examples


def test_the_labelled_set_is_balanced_and_distinct() -> None:
    examples = load_examples()
    assert Counter(p for _, p in examples) == {p: 30 for p in Persona}
    assert len({q.lower() for q, _ in examples}) == len(examples)


def test_lexical_router_cross_validated_beats_the_baseline_by_far() -> None:
    result = cross_validate(lambda train: LexicalRouter(train), load_examples(), folds=5)
    # measured: 0.608 (5 folds, seed 0); the majority class scores 0.25
    assert result["accuracy"] >= 0.55, result
    assert len(result["per_fold"]) == 5 and result["n"] == 120
    # confident when right, less so when wrong
    assert result["mean_confidence_right"] > result["mean_confidence_wrong"]


@pytest.mark.parametrize(
    ("question", "persona"),
    [
        ("which deals slipped this quarter", Persona.CRO),
        ("how much is overdue on invoices", Persona.CFO),
        ("how many support tickets are open", Persona.COO),
        ("which aws services cost the most", Persona.CTO),
    ],
)
def test_clear_questions(question: str, persona: Persona) -> None:
    routing = LexicalRouter(load_examples()).route(question)
    assert routing.persona is persona and routing.router == "lexical"
    assert abs(sum(routing.scores.values()) - 1) < 1e-3


def test_a_question_about_nothing_is_not_confident() -> None:
    routing = LexicalRouter(load_examples()).route("qwxz blorp")
    assert routing.confidence < 0.4
