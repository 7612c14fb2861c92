"""Object-level evidence for the entity decision: person vs organisation, collections held."""

from autonomos.matching.evidence import held_entities, kind_evidence, kind_scores
from autonomos.matching.schema import SourceSchema
from autonomos.matching.signals import prepare_source

ENTITIES = ("account", "contact", "invoice", "payment", "ticket")


def fields(*names: str, types: dict[str, str] | None = None):
    types = types or {}
    doc = {"object": "x", "fields": [{"name": n, "type": types.get(n, "string")} for n in names]}
    return prepare_source(SourceSchema.from_dict(doc))


def test_person_attributes_speak_for_contact_and_against_account():
    person = fields("id", "givenName", "familyName", "dateOfBirth", "gender", "email")
    assert kind_evidence(person) == (4, 0)
    scores = kind_scores(person, ENTITIES)
    assert scores["contact"] > 0.5 and scores["account"] < -0.5 and scores["invoice"] == 0.0


def test_organisation_attributes_speak_for_account():
    org = fields("id", "name", "industry", "NumberOfEmployees", "vat_number", "ticker_symbol")
    person, organisation = kind_evidence(org)
    assert person == 0 and organisation == 4
    assert kind_scores(org, ENTITIES)["account"] > 0.5


def test_shared_attributes_and_nested_people_say_nothing_about_the_record():
    neutral = fields("id", "name", "email", "phone", "website", "address.city")
    assert kind_evidence(neutral) == (0, 0)
    assert set(kind_scores(neutral, ENTITIES).values()) == {0.0}
    # the owner's name inside a nested object is not the record's
    nested = fields("id", "name", "created_at", "updated_at", "owner.first_name", "owner.last_name")
    assert kind_evidence(nested) == (0, 0)


def test_a_record_holding_a_list_of_payments_is_not_a_payment():
    got = held_entities(
        fields(
            "id",
            "invoice_number",
            "payments",
            "payments.amount",
            "ContactPersons.FirstName",
            types={"payments": "array<object>"},
        ),
        ENTITIES,
    )
    assert got == {"account": 0.0, "contact": 1.0, "invoice": 0.0, "payment": 1.0, "ticket": 0.0}


def test_singular_references_and_other_collections_are_not_held():
    got = held_entities(
        fields(
            "id",
            "payment.id",
            "invoice_id",
            "social_profiles",
            "line_items.amount",
            types={"social_profiles": "array<object>"},
        ),
        ENTITIES,
    )
    assert set(got.values()) == {0.0}
