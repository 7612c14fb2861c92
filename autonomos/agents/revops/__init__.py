"""The RevOps agent over ``opportunity`` and ``account``."""

from autonomos.agents.revops.agent import NAME, analyze
from autonomos.agents.revops.params import RevOpsParams

__all__ = ["NAME", "RevOpsParams", "analyze"]
