"""Submit, follow, stop and retry batch jobs; the ``jobs`` table is the durable record.

Order of events, so that no crash loses or duplicates a job:

1. the row is committed ``queued`` with the submission id of attempt 1,
2. it is submitted under that id (a replay of the same id is a no-op on Ray's side),
3. the row moves to ``pending``.

A crash between 1 and 2 leaves a ``queued`` row that the next refresh submits. Every
attempt has its own deterministic id (``autonomos-<kind>-<job id>-a<attempt>``), so its
logs stay findable. Ray is asked about a job only when someone looks at it (``get``,
``list``); a failed or lost job with retries left is resubmitted then, as attempt + 1.

Database transactions never span a call to Ray: read, ask Ray, then apply the answer
to the row re-read under ``FOR UPDATE`` (:meth:`JobService._apply`). Every status change
is announced there, in its transaction (``job.<state>``, see :func:`announce`), so two
processes that see the same change from Ray (the API answering a request and the
:class:`~autonomos.jobs.follow.JobFollower`) record it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shlex
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.config import Settings
from autonomos.events.log import record
from autonomos.jobs.errors import JobServerError, JobServerUnavailable, JobStateError
from autonomos.jobs.kinds import KINDS, JobKind
from autonomos.jobs.server import JobServer, RemoteJob
from autonomos.jobs.state import ACTIVE, FROM_RAY, JobStatus, transition
from autonomos.store.base import utcnow
from autonomos.store.errors import NotFound
from autonomos.store.jobs_models import Job
from autonomos.store.session import Database

LOGS_TAIL_CHARS = 8_000
# never passed: the job joins the cluster it runs in, never migrates, decrypts nothing
_NOT_FOR_JOBS = frozenset({"ray_address", "migration_database_url", "secrets_keys", "data_dir"})
STOP_WAIT_S = 5.0


def submission_id(kind: str, job_id: uuid.UUID, attempt: int) -> str:
    return f"autonomos-{kind.replace('_', '-')}-{job_id.hex}-a{attempt}"


def dedupe_key(tenant_id: uuid.UUID, kind: str, params: dict[str, Any]) -> str:
    doc = json.dumps([str(tenant_id), kind, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()


def job_env(settings: Settings) -> dict[str, str]:
    """AUTONOMOS_* variables that let a job find the metadata DB and data dir.

    Only non-default, non-secret settings travel: runtime envs are shown on the Ray
    dashboard, so JWT keys, Fernet keys, API keys and URLs with a password stay out. A
    cluster whose database URL has a password must set it in its nodes' environment.
    """
    env: dict[str, str] = {"AUTONOMOS_DATA_DIR": str(settings.data_dir)}
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if value is None or value == field.default or isinstance(value, SecretStr):
            continue
        if name.startswith("jwt_") or name in _NOT_FOR_JOBS:
            continue
        if isinstance(value, str) and "://" in value and urlsplit(value).password:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"AUTONOMOS_{name.upper()}"] = text
    return env


@dataclass
class JobView:
    """A job row, and what the job server said when it was last asked (this request)."""

    job: Job
    live: bool  # the job server answered
    server_error: str | None = None
    logs_tail: str | None = None


def _kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise JobStateError(f"unknown job kind {name!r}; expected one of {sorted(KINDS)}") from None


# a job status -> the event that announces a move there; ``pending`` (Ray acknowledged the
# submission) is no event of its own, and a ``lost`` job is a ``job.failed`` one
_EVENTS = {
    JobStatus.QUEUED: "job.queued",
    JobStatus.RUNNING: "job.running",
    JobStatus.SUCCEEDED: "job.succeeded",
    JobStatus.FAILED: "job.failed",
    JobStatus.STOPPED: "job.stopped",
    JobStatus.LOST: "job.failed",
}


def announce(s: AsyncSession, job: Job, previous: str | None) -> None:
    """Record the event of ``job``'s move from ``previous`` (None: a new row) to its
    status, in ``s``'s transaction; nothing when it did not move or the move has none."""
    status = JobStatus(job.status)
    kind = _EVENTS.get(status)
    if kind is None or previous == job.status:
        return
    record(
        s,
        kind,
        subject={"job_id": job.id},
        kind=job.kind,
        status=status.value,
        previous=previous,
        attempt=job.attempt,
        error=None if job.error is None else job.error[:500],
    )


