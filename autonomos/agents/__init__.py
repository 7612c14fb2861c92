"""Agents over the unified views (FinOps, RevOps) and their orchestration (AOA core).

Plain Python, no Ray: the analyses are functions over a DuckDB connection to a tenant's
views (``finops``, ``revops``, listed in ``builtin``); the registry, runs, findings and
xAO metrics live in SQL (``registry``, ``run_store``, ``metrics``); ``executor`` is what
a shell (an API task, a Ray task or actor) calls to run a queued run, and
``runs.transition`` is the one way a run's status moves.

Others use: :func:`executor.execute_run` with an :data:`executor.Analyzer`,
:func:`executor.queue_after_materialize`, :func:`executor.queue_due`,
:func:`builtin.run_analysis` (what the DCL runs on a read cursor), the registry and
run-store functions, and :func:`metrics.agent_metrics`.
"""

from autonomos.agents.errors import (
    AgentAuthError,
    AgentConflict,
    AgentError,
    AgentInputError,
    AgentNotFound,
    AnalysisError,
    InvalidRunTransition,
)
from autonomos.agents.findings import AgentReport, Evidence, Finding, LLMUsage, Severity
from autonomos.agents.runs import RunStatus, RunTrigger, transition

__all__ = [
    "AgentAuthError",
    "AgentConflict",
    "AgentError",
    "AgentInputError",
    "AgentNotFound",
    "AgentReport",
    "AnalysisError",
    "Evidence",
    "Finding",
    "InvalidRunTransition",
    "LLMUsage",
    "RunStatus",
    "RunTrigger",
    "Severity",
    "transition",
]
