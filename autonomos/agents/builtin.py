"""The internal agents this platform ships: registered code with its parameters.

An internal agent is a plain function over a DuckDB connection to the tenant's unified
views plus a pydantic model of its parameters. :func:`run_analysis` is what the DCL
(the single owner of a tenant's DuckDB file, in-process or in its Ray actor) calls with
a read cursor: the arguments and the result are plain data, so they cross a process
boundary as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from autonomos.agents import finops, revops
from autonomos.agents.errors import AgentInputError
from autonomos.agents.findings import AgentReport

if TYPE_CHECKING:
    import duckdb

Analysis = Callable[["duckdb.DuckDBPyConnection", Any], AgentReport]


def _on_first_use(package: ModuleType) -> Analysis:
    """``package.analyze``, looked up when first called: the package imports its analysis
    on that lookup, so the registry (which every tenant supervisor imports to know which
    agents read a view) stays free of DuckDB, NumPy and SciPy; only the processes that
    run an analysis (the DCL) load them."""

    def analyze(con: duckdb.DuckDBPyConnection, params: Any) -> AgentReport:
        run: Analysis = package.analyze
        return run(con, params)

    return analyze


@dataclass(frozen=True)
class InternalAgent:
    code: str
    title: str
    description: str
    reads: tuple[str, ...]
    params: type[BaseModel]
    analyze: Analysis
    persona: str  # who its findings are for (the NLP persona summaries)


BUILTIN: dict[str, InternalAgent] = {
    finops.NAME: InternalAgent(
        code=finops.NAME,
        title="FinOps",
        description="Cloud spend by provider, service, account, region and day; cost "
        "anomalies, month-end forecast, top cost drivers and idle resources.",
        reads=("cloud_cost",),
        params=finops.FinOpsParams,
        analyze=_on_first_use(finops),
        persona="cfo",
    ),
    revops.NAME: InternalAgent(
        code=revops.NAME,
        title="RevOps",
        description="Pipeline by stage, weighted pipeline, win rate, sales cycle; slipped "
        "and stale deals, concentration risk.",
        reads=("opportunity", "account"),
        params=revops.RevOpsParams,
        analyze=_on_first_use(revops),
        persona="cro",
    ),
}


def internal_agent(code: str) -> InternalAgent:
    try:
        return BUILTIN[code]
    except KeyError:
        known = ", ".join(sorted(BUILTIN))
        raise AgentInputError(f"no internal agent {code!r} (known: {known})") from None


def validate_params(code: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked by the agent's model; the JSON form of what was given (defaults
    are not spelled out, so a later change of a default applies to the agent)."""
    model = internal_agent(code).params
    try:
        return model.model_validate(params).model_dump(mode="json", exclude_unset=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise AgentInputError(f"invalid parameters for {code}: {problems}") from None


def run_analysis(
    con: duckdb.DuckDBPyConnection, code: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Run internal agent ``code`` with ``params`` on ``con``; the report as JSON data."""
    agent = internal_agent(code)
    report = agent.analyze(con, agent.params.model_validate(params))
    return report.model_dump(mode="json")
