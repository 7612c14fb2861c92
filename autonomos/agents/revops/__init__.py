"""The RevOps agent over ``opportunity`` and ``account``."""

from typing import TYPE_CHECKING, Any

from autonomos.agents.revops.params import RevOpsParams

if TYPE_CHECKING:
    from autonomos.agents.revops.agent import analyze

NAME = "revops"

__all__ = ["NAME", "RevOpsParams", "analyze"]


def __getattr__(name: str) -> Any:
    # The analysis (DuckDB, NumPy/SciPy) is imported on first use, not with the package:
    # processes that only list the agents (the registry, a tenant's supervisor) skip it.
    if name == "analyze":
        from autonomos.agents.revops.agent import analyze

        return analyze
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
