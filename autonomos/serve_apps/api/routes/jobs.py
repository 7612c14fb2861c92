"""/api/v1/jobs: batch jobs on the Ray cluster (submit, list, follow, stop, retry).

The job server being away is an answer, not a crash: submitting or stopping then gets
503 with the reason; reading a job still answers from the jobs table, with ``live``
false and the server's error.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from autonomos.jobs.kinds import BatchMapParams
from autonomos.jobs.service import JobView
from autonomos.jobs.state import JobStatus
from autonomos.serve_apps.api.deps import DbDep, JobsDep, Operator, RequestId, Viewer
from autonomos.serve_apps.api.errors import errors
from autonomos.serve_apps.api.schemas import Strict
from autonomos.store.audit import audit
from autonomos.store.jobs_models import Job

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=errors(502, 503))


class JobCreate(Strict):
    kind: Literal["batch_map"]
    params: BatchMapParams = Field(default_factory=BatchMapParams)
    max_retries: int = Field(1, ge=0, le=5, description="Automatic resubmissions on failure.")


class JobOut(BaseModel):
    id: uuid.UUID
    kind: str
    params: dict[str, Any]
    status: JobStatus
    ray_status: str | None
    submission_id: str
    entrypoint: str
    attempt: int
    max_retries: int
    logs_url: str | None
    error: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class JobCreated(JobOut):
    created: bool  # false: an identical job was still queued or running and is returned


class JobDetail(JobOut):
    live: bool  # the job server answered this request
    server_error: str | None = None
    logs_tail: str | None = None


class JobList(BaseModel):
    jobs: list[JobOut]
    total: int
    live: bool
    server_error: str | None = None


def _out(job: Job) -> dict[str, Any]:
    return {name: getattr(job, name) for name in JobOut.model_fields}


def _detail(view: JobView) -> JobDetail:
    return JobDetail(
        **_out(view.job), live=view.live, server_error=view.server_error, logs_tail=view.logs_tail
    )


@router.post("", operation_id="submitJob", status_code=status.HTTP_201_CREATED)
async def submit_job(
    body: JobCreate, op: Operator, jobs: JobsDep, db: DbDep, rid: RequestId, response: Response
) -> JobCreated:
    """Submit a batch job to the Ray cluster (idempotent while an identical one is active)."""
    job, created = await jobs.submit(
        op.tenant_id,
        body.kind,
        body.params,
        max_retries=body.max_retries,
        created_by=op.user_id,
    )
    if created:
        async with db.tenant_session(op.tenant_id) as s:
            await audit(
                s,
                "job.submit",
                "job",
                job.id,
                actor_id=op.user_id,
                request_id=rid,
                kind=job.kind,
                params=job.params,
                submission_id=job.submission_id,
            )
    else:
        response.status_code = status.HTTP_200_OK
    return JobCreated(**_out(job), created=created)


@router.get("", operation_id="listJobs")
async def list_jobs(
    viewer: Viewer,
    jobs: JobsDep,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    kind: Literal["batch_map"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobList:
    """The tenant's jobs, newest first; unfinished ones refreshed from Ray in one call."""
    rows, live, error = await jobs.list(
        viewer.tenant_id, status=status_.value if status_ else None, kind=kind, limit=limit
    )
    return JobList(
        jobs=[JobOut(**_out(j)) for j in rows], total=len(rows), live=live, server_error=error
    )


@router.get("/{job_id}", operation_id="getJob")
async def get_job(job_id: uuid.UUID, viewer: Viewer, jobs: JobsDep) -> JobDetail:
    """One job, its status refreshed from Ray, with the tail of its logs when reachable."""
    return _detail(await jobs.get(viewer.tenant_id, job_id))


@router.post("/{job_id}/stop", operation_id="stopJob")
async def stop_job(
    job_id: uuid.UUID, op: Operator, jobs: JobsDep, db: DbDep, rid: RequestId
) -> JobDetail:
    """Stop a queued or running job (409 when it has already finished)."""
    view = await jobs.stop(op.tenant_id, job_id)
    async with db.tenant_session(op.tenant_id) as s:
        await audit(s, "job.stop", "job", job_id, actor_id=op.user_id, request_id=rid)
    return _detail(view)


@router.post("/{job_id}/retry", operation_id="retryJob")
async def retry_job(
    job_id: uuid.UUID, op: Operator, jobs: JobsDep, db: DbDep, rid: RequestId
) -> JobDetail:
    """Run a failed or lost job again as its next attempt (409 for any other status)."""
    view = await jobs.retry(op.tenant_id, job_id)
    async with db.tenant_session(op.tenant_id) as s:
        await audit(
            s,
            "job.retry",
            "job",
            job_id,
            actor_id=op.user_id,
            request_id=rid,
            attempt=view.job.attempt,
        )
    return _detail(view)