def _move(job: Job, new: JobStatus) -> None:
    job.status = transition(JobStatus(job.status), new).value
    if new.finished and job.finished_at is None:
        job.finished_at = utcnow()


def _observe(job: Job, remote: RemoteJob | None) -> None:
    """Apply what Ray reports (None: it has no record of the submission)."""
    current = JobStatus(job.status)
    if current.finished or (current is JobStatus.QUEUED and remote is None):
        return
    if remote is None:
        _move(job, JobStatus.LOST)
        job.error = (
            f"Ray has no record of submission {job.submission_id} (was the cluster "
            "replaced?); its outcome is unknown"
        )
        return
    new = FROM_RAY.get(remote.status)
    if new is None:
        return
    try:
        _move(job, new)
    except JobStateError:
        return  # e.g. Ray lagging behind a stop we already recorded
    job.ray_status = remote.status
    job.started_at = remote.started_at or job.started_at
    if new.finished:
        job.finished_at = remote.finished_at or job.finished_at or utcnow()
    if new is JobStatus.FAILED:
        job.error = remote.message or f"the entrypoint exited with code {remote.exit_code}"
    elif new is JobStatus.SUCCEEDED:
        job.error = None


def _tail(text: str | None) -> str | None:
    if text is None or len(text) <= LOGS_TAIL_CHARS:
        return text
    cut = text[-LOGS_TAIL_CHARS:]
    return cut[cut.find("\n") + 1 :] if "\n" in cut else cut


