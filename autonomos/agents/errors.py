"""Errors of the agents package: one base, each saying whether a retry can help.

An API maps them: :class:`AgentNotFound` -> 404 (another tenant's agent or run looks
exactly like a missing one), :class:`AgentAuthError` -> 401, :class:`AgentInputError` ->
422, :class:`AgentConflict` / :class:`InvalidRunTransition` -> 409. :class:`AnalysisError`
is a run that failed on the tenant's data (recorded on the run, never raised to a client).
"""

from __future__ import annotations

from autonomos.common.errors import AutonomosError


class AgentError(AutonomosError):
    """Base of every agents error. ``transient``: the same call may succeed later."""

    transient = False


class AgentNotFound(AgentError, LookupError):
    """No such agent or run in this tenant."""


class AgentConflict(AgentError):
    """The request contradicts the agent's state (a name taken, a disabled agent run)."""


class AgentAuthError(AgentError):
    """A third-party agent's token is malformed, unknown or not this agent's.

    The message never says which part was wrong.
    """


class AgentInputError(AgentError, ValueError):
    """Parameters, a schedule or a reported run that cannot be accepted; says why."""


class InvalidRunTransition(AgentError):
    """A run cannot move from its current status to the one asked for."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} agent run cannot become {target}")
        self.current, self.target = current, target


class AnalysisError(AgentError):
    """An agent's analysis failed on the tenant's views (a view missing, a bad query)."""
