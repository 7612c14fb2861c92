"""The sync run state machine: one status enum and the one function that moves it.

    queued ──► running ──► succeeded
       │          ├──────► failed
       └──────────┴──────► cancelled

A run that fails transiently may be retried by creating a new run (``attempt`` + 1);
finished runs never change again.
"""

from __future__ import annotations

import enum

from autonomos.common.states import InvalidTransition, StateMachine

__all__ = ["MACHINE", "InvalidTransition", "SyncStatus", "transition"]


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

MACHINE: StateMachine[SyncStatus] = StateMachine(
    "sync run",
    {
        SyncStatus.QUEUED: {SyncStatus.RUNNING, SyncStatus.CANCELLED, SyncStatus.FAILED},
        SyncStatus.RUNNING: {SyncStatus.SUCCEEDED, SyncStatus.FAILED, SyncStatus.CANCELLED},
        SyncStatus.SUCCEEDED: (),
        SyncStatus.FAILED: (),
        SyncStatus.CANCELLED: (),
    },
)


def transition(current: SyncStatus, target: SyncStatus) -> SyncStatus:
    """Return ``target`` if the move is allowed, else raise InvalidTransition."""
    return MACHINE.transition(current, target)
