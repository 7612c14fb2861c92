from pathlib import Path

import pytest
import yaml

from autonomos.ontology import OntologyError, load_ontology
from autonomos.ontology.loader import parse_ontology

CONTRACT = Path(__file__).resolve().parents[4] / "shared" / "ontology-v1.yaml"


def test_shipped_ontology_loads_with_one_pk_per_entity():
    onto = load_ontology()
    assert {"account", "contact", "opportunity", "invoice", "payment", "cloud_cost"} <= set(
        onto.entity_names
    )
    assert onto.entity("payment").pk.name == "payment_id"
    entity, field = onto.resolve("invoice.amount_due")
    assert (entity.name, field.type) == ("invoice", "decimal")


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared contract not beside the checkout")
def test_shipped_ontology_is_a_superset_of_the_contract():
    contract = yaml.safe_load(CONTRACT.read_text())
    onto = load_ontology()
    for ename, body in contract["entities"].items():
        entity = onto.entity(ename)
        for fname, spec in body["fields"].items():
            assert entity.field(fname).type == spec["type"], f"{ename}.{fname}"


@pytest.mark.parametrize(
    "doc, message",
    [
        ([], "mapping"),
        ({"entities": {"a": {"fields": {"x": {"type": "string"}}}}}, "primary-key"),
        ({"entities": {"a": {"fields": {"x": {"type": "money", "pk": True}}}}}, "invalid"),
        ({"entities": {"Bad Name": {"fields": {"x": {"type": "string", "pk": True}}}}}, "snake"),
        ({"entities": {"a": {"fields": {"x": {"type": "string", "pk": True, "z": 1}}}}}, "invalid"),
    ],
)
def test_invalid_ontologies_are_refused_with_a_reason(doc, message):
    with pytest.raises(OntologyError, match=message):
        parse_ontology(doc)


def test_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(OntologyError, match="cannot read"):
        load_ontology(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities: [unclosed")
    with pytest.raises(OntologyError, match="cannot read"):
        load_ontology(bad)
