"""The four personas: who they are, what they read, how the LLM is told to write for them.

Each persona's ``system`` prompt is what a remote model is given as its role; its
``finding_kinds`` pick the agent findings it cares about; its metrics live in
``metrics.py``. A question routed to a persona is answered with that persona's facts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Persona(enum.StrEnum):
    CTO = "CTO"
    CRO = "CRO"
    COO = "COO"
    CFO = "CFO"


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    persona: Persona
    title: str
    focus: str
    system: str
    finding_kinds: frozenset[str]


_RULES = (
    "Use only the numbered facts you are given: never invent, round differently or "
    "extrapolate a number. Lead with what needs a decision, then the context. Plain "
    "business English, no jargon, no greeting, no sign-off."
)

SPECS: dict[Persona, PersonaSpec] = {
    Persona.CFO: PersonaSpec(
        Persona.CFO,
        "CFO briefing",
        "cash, receivables, recurring revenue and spend",
        "You brief the Chief Financial Officer. They care about cash collection, overdue "
        "receivables, recurring revenue, cloud spend against forecast and money being "
        "wasted. State amounts with their currency. " + _RULES,
        frozenset(
            {
                "cost_anomaly",
                "cost_forecast",
                "cost_driver",
                "idle_resource",
                "pipeline_concentration",
            }
        ),
    ),
    Persona.CRO: PersonaSpec(
        Persona.CRO,
        "CRO briefing",
        "pipeline, win rate and deals at risk",
        "You brief the Chief Revenue Officer. They care about the open pipeline and its "
        "weighted value, win rate, deals that slipped or went stale, concentration on a "
        "few accounts and which deals to chase this week. " + _RULES,
        frozenset({"slipped_deals", "stale_deals", "pipeline_concentration"}),
    ),
    Persona.COO: PersonaSpec(
        Persona.COO,
        "COO briefing",
        "support load, service levels and operational risk",
        "You brief the Chief Operating Officer. They care about the support backlog, "
        "urgent tickets, resolution times, customers affected and operational risks that "
        "cross teams (stale deals, idle resources). " + _RULES,
        frozenset({"stale_deals", "slipped_deals", "idle_resource"}),
    ),
    Persona.CTO: PersonaSpec(
        Persona.CTO,
        "CTO briefing",
        "cloud infrastructure, cost drivers and data platform health",
        "You brief the Chief Technology Officer. They care about cloud spend by service, "
        "cost spikes and their drivers, idle resources to shut down, and whether the data "
        "platform's sources and unified views are fresh and complete. " + _RULES,
        frozenset({"cost_anomaly", "cost_driver", "idle_resource", "cost_forecast"}),
    ),
}