class JobService:
    def __init__(
        self, db: Database, server: JobServer, settings: Settings, *, python: str | None = None
    ) -> None:
        self.db, self.server, self.settings = db, server, settings
        self.python = python or sys.executable

    def entrypoint(self, kind: JobKind, tenant_id: uuid.UUID, params: BaseModel) -> str:
        argv = [self.python, "-m", kind.module, *kind.args(tenant_id, params)]
        return shlex.join(argv)

    # -- the row ------------------------------------------------------------------------

    async def _load(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job:
        async with self.db.tenant_session(tenant_id) as s:
            job = await s.get(Job, job_id)
        if job is None:
            raise NotFound("job not found")
        return job

    async def _apply(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, change: Callable[[Job], None]
    ) -> Job:
        async with self.db.tenant_session(tenant_id) as s:
            job = await s.scalar(select(Job).where(Job.id == job_id).with_for_update())
            if job is None:
                raise NotFound("job not found")
            previous = job.status
            change(job)
            announce(s, job, previous)
        return job

    # -- verbs --------------------------------------------------------------------------

    async def submit(
        self,
        tenant_id: uuid.UUID,
        kind_name: str,
        params: dict[str, Any] | BaseModel | None = None,
        *,
        max_retries: int = 0,
        created_by: uuid.UUID | None = None,
    ) -> tuple[Job, bool]:
        """(job, created). An identical job still queued or running is returned instead."""
        kind = _kind(kind_name)
        parsed = kind.parse(params)
        canonical = parsed.model_dump(mode="json")
        key = dedupe_key(tenant_id, kind.name, canonical)
        async with self.db.tenant_session(tenant_id) as s:
            await kind.check(s, parsed)
            existing = await s.scalar(
                select(Job)
                .where(Job.dedupe_key == key, Job.status.in_(ACTIVE))
                .order_by(Job.created_at.desc())
                .limit(1)
            )
        if existing is not None:
            return existing, False
        await self.server.ping()  # unreachable: 503 and no row
        job_id = uuid.uuid4()
        sid = submission_id(kind.name, job_id, 1)
        job = Job(
            id=job_id,
            tenant_id=tenant_id,
            kind=kind.name,
            params=canonical,
            dedupe_key=key,
            submission_id=sid,
            entrypoint=self.entrypoint(kind, tenant_id, parsed),
            status=JobStatus.QUEUED.value,
            attempt=1,
            max_retries=max_retries,
            logs_url=self.server.logs_url(sid),
            created_by=created_by,
        )
        async with self.db.tenant_session(tenant_id) as s:
            s.add(job)
            announce(s, job, None)
        return await self._send(tenant_id, job), True

    async def _send(self, tenant_id: uuid.UUID, job: Job) -> Job:
        """Submit the job's current attempt; a queued row stays queued if Ray is away."""
        sid = job.submission_id
        metadata = {"tenant_id": str(tenant_id), "job_id": str(job.id), "kind": job.kind}
        runtime_env = {"env_vars": job_env(self.settings)}
        try:
            await self.server.submit(sid, job.entrypoint, runtime_env, metadata)
        except JobServerUnavailable as exc:
            message = f"not submitted yet ({exc}); it is submitted on the next refresh"

            def note(j: Job) -> None:
                j.error = message

            await self._apply(tenant_id, job.id, note)
            raise
        except JobServerError as exc:
            reason = str(exc)

            def refused(j: Job) -> None:
                if j.submission_id == sid:
                    _move(j, JobStatus.FAILED)
                    j.error = reason

            return await self._apply(tenant_id, job.id, refused)

        def submitted(j: Job) -> None:
            if j.submission_id == sid and j.status == JobStatus.QUEUED.value:
                _move(j, JobStatus.PENDING)
                j.ray_status = "PENDING"
                j.submitted_at = utcnow()
                if j.error and j.error.startswith("not submitted yet"):
                    j.error = None  # a previous attempt's failure stays until this one ends

        return await self._apply(tenant_id, job.id, submitted)

    async def _retry(self, tenant_id: uuid.UUID, job: Job, *, manual: bool = False) -> Job:
        attempt = job.attempt

        def again(j: Job) -> None:
            status = JobStatus(j.status)
            if j.attempt != attempt or not status.retryable:
                return  # someone else retried it already
            if not manual and j.attempt > j.max_retries:
                return
            j.error = f"attempt {j.attempt} {status.value}: {j.error or 'no message'}"
            j.attempt += 1
            if manual:
                j.max_retries = max(j.max_retries, j.attempt - 1)
            j.status = transition(status, JobStatus.QUEUED).value
            j.submission_id = submission_id(j.kind, j.id, j.attempt)
            j.logs_url = self.server.logs_url(j.submission_id)
            j.ray_status = j.submitted_at = j.started_at = j.finished_at = None

        job = await self._apply(tenant_id, job.id, again)
        if job.attempt == attempt:
            return job
        return await self._send(tenant_id, job)

    async def _reconcile(self, tenant_id: uuid.UUID, job: Job, remote: RemoteJob | None) -> Job:
        if JobStatus(job.status) is JobStatus.QUEUED:
            job = await self._send(tenant_id, job)
            remote = await self.server.info(job.submission_id)
        if not JobStatus(job.status).finished:
            sid = job.submission_id

            def observe(j: Job) -> None:
                if j.submission_id == sid:
                    _observe(j, remote)

            job = await self._apply(tenant_id, job.id, observe)
        status = JobStatus(job.status)
        if status.retryable and job.attempt <= job.max_retries:
            job = await self._retry(tenant_id, job)
        return job

    async def get(self, tenant_id: uuid.UUID, job_id: uuid.UUID, *, logs: bool = True) -> JobView:
        """The job, refreshed from Ray when it can be, with the tail of its logs."""
        job = await self._load(tenant_id, job_id)
        status = JobStatus(job.status)
        try:
            if not status.finished or (status.retryable and job.attempt <= job.max_retries):
                remote = None
                if not status.finished and status is not JobStatus.QUEUED:
                    remote = await self.server.info(job.submission_id)
                job = await self._reconcile(tenant_id, job, remote)
            tail = None
            if logs and job.submitted_at is not None:
                tail = _tail(await self.server.logs(job.submission_id))
        except (JobServerUnavailable, JobServerError) as exc:
            return JobView(await self._load(tenant_id, job_id), live=False, server_error=str(exc))
        return JobView(job, live=True, logs_tail=tail)

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Job], bool, str | None]:
        """(jobs newest first, live, server error); unfinished ones are refreshed at once."""
        query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
        if status:
            query = query.where(Job.status == status)
        if kind:
            query = query.where(Job.kind == kind)
        async with self.db.tenant_session(tenant_id) as s:
            jobs = list(await s.scalars(query))
        stale = [j for j in jobs if not JobStatus(j.status).finished]
        if not stale:
            return jobs, True, None
        try:
            remote = await self.server.infos()
            fresh = {}
            for j in stale:
                fresh[j.id] = await self._reconcile(tenant_id, j, remote.get(j.submission_id))
        except (JobServerUnavailable, JobServerError) as exc:
            return jobs, False, str(exc)
        return [fresh.get(j.id, j) for j in jobs], True, None

    async def followed(self, tenant_id: uuid.UUID) -> Sequence[Job]:
        """The tenant's jobs whose status can still move on its own: active ones, and
        failed or lost ones with retries left."""
        async with self.db.tenant_session(tenant_id) as s:
            rows = await s.scalars(
                select(Job)
                .where(
                    Job.status.in_(ACTIVE)
                    | (
                        Job.status.in_([JobStatus.FAILED.value, JobStatus.LOST.value])
                        & (Job.attempt <= Job.max_retries)
                    )
                )
                .order_by(Job.created_at)
            )
            return list(rows)

    async def follow(
        self, tenant_id: uuid.UUID, jobs: Iterable[Job], remote: dict[str, RemoteJob]
    ) -> int:
        """Apply the job server's ``remote`` view (``infos()``) to ``jobs`` (see
        :meth:`followed`), as a read would; how many of them changed status."""
        changed = 0
        for job in jobs:
            before = (job.status, job.attempt)
            fresh = await self._reconcile(tenant_id, job, remote.get(job.submission_id))
            changed += (fresh.status, fresh.attempt) != before
        return changed

    async def stop(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> JobView:
        job = await self._load(tenant_id, job_id)
        status = JobStatus(job.status)
        if status.finished:
            raise JobStateError(f"job {job_id} has already {status.value}; nothing to stop")
        sid = job.submission_id
        if status is JobStatus.QUEUED:

            def cancel(j: Job) -> None:
                if j.submission_id == sid and j.status == JobStatus.QUEUED.value:
                    _move(j, JobStatus.STOPPED)
                    j.error = "stopped before Ray accepted it"

            job = await self._apply(tenant_id, job_id, cancel)
            # Its submission may have landed all the same: stop it there too if Ray answers.
            with contextlib.suppress(JobServerUnavailable, JobServerError):
                await self.server.stop(sid)
            return JobView(job, live=False)
        await self.server.stop(sid)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_WAIT_S
        remote = await self.server.info(sid)
        while remote is not None and remote.status in ("PENDING", "RUNNING"):
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.25)
            remote = await self.server.info(sid)
        if remote is not None:

            def observe(j: Job) -> None:
                if j.submission_id == sid:
                    _observe(j, remote)

            job = await self._apply(tenant_id, job_id, observe)
        return JobView(job, live=True)

    async def retry(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> JobView:
        """Run a failed or lost job again as its next attempt, whatever its retry budget."""
        job = await self._load(tenant_id, job_id)
        if not JobStatus(job.status).retryable:
            raise JobStateError(
                f"only a failed or lost job can be retried; job {job_id} is {job.status}"
            )
        await self.server.ping()
        return JobView(await self._retry(tenant_id, job, manual=True), live=True)
