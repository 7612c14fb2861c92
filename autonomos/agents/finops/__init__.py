"""The FinOps agent over ``cloud_cost`` (FOCUS columns)."""

from autonomos.agents.finops.agent import NAME, analyze
from autonomos.agents.finops.params import Bands, FinOpsParams

__all__ = ["NAME", "Bands", "FinOpsParams", "analyze"]
