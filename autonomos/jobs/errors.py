"""Errors of the jobs package: one base, each saying whether a retry can help."""

from __future__ import annotations


class JobError(Exception):
    """Base of every jobs error. ``transient``: the same call may succeed later."""

    transient = False


class JobServerUnavailable(JobError):
    """The Ray job server (dashboard) cannot be reached or did not answer in time."""

    transient = True


class JobServerError(JobError):
    """The job server answered with an error (e.g. it refused the submission)."""


class JobStateError(JobError):
    """The job cannot make this move from its current status (e.g. stop a finished job)."""
