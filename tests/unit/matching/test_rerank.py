"""The LLM re-ranking seam, with small stand-ins for the LLM port (``complete_json``)."""

import numpy as np

from autonomos.matching import Matcher, SourceField, SourceSchema
from autonomos.matching.rerank import ambiguous_fields, apply_answer

AMBIGUOUS = SourceSchema(
    fields=(
        SourceField("id"),
        SourceField("customer"),
        SourceField("cost", "number", "What was charged"),
        SourceField("status"),
    ),
    object="invoices",
)


class ScriptedLLM:
    """Answers each prompt with the candidate whose key contains ``prefer`` (else 'none')."""

    def __init__(self, prefer: str, confidence: float = 0.9) -> None:
        self.prefer = prefer
        self.confidence = confidence
        self.prompts: list[str] = []
        self.tenants: list[object] = []

    def complete_json(self, tenant_id, prompt, schema):
        self.prompts.append(prompt)
        self.tenants.append(tenant_id)
        choice = next((c for c in schema["choice"] if self.prefer in c), "none")
        return {"choice": choice, "confidence": self.confidence}


class FailingLLM:
    def complete_json(self, tenant_id, prompt, schema):
        raise RuntimeError("endpoint down")


def cost_target(s):
    return next(m for m in s.mappings if m.source_field == "cost")


def test_ambiguous_fields_are_those_with_a_small_top2_margin():
    probs = np.array([[0.9, 0.1, 0.0], [0.5, 0.45, 0.1], [0.05, 0.04, 0.0], [0.6, 0.58, 0.5]])
    assert ambiguous_fields(probs, margin=0.15, max_fields=10) == [3, 1]
    assert ambiguous_fields(probs, margin=0.15, max_fields=1) == [3]


def test_apply_answer_swaps_keeps_or_damps():
    row = np.array([0.6, 0.5, 0.1])
    assert np.array_equal(apply_answer(row, [0, 1, 2], 0, 0.9), row)
    swapped = apply_answer(row, [0, 1, 2], 1, 1.0)
    assert swapped.argmax() == 1
    damped = apply_answer(row, [0, 1, 2], None, 1.0)
    assert (damped < row).all()


def test_llm_only_sees_ambiguous_fields_and_can_change_the_pick(ontology):
    plain = Matcher(ontology).suggest(AMBIGUOUS)
    assert cost_target(plain).target == "invoice.total"
    llm = ScriptedLLM(prefer="amount_due")
    m = Matcher(ontology, llm=llm, tenant_id="t1", llm_margin=0.5)
    s = m.suggest(AMBIGUOUS)
    assert llm.prompts and m.llm_calls == len(llm.prompts)
    assert all("Field: cost" in p for p in llm.prompts)  # the only ambiguous field
    assert "invoice.amount_due" in llm.prompts[0] and '"none"' in llm.prompts[0]
    assert set(llm.tenants) == {"t1"}
    assert cost_target(s).target == "invoice.amount_due"


def test_llm_saying_none_lowers_the_confidence(ontology):
    plain = Matcher(ontology).suggest(AMBIGUOUS)
    s = Matcher(ontology, llm=ScriptedLLM(prefer="zzz", confidence=1.0), llm_margin=0.5).suggest(
        AMBIGUOUS
    )
    assert (
        cost_target(s).target is None or cost_target(s).confidence < cost_target(plain).confidence
    )


def test_clear_fields_are_never_sent(ontology):
    clear = SourceSchema(
        (SourceField("invoice_id"), SourceField("amount_due", "number")), object="invoices"
    )
    llm = ScriptedLLM(prefer="zzz")
    Matcher(ontology, llm=llm, llm_margin=0.05).suggest(clear)
    assert llm.prompts == []


def test_a_failing_llm_leaves_the_offline_suggestion(ontology):
    plain = Matcher(ontology).suggest(AMBIGUOUS)
    s = Matcher(ontology, llm=FailingLLM(), llm_margin=0.5).suggest(AMBIGUOUS)
    assert [(m.source_field, m.target) for m in s.mappings] == [
        (m.source_field, m.target) for m in plain.mappings
    ]
