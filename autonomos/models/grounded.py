"""Answers grounded in numbered facts, with citations: what persona summaries and
answers to free questions are made of.

The caller (the NLP gateway) gathers facts -- a number read from a unified view, an agent
finding, a knowledge-base passage -- each with an id and where it came from, and asks
the LLM port for a headline and points that cite them (``LLM.answer``):

- a remote model gets them rendered into a prompt (:func:`render_prompt`) and answers
  strict JSON (:data:`ANSWER_SCHEMA`); :func:`keep_grounded` then drops citations of ids
  it was not given, and points citing nothing, so an unsupported claim never reaches a
  user;
- the offline backend composes the answer from the facts themselves
  (:func:`compose_offline`), most important first: deterministic, and it reads as a
  summary because every fact's ``statement`` is already a sentence with its number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, Field

FactKind = Literal["metric", "finding", "passage"]
MAX_FACTS = 40  # a prompt never carries more


@dataclass(frozen=True, slots=True)
class Fact:
    """One citable thing. ``statement`` is a full sentence with the number in it;
    ``source`` says where it came from (``view:opportunity``, ``finding:<id>``,
    ``kb:<document id>#<chunk>``); ``weight`` orders facts (higher first); ``short``, when
    given, is a shorter form for a headline (a finding's title)."""

    id: str
    statement: str
    source: str
    kind: FactKind = "metric"
    weight: float = 0.0
    short: str = ""


@dataclass(frozen=True, slots=True)
class GroundedRequest:
    """``system``: who the answer is for and what they care about (the persona's prompt);
    ``instruction``: what to write (a summary, or the user's question)."""

    system: str
    instruction: str
    facts: tuple[Fact, ...]
    max_points: int = 6
    title: str = "Summary"
    metadata: dict[str, Any] = field(default_factory=dict)

    def ordered(self) -> list[Fact]:
        """Facts by weight (stable), at most :data:`MAX_FACTS`."""
        return sorted(self.facts, key=lambda f: -f.weight)[:MAX_FACTS]

    def map_text(self, fn: Any) -> GroundedRequest:
        """The same request with ``fn`` applied to every text that could leave the process
        (system, instruction, statements); ids and sources are platform-made."""
        return replace(
            self,
            system=fn(self.system),
            instruction=fn(self.instruction),
            facts=tuple(
                replace(f, statement=fn(f.statement), short=fn(f.short) if f.short else "")
                for f in self.facts
            ),
        )


class Point(BaseModel):
    text: str = Field(description="One sentence.")
    cites: list[str] = Field(description="Ids of the facts this sentence rests on.")


class GroundedAnswer(BaseModel):
    headline: str
    points: list[Point]
    model: str = Field(description="The model that wrote it (`offline`: composed from facts).")


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "headline": {"type": "string", "minLength": 1, "maxLength": 400},
        "points": {
            "type": "array",
            "maxItems": 12,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": 600},
                    "cites": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["text", "cites"],
            },
        },
    },
    "required": ["headline", "points"],
}


def render_prompt(request: GroundedRequest) -> str:
    """The user turn a remote model gets: the instruction, then the numbered facts."""
    lines = [request.instruction.strip(), ""]
    if request.facts:
        lines.append("Facts (the only numbers you may use; cite each point's facts by their ids):")
        lines += [f"[{f.id}] ({f.kind}, {f.source}) {f.statement}" for f in request.ordered()]
    else:
        lines.append("There are no facts: say that the data to answer is not there yet.")
    lines += [
        "",
        f"Write a one-sentence headline and at most {request.max_points} points. Every point "
        "cites the ids of the facts it uses in `cites`; leave out anything no fact supports.",
    ]
    return "\n".join(lines)


def keep_grounded(answer: dict[str, Any], request: GroundedRequest, model: str) -> GroundedAnswer:
    """A remote model's answer with unknown citations and uncited points removed."""
    known = {f.id for f in request.facts}
    points = []
    for p in answer.get("points", [])[: request.max_points]:
        cites = [c.strip("[] ") for c in p.get("cites", [])]
        cites = list(dict.fromkeys(c for c in cites if c in known))
        if cites:
            points.append(Point(text=str(p["text"]).strip(), cites=cites))
    return GroundedAnswer(headline=str(answer["headline"]).strip(), points=points, model=model)


def compose_offline(request: GroundedRequest) -> GroundedAnswer:
    """The answer made from the facts alone: the most important fact as the headline, the
    next ones as points, each citing itself. Deterministic."""
    facts = request.ordered()
    if not facts:
        return GroundedAnswer(
            headline=f"{request.title}: there is no data to report on yet.",
            points=[],
            model="offline",
        )
    top, rest = facts[0], facts[1 : 1 + request.max_points]
    points = [Point(text=top.statement, cites=[top.id])]
    points += [Point(text=f.statement, cites=[f.id]) for f in rest]
    findings = sum(1 for f in facts if f.kind == "finding")
    tail = f" ({findings} open finding{'s' if findings != 1 else ''} to review)" if findings else ""
    headline = f"{request.title}: {_clause(top.short or top.statement)}{tail}."
    return GroundedAnswer(headline=headline, points=points[: request.max_points], model="offline")


def _clause(sentence: str) -> str:
    text = sentence.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def estimate_tokens(text: str) -> int:
    """About four characters a token (English; what the offline backend reports)."""
    return max(1, (len(text) + 3) // 4)
