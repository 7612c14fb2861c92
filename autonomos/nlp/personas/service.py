"""Persona summaries and answers to free questions, from the tenant's own data.

    service = PersonaService(db, dcl, kb, llm=runtime.llm, router=..., demo_mode=...)
    summary = await service.summary(tenant_id, Persona.CFO)
    answer = await service.ask(tenant_id, "which invoices are overdue?")

Facts come from three places, each cited with where it came from: the persona's metrics
over the unified views (the view and the SELECT that reproduces the number), the
agents' findings (the finding's id, its run and its evidence query), and, for questions,
knowledge-base passages (document and chunk). The LLM port writes the headline and the
points from those facts with the persona's own prompt (``catalog.SPECS``); with no LLM
configured, or when the LLM fails (not the budget: that is the caller's 429), the answer
is composed from the facts offline and says why in ``fallback``.

With no data at all and demo mode on, the facts are the demo company's
(``demo.DEMO_FACTS``) and the answer says ``demo: true``; demo content is never mixed
with the tenant's own.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from autonomos.agents.findings import Severity
from autonomos.agents.run_store import list_findings
from autonomos.common.errors import AutonomosError
from autonomos.dcl.port import DCLPort
from autonomos.models.errors import LLMBudgetExceeded, LLMError
from autonomos.models.grounded import Fact, GroundedAnswer, GroundedRequest, compose_offline
from autonomos.models.llm import LLM
from autonomos.nlp.kb import KnowledgeBase
from autonomos.nlp.kb.text import tokenize
from autonomos.nlp.personas.catalog import SPECS, Persona
from autonomos.nlp.personas.demo import DEMO_FACTS
from autonomos.nlp.personas.metrics import METRICS, read_metrics
from autonomos.nlp.personas.router import Router, Routing
from autonomos.store.session import Database

log = logging.getLogger("autonomos.nlp.personas")

MAX_FINDINGS = 3  # per answer; the numbers from the views need room too
MAX_PER_KIND = 2
MAX_PASSAGES = 4
SourceType = Literal["view", "finding", "kb", "demo"]


class Source(BaseModel):
    """Where a fact came from: a view and the query that reproduces it, an agent finding
    (with its run and evidence query), a knowledge-base passage, or the demo data."""

    type: SourceType
    view: str | None = None
    query: str | None = Field(None, description="Runs as is in POST /api/v1/dcl/query.")
    finding_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    document_id: uuid.UUID | None = None
    chunk_id: int | None = None
    title: str | None = None


class FactOut(BaseModel):
    id: str
    statement: str
    kind: Literal["metric", "finding", "passage"]
    source: Source


class PointOut(BaseModel):
    text: str
    citations: list[str] = Field(description="Ids of the facts (in `facts`) it rests on.")


class Briefing(BaseModel):
    persona: Persona
    title: str
    headline: str
    points: list[PointOut]
    facts: list[FactOut]
    model: str = Field(description="What wrote it: the LLM's model, or `offline`.")
    fallback: str | None = Field(
        None, description="Why the answer was composed offline instead of by the LLM."
    )
    demo: bool = Field(description="True when built from demo content, not the tenant's data.")
    generated_at: datetime


class RoutingOut(BaseModel):
    persona: Persona
    confidence: float = Field(description="The router's probability for that persona.")
    scores: dict[str, float]
    router: str


class Answer(Briefing):
    question: str
    routing: RoutingOut


class PersonaService:
    def __init__(
        self,
        db: Database,
        dcl: DCLPort,
        kb: KnowledgeBase | None,
        *,
        llm: Callable[[], LLM | None],
        router: Callable[[], Router],
        demo_mode: bool,
    ) -> None:
        self.db, self.dcl, self.kb = db, dcl, kb
        self._llm, self._router = llm, router
        self.demo_mode = demo_mode

    async def summary(self, tenant_id: uuid.UUID, persona: Persona) -> Briefing:
        spec = SPECS[persona]
        facts, demo = await self._facts(tenant_id, persona)
        request = GroundedRequest(
            system=spec.system,
            instruction=f"Write the {spec.title}: what the {persona.value} should know about "
            f"{spec.focus} this week, most pressing first.",
            facts=tuple(f for f, _ in facts),
            title=spec.title,
        )
        answer, fallback = await self._write(tenant_id, request)
        return Briefing(**_body(persona, spec.title, answer, facts, fallback, demo))

    async def ask(
        self, tenant_id: uuid.UUID, question: str, persona: Persona | None = None
    ) -> Answer:
        if persona is None:
            routing = await asyncio.to_thread(self._router().route, question)
        else:
            routing = Routing(
                persona, 1.0, {p.value: float(p == persona) for p in Persona}, "explicit"
            )
        spec = SPECS[routing.persona]
        facts, demo = await self._facts(tenant_id, routing.persona, question)
        facts = _by_relevance(question, facts)
        request = GroundedRequest(
            system=spec.system,
            instruction=f"Answer the {routing.persona.value}'s question from the facts: {question}",
            facts=tuple(f for f, _ in facts),
            title=f"{routing.persona.value} answer",
        )
        answer, fallback = await self._write(tenant_id, request)
        body = _body(routing.persona, request.title, answer, facts, fallback, demo)
        return Answer(
            **body,
            question=question,
            routing=RoutingOut(
                persona=routing.persona,
                confidence=routing.confidence,
                scores=routing.scores,
                router=routing.router,
            ),
        )

    # -- facts --------------------------------------------------------------------------

    async def _facts(
        self, tenant_id: uuid.UUID, persona: Persona, question: str | None = None
    ) -> tuple[list[tuple[Fact, Source]], bool]:
        """The persona's facts from the tenant's data (and knowledge-base passages for a
        ``question``), or the demo's (and True) when demo mode is on and the tenant has no
        data at all: no view rows, no findings. A tenant with data but nothing for this
        persona gets no facts, never demo ones."""
        out: list[tuple[Fact, Source]] = []
        views = await self._views(tenant_id)
        for value in await read_metrics(self.dcl, tenant_id, METRICS[persona], views):
            fact = Fact(
                f"F{len(out) + 1}",
                value.statement,
                f"view:{value.metric.view}",
                "metric",
                value.metric.weight,
            )
            out.append((fact, Source(type="view", view=value.metric.view, query=value.metric.sql)))
        findings, any_findings = await self._findings(tenant_id, persona, start=len(out) + 1)
        out += findings
        if question is not None:
            out += await self._passages(tenant_id, question, start=len(out) + 1)
        if out or views or any_findings or not self.demo_mode:
            return out, False
        demo = [
            (Fact(f"F{i}", text, "demo", kind, weight), Source(type="demo"))  # type: ignore[arg-type]
            for i, (text, kind, weight) in enumerate(DEMO_FACTS[persona], 1)
        ]
        return demo, True

    async def _views(self, tenant_id: uuid.UUID) -> set[str]:
        try:
            return {v["name"] for v in await self.dcl.list_views(tenant_id) if v["rows"]}
        except AutonomosError as e:  # no views yet, or the DCL is restarting
            log.info("views unavailable for tenant %s: %s", tenant_id, e)
            return set()

    async def _findings(
        self, tenant_id: uuid.UUID, persona: Persona, *, start: int
    ) -> tuple[list[tuple[Fact, Source]], bool]:
        """The latest findings of the persona's kinds, worst first; and whether the tenant
        has any finding at all."""
        kinds = SPECS[persona].finding_kinds
        async with self.db.tenant_session(tenant_id) as s:
            page = await list_findings(s, limit=200)
        latest: dict[str, Any] = {}
        for row in page.items:  # newest first: the first of each key is its latest state
            if row.kind in kinds and row.key not in latest:
                latest[row.key] = row
        rows: list[Any] = []
        per_kind: dict[str, int] = {}
        for row in sorted(latest.values(), key=lambda r: -Severity(r.severity).rank):
            if per_kind.get(row.kind, 0) < MAX_PER_KIND and len(rows) < MAX_FINDINGS:
                per_kind[row.kind] = per_kind.get(row.kind, 0) + 1
                rows.append(row)
        out = []
        for i, row in enumerate(rows, start):
            statement = (row.summary or row.title).strip()
            evidence = row.evidence or {}
            fact = Fact(
                f"F{i}",
                statement,
                f"finding:{row.id}",
                "finding",
                4.0 + Severity(row.severity).rank,
                short=row.title.strip().rstrip("."),
            )
            source = Source(
                type="finding",
                finding_id=row.id,
                run_id=row.run_id,
                agent_id=row.agent_id,
                view=evidence.get("view"),
                query=evidence.get("query"),
                title=row.title,
            )
            out.append((fact, source))
        return out, page.total > 0

    async def _passages(
        self, tenant_id: uuid.UUID, question: str, *, start: int
    ) -> list[tuple[Fact, Source]]:
        """Knowledge-base passages that match the question by words or by meaning
        (hybrid search always fills k; an unrelated passage is not a citation)."""
        if self.kb is None:
            return []
        hits = await self.kb.search(tenant_id, question, k=MAX_PASSAGES)
        out: list[tuple[Fact, Source]] = []
        for hit in hits:
            if not hit.text or not ((hit.bm25 or 0) > 0 or (hit.dense or 0) >= 0.35):
                continue
            i = start + len(out)
            fact = Fact(
                f"F{i}",
                hit.text.strip(),
                f"kb:{hit.document_id}#{hit.chunk_id}",
                "passage",
                3.0 - 0.2 * len(out),
            )
            source = Source(
                type="kb", document_id=hit.document_id, chunk_id=hit.chunk_id, title=hit.title
            )
            out.append((fact, source))
        return out

    # -- writing ------------------------------------------------------------------------

    async def _write(
        self, tenant_id: uuid.UUID, request: GroundedRequest
    ) -> tuple[GroundedAnswer, str | None]:
        llm = self._llm()
        if llm is None:
            return compose_offline(request), "no LLM is configured (AUTONOMOS_LLM_BACKEND=none)"
        try:
            return await asyncio.to_thread(llm.answer, tenant_id, request), None
        except LLMBudgetExceeded:
            raise
        except LLMError as e:
            log.warning("LLM failed for tenant %s (%s); composing offline", tenant_id, e.failure)
            return compose_offline(request), f"the LLM failed ({e.failure.value})"


def _body(
    persona: Persona,
    title: str,
    answer: GroundedAnswer,
    facts: list[tuple[Fact, Source]],
    fallback: str | None,
    demo: bool,
) -> dict[str, Any]:
    return {
        "persona": persona,
        "title": title,
        "headline": answer.headline,
        "points": [PointOut(text=p.text, citations=p.cites) for p in answer.points],
        "facts": [FactOut(id=f.id, statement=f.statement, kind=f.kind, source=s) for f, s in facts],
        "model": answer.model,
        "fallback": fallback,
        "demo": demo,
        "generated_at": datetime.now(UTC),
    }


def _by_relevance(question: str, facts: list[tuple[Fact, Source]]) -> list[tuple[Fact, Source]]:
    """Facts re-weighted by how many of the question's words they share (a question
    about receivables puts the receivables number first)."""
    asked = set(tokenize(question))
    if not asked:
        return facts
    out = []
    for fact, source in facts:
        overlap = len(asked & set(tokenize(fact.statement))) / len(asked)
        out.append(
            (
                replace(fact, weight=fact.weight + 10.0 * overlap),
                source,
            )
        )
    return out
