"""One failure classification and one root exception for the whole platform.

Every package has one base exception (``ConnectorError``, ``DCLError``, ``ModelError``,
``StoreError``, ``JobError``, ``AuthError``, ...) deriving from :class:`AutonomosError`,
and every error says whether trying again can help through its :class:`FailureType`.
The HTTP edge maps these classes to status codes in one table
(``serve_apps/api/errors.py``); the core never speaks HTTP.

Messages say what failed and for what; they never carry a secret (connectors redact
theirs before raising).
"""

from __future__ import annotations

import enum
from typing import Any


class FailureType(enum.StrEnum):
    """Whether retrying can help (as in Airbyte's ``FailureType``)."""

    TERMINAL = "terminal"  # will fail again the same way (bad data, unsupported, a bug)
    TRANSIENT = "transient"  # may succeed on retry (timeout, 5xx, rate limit, restarting)
    CONFIGURATION = "configuration"  # someone must fix something first (settings, input)

    @property
    def retryable(self) -> bool:
        return self is FailureType.TRANSIENT


class AutonomosError(Exception):
    """Root of every AutonomOS error; ``failure`` defaults to the class's own."""

    failure: FailureType = FailureType.TERMINAL

    def __init__(self, message: str = "", *, failure: FailureType | str | None = None) -> None:
        super().__init__(message)
        if failure is not None:
            self.failure = FailureType(failure)

    @property
    def retryable(self) -> bool:
        return self.failure.retryable

    @property
    def details(self) -> Any:
        """Machine-readable facts about the failure the API may show (none by default)."""
        return None

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross Ray's process boundary: keep the message and the classification.
        return (_rebuild, (type(self), str(self), self.failure, dict(self.__dict__)))


def _rebuild(
    cls: type[AutonomosError], message: str, failure: FailureType, state: dict[str, object]
) -> AutonomosError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    err.failure = failure
    return err
