"""The FinOps agent over ``cloud_cost`` (FOCUS columns)."""

from autonomos.agents.finops.agent import NAME, analyze
from autonomos.agents.finops.params import FinOpsParams

__all__ = ["NAME", "FinOpsParams", "analyze"]
