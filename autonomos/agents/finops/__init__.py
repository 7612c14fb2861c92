"""The FinOps agent over ``cloud_cost`` (FOCUS columns)."""

from typing import TYPE_CHECKING, Any

from autonomos.agents.finops.params import FinOpsParams

if TYPE_CHECKING:
    from autonomos.agents.finops.agent import analyze

NAME = "finops"

__all__ = ["NAME", "FinOpsParams", "analyze"]


def __getattr__(name: str) -> Any:
    # The analysis (DuckDB, NumPy/SciPy) is imported on first use, not with the package:
    # processes that only list the agents (the registry, a tenant's supervisor) skip it.
    if name == "analyze":
        from autonomos.agents.finops.agent import analyze

        return analyze
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
