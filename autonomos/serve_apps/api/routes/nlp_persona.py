"""/nlp/v1/persona/summary and /nlp/v1/ask: persona briefings and answers to free
questions from the caller's tenant's views, agent findings and knowledge base.

Viewer role. Every number is a fact with its source (view and query, finding id, KB
passage); ``demo: true`` marks demo content (demo mode, no data yet). Past the tenant's
daily LLM token budget both answer 429 ``llm_budget_exceeded`` with ``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from autonomos.nlp.personas import Answer, Briefing, Persona
from autonomos.serve_apps.api.deps import PersonasDep, Viewer
from autonomos.serve_apps.api.errors import errors
from autonomos.serve_apps.api.schemas import Strict

router = APIRouter(prefix="/nlp/v1", tags=["personas"], responses=errors(503))


class AskIn(Strict):
    question: str = Field(min_length=1, max_length=2_000, description="A free question.")
    persona: Persona | None = Field(
        None, description="Answer as this persona instead of routing the question."
    )


@router.get("/persona/summary", operation_id="getPersonaSummary")
async def persona_summary(
    principal: Viewer,
    personas: PersonasDep,
    persona: Annotated[Persona, Query(description="Who the briefing is for.")],
) -> Briefing:
    """A briefing for ``persona`` from the tenant's unified views and agent findings."""
    return await personas.summary(principal.tenant_id, persona)


@router.post("/ask", operation_id="askQuestion")
async def ask(principal: Viewer, personas: PersonasDep, body: AskIn) -> Answer:
    """Route ``question`` to a persona (with the router's confidence) and answer it with
    citations from the views, the findings and the knowledge base."""
    question = body.question.strip()
    return await personas.ask(principal.tenant_id, question, body.persona)
