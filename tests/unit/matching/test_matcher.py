import itertools
import random
from collections import Counter

import numpy as np
import pytest

from autonomos.matching import FieldSuggestion, Matcher, SourceField, SourceSchema, Suggestion
from autonomos.matching.model import CAL_FEATURES, default_model
from autonomos.matching.synth import Generator

from .conftest import HashEmbedder

CRM_DEALS = SourceSchema(
    fields=(
        SourceField("dealId", "string", "Unique identifier of the deal"),
        SourceField("dealName", "string", "Name of the deal"),
        SourceField("amount", "number", "Deal value"),
        SourceField("currencyCode", "string"),
        SourceField("dealStage", "string", "Current pipeline stage"),
        SourceField("closeDate", "date"),
        SourceField("companyId", "string", "The company the deal is with"),
        SourceField("createdAt", "datetime"),
        SourceField("lastModifiedAt", "datetime"),
        SourceField("isArchived", "boolean"),
        SourceField("hs_analytics_source", "string"),
        SourceField("num_notes", "integer"),
        SourceField("notes_last_contacted", "datetime"),
        SourceField("properties.dealtype", "string"),
        SourceField("_etl_loaded_at", "timestamp"),
    ),
    system="crm",
    object="deals",
)


def targets(s: Suggestion) -> dict[str, str | None]:
    return {m.source_field: m.target for m in s.mappings}


def test_decides_entity_and_maps_a_deal_object(lexical_matcher):
    s = lexical_matcher.suggest(CRM_DEALS)
    assert s.entity == "opportunity"
    assert s.entity_confidence > 0.5
    got = targets(s)
    assert got["dealId"] == "opportunity.opportunity_id"
    assert got["amount"] == "opportunity.amount"
    assert got["currencyCode"] == "opportunity.currency"
    assert got["closeDate"] == "opportunity.close_date"
    assert got["companyId"] == "opportunity.account_id"
    assert got["createdAt"] == "opportunity.created_at"
    assert got["lastModifiedAt"] == "opportunity.updated_at"
    assert got["isArchived"] == "opportunity.is_deleted"
    assert got["_etl_loaded_at"] is None
    assert got["num_notes"] is None


def test_every_field_gets_a_bounded_confidence_and_ranked_alternatives(lexical_matcher):
    s = lexical_matcher.suggest(CRM_DEALS)
    assert len(s.mappings) == len(CRM_DEALS.fields)
    for m in s.mappings:
        assert isinstance(m, FieldSuggestion)
        assert 0.0 <= m.confidence <= 1.0
        assert len(m.alternatives) <= 3
        probs = [p for _, p in m.alternatives]
        assert probs == sorted(probs, reverse=True)
        assert all(t.startswith(s.entity + ".") for t, _ in m.alternatives)
        if m.target:
            assert m.signals["name"] >= 0 and "type" in m.signals


def test_never_two_source_fields_on_one_target(lexical_matcher, ontology):
    gen = Generator(ontology, seed=11)
    for labelled in gen.generate(3):
        s = lexical_matcher.suggest(labelled.schema)
        used = Counter(m.target for m in s.mappings if m.target)
        assert all(n == 1 for n in used.values()), used.most_common(3)
        assert all(m.target.startswith(s.entity + ".") for m in s.mapped)


def test_precision_is_high_on_generated_schemas(lexical_matcher, ontology):
    gen = Generator(ontology, seed=5)
    tp = fp = hi_tp = hi_fp = 0
    for labelled in gen.generate(4):
        s = lexical_matcher.suggest(labelled.schema)
        for m in s.mapped:
            ok = labelled.truth.get(m.source_field) == m.target
            tp, fp = tp + ok, fp + (not ok)
            if m.confidence >= 0.9:
                hi_tp, hi_fp = hi_tp + ok, hi_fp + (not ok)
    assert tp / (tp + fp) > 0.8
    assert hi_tp / (hi_tp + hi_fp) > 0.93


def test_object_name_steers_the_entity(lexical_matcher):
    fields = (SourceField("id"), SourceField("status"), SourceField("created_at", "timestamp"))
    assert lexical_matcher.suggest(SourceSchema(fields, object="tickets")).entity == "ticket"
    assert lexical_matcher.suggest(SourceSchema(fields, object="invoices")).entity == "invoice"


