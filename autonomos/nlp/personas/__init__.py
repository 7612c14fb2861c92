"""Personas (CTO, CRO, COO, CFO): summaries of the tenant's unified views and agent
findings, and answers to free questions routed to a persona, every number cited."""

from autonomos.nlp.personas.catalog import SPECS, Persona, PersonaSpec
from autonomos.nlp.personas.router import (
    EmbeddingRouter,
    LexicalRouter,
    Router,
    Routing,
    cross_validate,
    load_examples,
)
from autonomos.nlp.personas.service import Answer, Briefing, PersonaService

__all__ = [
    "SPECS",
    "Answer",
    "Briefing",
    "EmbeddingRouter",
    "LexicalRouter",
    "Persona",
    "PersonaService",
    "PersonaSpec",
    "Router",
    "Routing",
    "cross_validate",
    "load_examples",
]
