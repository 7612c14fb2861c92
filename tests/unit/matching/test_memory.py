"""The tenant's mapping memory: an approved unusual mapping is suggested with high confidence
for the same field in another connection of that tenant, and not in another tenant."""

from autonomos.matching import MappingMemory, Matcher, SourceField, SourceSchema

from .conftest import HashEmbedder

UNUSUAL = SourceField("zq_handle", "string", "Primary handle")


def people(extra: SourceField = UNUSUAL, system: str = "hr") -> SourceSchema:
    return SourceSchema(
        fields=(
            SourceField("id"),
            SourceField("given_name"),
            SourceField("family_name"),
            SourceField("job_title"),
            extra,
            SourceField("notes"),
        ),
        system=system,
        object="people",
    )


def mapping(s, field):
    return next(m for m in s.mappings if m.source_field == field)


def test_without_memory_the_unusual_field_is_not_mapped(ontology):
    s = Matcher(ontology).suggest(people())
    assert s.entity == "contact"
    assert mapping(s, "zq_handle").target is None


def test_an_approval_is_recalled_for_the_same_field_in_another_connection(ontology):
    memory = MappingMemory(tenant_id="tenant-a")
    memory.approve(UNUSUAL, "contact.email", system="hr", object="people")
    s = Matcher(ontology, memory=memory).suggest(people(system="crm"))
    m = mapping(s, "zq_handle")
    assert m.target == "contact.email"
    assert m.confidence >= 0.95
    # the rest of the suggestion is unchanged by the memory
    assert mapping(s, "given_name").target == "contact.first_name"


def test_another_tenants_memory_does_not_help(ontology):
    mine = MappingMemory(tenant_id="tenant-a")
    mine.approve(UNUSUAL, "contact.email")
    theirs = MappingMemory(tenant_id="tenant-b")
    s = Matcher(ontology, memory=theirs).suggest(people())
    assert mapping(s, "zq_handle").target is None
    assert theirs.recall(list(people().fields)) == {}


def test_memory_recalls_a_close_field_through_embeddings(ontology):
    emb = HashEmbedder()
    memory = MappingMemory(tenant_id="tenant-a", embedder=emb)
    memory.approve(
        SourceField("zq_handle", "string", "Primary handle of the person"), "contact.email"
    )
    near = SourceField("zq_handle_v2", "string", "Primary handle of the person")
    s = Matcher(ontology, embedder=emb, memory=memory).suggest(people(extra=near))
    assert mapping(s, "zq_handle_v2").target == "contact.email"


def test_a_rejection_takes_a_suggestion_away(ontology):
    plain = Matcher(ontology).suggest(people())
    assert mapping(plain, "job_title").target == "contact.title"
    memory = MappingMemory(tenant_id="tenant-a")
    memory.reject(SourceField("job_title"), "contact.title")
    s = Matcher(ontology, memory=memory).suggest(people())
    assert mapping(s, "job_title").target != "contact.title"


def test_approving_again_replaces_the_earlier_decision():
    memory = MappingMemory()
    memory.reject("zq_handle", "contact.email")
    memory.approve("zq_handle", "contact.email")
    assert len(memory) == 1 and memory.items[0].approved


def test_memory_round_trips_through_records(ontology):
    memory = MappingMemory(tenant_id="tenant-a")
    memory.approve(UNUSUAL, "contact.email", system="hr", object="people")
    again = MappingMemory.from_records("tenant-a", [i.to_dict() for i in memory.items])
    s = Matcher(ontology, memory=again).suggest(people(system="crm"))
    assert mapping(s, "zq_handle").target == "contact.email"
