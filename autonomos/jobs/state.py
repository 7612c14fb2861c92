"""A job's life as an explicit state machine, and how Ray's statuses map onto it.

    queued ──► pending ──► running ──► succeeded
       │          │           ├──────► failed ──┐
       │          │           └──────► stopped  ├─► queued (retry: attempt + 1)
       └──────────┴──────────────────► lost ────┘

``queued``: the row is committed, Ray has not (yet) acknowledged the submission.
``lost``: Ray has no record of the submission any more (the cluster was replaced); its
outcome is unknown, so like a failure it may be retried.
"""

from __future__ import annotations

import enum

from autonomos.common.states import InvalidTransition, StateMachine
from autonomos.jobs.errors import JobStateError


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self in _FINISHED

    @property
    def retryable(self) -> bool:
        return self in (JobStatus.FAILED, JobStatus.LOST)


_FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.LOST})
_ACTIVE = (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING)
MACHINE: StateMachine[JobStatus] = StateMachine(
    "job",
    {
        JobStatus.QUEUED: set(JobStatus) - {JobStatus.QUEUED},
        JobStatus.PENDING: set(JobStatus) - {JobStatus.QUEUED, JobStatus.PENDING},
        JobStatus.RUNNING: _FINISHED,
        JobStatus.FAILED: {JobStatus.QUEUED},
        JobStatus.LOST: {JobStatus.QUEUED},
        JobStatus.SUCCEEDED: (),
        JobStatus.STOPPED: (),
    },
)
ACTIVE: tuple[str, ...] = tuple(s.value for s in _ACTIVE)


def transition(current: JobStatus, new: JobStatus) -> JobStatus:
    """``new`` if a job may move there from ``current`` (staying put is always allowed)."""
    if new is current:
        return new
    try:
        return MACHINE.transition(current, new)
    except InvalidTransition:
        raise JobStateError(f"a {current.value} job cannot become {new.value}") from None


# Ray's JobStatus values (ray.job_submission.JobStatus) -> ours.
FROM_RAY: dict[str, JobStatus] = {
    "PENDING": JobStatus.PENDING,
    "RUNNING": JobStatus.RUNNING,
    "SUCCEEDED": JobStatus.SUCCEEDED,
    "FAILED": JobStatus.FAILED,
    "STOPPED": JobStatus.STOPPED,
}
