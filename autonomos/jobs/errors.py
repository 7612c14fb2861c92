"""Errors of the jobs package: one base, each saying whether a retry can help."""

from __future__ import annotations

from autonomos.common.errors import AutonomosError, FailureType


class JobError(AutonomosError):
    """Base of every jobs error; ``failure`` says whether the same call may succeed later."""


class JobServerUnavailable(JobError):
    """The Ray job server (dashboard) cannot be reached or did not answer in time."""

    failure = FailureType.TRANSIENT


class JobServerError(JobError):
    """The job server answered with an error (e.g. it refused the submission)."""


class JobStateError(JobError):
    """The job cannot make this move from its current status (e.g. stop a finished job)."""
