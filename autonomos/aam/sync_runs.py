"""The sync run state machine: one status enum and the one function that moves it.

    queued ──► running ──► succeeded
       │          ├──────► failed
       └──────────┴──────► cancelled

A run that fails transiently may be retried by creating a new run (``attempt`` + 1);
finished runs never change again.
"""

from __future__ import annotations

import enum


class SyncStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset({SyncStatus.SUCCEEDED, SyncStatus.FAILED, SyncStatus.CANCELLED})

_ALLOWED: dict[SyncStatus, frozenset[SyncStatus]] = {
    SyncStatus.QUEUED: frozenset({SyncStatus.RUNNING, SyncStatus.CANCELLED, SyncStatus.FAILED}),
    SyncStatus.RUNNING: frozenset({SyncStatus.SUCCEEDED, SyncStatus.FAILED, SyncStatus.CANCELLED}),
    SyncStatus.SUCCEEDED: frozenset(),
    SyncStatus.FAILED: frozenset(),
    SyncStatus.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, current: SyncStatus, target: SyncStatus) -> None:
        super().__init__(f"a {current.value} sync run cannot become {target.value}")
        self.current, self.target = current, target


def transition(current: SyncStatus, target: SyncStatus) -> SyncStatus:
    """Return ``target`` if the move is allowed, else raise InvalidTransition."""
    if target not in _ALLOWED[current]:
        raise InvalidTransition(current, target)
    return target