def test_entity_can_be_imposed(lexical_matcher):
    s = lexical_matcher.suggest(CRM_DEALS, entity="account")
    assert s.entity == "account"
    assert all(m.target.startswith("account.") for m in s.mapped)


def test_value_profiles_break_ties(ontology):
    m = Matcher(ontology)
    fields = (
        SourceField("id"),
        SourceField("first_name"),
        SourceField("contact_1", "string", samples=("ana@acme.com", "bo@globex.io", "c@x.de")),
        SourceField(
            "contact_2", "string", samples=("+1 415 555 0100", "+44 20 7946 0958", "+49 30 1234567")
        ),
    )
    results, _ = m.score_entities(SourceSchema(fields, object="people"))
    contact = next(r for r in results if r.entity == "contact")
    names = [t.name for t in m.index.targets[m.index.slices["contact"]]]
    email, phone = names.index("email"), names.index("phone")
    assert contact.probs[2, email] > contact.probs[2, phone]
    assert contact.probs[3, phone] > contact.probs[3, email]


def test_calibrator_is_monotone_and_bounded():
    model = default_model(dense=False)
    base = np.zeros(len(CAL_FEATURES))
    lg = CAL_FEATURES.index("logit")
    out = []
    for z in np.linspace(-12, 12, 49):
        f = base.copy()
        f[lg] = z
        out.append(float(model.calibrator(f[None, :])[0]))
    assert all(0.0 <= p <= 1.0 for p in out)
    assert all(b >= a for a, b in itertools.pairwise(out))
    for name in ("row_gap", "col_gap", "row_share", "col_share"):
        assert model.calibrator.weights[CAL_FEATURES.index(name)] >= 0


def test_dense_signal_is_used_when_an_embedder_is_given(ontology):
    emb = HashEmbedder()
    m = Matcher(ontology, embedder=emb)
    s = m.suggest(CRM_DEALS)
    assert s.entity == "opportunity"
    assert any(x.signals.get("dense", 0) > 0 for x in s.mapped)
    calls = emb.calls
    m.suggest(CRM_DEALS)  # warm: every text is cached by the matcher
    assert emb.calls == calls


def test_embedder_failure_falls_back_to_lexical(ontology):
    class Broken:
        def encode(self, texts):
            raise RuntimeError("no model here")

    warnings = []
    m = Matcher(ontology, embedder=Broken(), on_embedder_error=warnings.append)
    s = m.suggest(CRM_DEALS)
    assert s.entity == "opportunity"
    assert warnings and "lexical" in warnings[0]
    assert m.embedder is None


def test_empty_schema_gives_no_mappings(lexical_matcher):
    s = lexical_matcher.suggest(SourceSchema(()))
    assert s.mappings == []


@pytest.mark.parametrize("n", [150])
def test_large_object_is_fast_when_warm(lexical_matcher, ontology, n):
    import time

    gen = Generator(ontology, seed=3)
    fields: list[SourceField] = []
    rng = random.Random(0)
    while len(fields) < n:
        for f in gen.schema(rng.choice(ontology.entities)).schema.fields:
            if len(fields) < n and f.name not in {x.name for x in fields}:
                fields.append(f)
    schema = SourceSchema(tuple(fields), object="things")
    lexical_matcher.suggest(schema)
    t = time.perf_counter()
    lexical_matcher.suggest(schema)
    assert time.perf_counter() - t < 1.0  # generous for CI; benchmarks/matching.py measures


def test_a_non_business_object_gets_no_entity(lexical_matcher):
    fields = (
        SourceField("id", "integer"),
        SourceField("name", "string"),
        SourceField("sku", "string"),
        SourceField("unit_price", "number"),
        SourceField("quantity_on_hand", "integer"),
        SourceField("income_account_ref", "string"),
        SourceField("taxable", "boolean"),
        SourceField("weight", "number"),
    )
    s = lexical_matcher.suggest(SourceSchema(fields, "shop", "products"))
    assert s.entity is None
    assert 0.5 <= s.entity_confidence <= 1.0  # the probability that no entity fits
    assert all(m.target is None for m in s.mappings)
    assert s.entity_scores["none"] == pytest.approx(s.entity_confidence)


