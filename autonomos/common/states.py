"""Explicit state machines: a status enum and the one function that moves it.

Anything long-lived (a sync run, a repair proposal, a view refresh, a job, an agent run)
declares its statuses as a ``str`` enum and its allowed moves once::

    MACHINE = StateMachine(SyncStatus, {QUEUED: {RUNNING, CANCELLED}, ...})
    run.status = MACHINE.transition(SyncStatus(run.status), SyncStatus.RUNNING)

A status with no outgoing move is final. Staying put is a move only where declared.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from autonomos.common.errors import AutonomosError, FailureType

S = TypeVar("S", bound=enum.StrEnum)


class InvalidTransition(AutonomosError, ValueError):
    """A move the state machine does not allow (the caller's request conflicts with the
    object's current state)."""

    failure = FailureType.CONFIGURATION

    def __init__(self, what: str, current: enum.StrEnum, target: enum.StrEnum) -> None:
        article = "an" if current.value[:1] in "aeiou" else "a"
        super().__init__(f"{article} {current.value} {what} cannot become {target.value}")
        self.current, self.target = current, target


class StateMachine(Generic[S]):
    def __init__(self, what: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.what = what
        self.moves: dict[S, frozenset[S]] = {s: frozenset(t) for s, t in moves.items()}
        statuses = {s for s in self.moves} | {t for ts in self.moves.values() for t in ts}
        missing = statuses - set(self.moves)
        if missing:
            raise ValueError(f"{what}: statuses without a row: {sorted(missing)}")

    def can(self, current: S, target: S) -> bool:
        return target in self.moves[current]

    def transition(self, current: S, target: S) -> S:
        """``target`` if the move is allowed, else :class:`InvalidTransition`."""
        if target not in self.moves[current]:
            raise InvalidTransition(self.what, current, target)
        return target

    def final(self, status: S) -> bool:
        return not self.moves[status]

    @property
    def finals(self) -> frozenset[S]:
        return frozenset(s for s, t in self.moves.items() if not t)
