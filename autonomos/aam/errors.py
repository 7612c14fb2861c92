"""Errors of the Adaptive API Mesh (sync, drift, repair): one base for the package."""

from __future__ import annotations

from autonomos.common.errors import AutonomosError, FailureType


class AAMError(AutonomosError):
    """Base of every AAM error."""


class InvalidDecision(AAMError, ValueError):
    """A decision on a repair proposal is malformed (e.g. an edit that changes nothing)."""

    failure = FailureType.CONFIGURATION