SHARED = (
    SourceField("id", "string"),
    SourceField("email", "string"),
    SourceField("phone", "string"),
    SourceField("created_at", "timestamp"),
    SourceField("updated_at", "timestamp"),
)


def test_customers_are_people_or_companies_by_their_attributes(lexical_matcher):
    people = SHARED + tuple(SourceField(n) for n in ("first_name", "last_name", "gender"))
    people += (SourceField("birthday", "date"),)
    firms = SHARED + tuple(SourceField(n) for n in ("name", "industry", "tax_number"))
    firms += (SourceField("number_of_employees", "integer"),)
    person = lexical_matcher.suggest(SourceSchema(people, "shop", "customers"))
    firm = lexical_matcher.suggest(SourceSchema(firms, "billing", "customers"))
    assert person.entity == "contact" and person.entity_scores["account"] < 0.2
    assert firm.entity == "account" and firm.entity_scores["contact"] < 0.2


def test_a_record_holding_payments_is_not_a_payment(lexical_matcher):
    own = tuple(SourceField(n, "number") for n in ("subtotal", "tax", "total"))
    own += (SourceField("id"), SourceField("status"), SourceField("invoice_number"))
    own += (SourceField("currency_code"), SourceField("created_at", "timestamp"))
    payments = (
        SourceField("payments", "array<object>"),
        SourceField("payments.amount", "number"),
        SourceField("payments.method"),
        SourceField("payments.captured_at", "timestamp"),
    )
    holding = lexical_matcher.suggest(SourceSchema(own + payments, "x", "transactions"))
    alone = lexical_matcher.suggest(SourceSchema(own, "x", "transactions"))
    assert holding.entity == "invoice"
    assert holding.entity_scores["payment"] < alone.entity_scores["payment"]


def test_a_name_that_names_no_entity_lets_none_win_over_lookalike_fields(lexical_matcher):
    fields = tuple(SourceField(n) for n in ("id", "name", "assignee_id", "priority", "status"))
    fields += (SourceField("tags", "array<string>"), SourceField("due_date", "date"))
    fields += (SourceField("date_created", "timestamp"), SourceField("date_modified", "timestamp"))
    tasks = lexical_matcher.suggest(SourceSchema(fields, "crm", "tasks"))
    tickets = lexical_matcher.suggest(SourceSchema(fields, "crm", "tickets"))
    assert tasks.entity is None and tasks.entity_confidence > 0.5
    assert tickets.entity == "ticket"


def test_a_structure_whose_members_are_listed_is_not_mapped_its_members_are(lexical_matcher):
    from autonomos.matching.decide import containers
    from autonomos.matching.signals import prepare_source

    fields = (SourceField("id"), SourceField("first_name"), SourceField("last_name"))
    fields += (SourceField("emails", "array<object>"), SourceField("emails.email"))
    fields += (SourceField("websites", "array<object>"), SourceField("address", "object"))
    fields += (SourceField("address/city"),)
    people = SourceSchema(fields, "crm", "people")
    flags = containers(prepare_source(people))
    boxed = {f.name for f, c in zip(people.fields, flags, strict=True) if c}
    assert boxed == {"emails", "address"}  # `websites` lists no members: it may map
    got = targets(lexical_matcher.suggest(people))
    assert got["emails"] is None and got["address"] is None

    ref = (SourceField("CustomerRef", "object"), SourceField("CustomerRef.value"))
    ref += (SourceField("CurrencyRef", "object"), SourceField("CurrencyRef.value"))
    own = (SourceField("Id"), SourceField("DocNumber"), SourceField("TotalAmt", "number"))
    got = targets(lexical_matcher.suggest(SourceSchema(own + ref, "books", "invoices")))
    assert got["CustomerRef"] is None and got["CurrencyRef"] is None
    assert got["CustomerRef.value"] == "invoice.account_id"
    assert got["CurrencyRef.value"] == "invoice.currency"
