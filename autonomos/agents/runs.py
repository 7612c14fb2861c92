"""The agent run state machine: one status enum and the one function that moves it.

    queued ──► running ──► succeeded
       │          ├──────► failed
       └──────────┴──────► cancelled

``queued``: the run is recorded, nothing has started it yet; ``failed`` from ``queued``: it
could not be started (the executor refused it). Finished runs never change again, so a
run cancelled while its analysis was still going keeps ``cancelled`` and its late result
is dropped (the executor finishes runs with a status-conditional update).
"""

from __future__ import annotations

import enum

from autonomos.agents.errors import InvalidRunTransition


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED


class RunTrigger(enum.StrEnum):
    """Why a run exists."""

    MANUAL = "manual"  # someone asked (API, CLI)
    SCHEDULE = "schedule"  # the agent's cron schedule came due
    MATERIALIZE = "materialize"  # a view the agent reads was materialised
    REPORTED = "reported"  # a third-party agent reported a run it made itself


FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})

_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset(FINISHED),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


def transition(current: RunStatus | str, target: RunStatus | str) -> RunStatus:
    """Return ``target`` if a run may move there from ``current``, else raise
    :class:`~autonomos.agents.errors.InvalidRunTransition`."""
    now, new = RunStatus(current), RunStatus(target)
    if new not in _ALLOWED[now]:
        raise InvalidRunTransition(now.value, new.value)
    return new
