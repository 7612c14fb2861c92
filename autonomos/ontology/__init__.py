"""The canonical ontology every mapping targets (YAML shipped in the package + loader)."""

from autonomos.ontology.loader import (
    FIELD_TYPES,
    Entity,
    Field,
    Ontology,
    OntologyError,
    load_ontology,
)

__all__ = ["FIELD_TYPES", "Entity", "Field", "Ontology", "OntologyError", "load_ontology"]
