"""The port to a job server, and its adapter for Ray's (``JobSubmissionClient``).

The service needs six verbs (ping, submit, info, list, stop, logs); keeping them behind
this port is what lets it treat "Ray is down" as data (503, stored status kept) rather
than as an exception from deep inside a third-party client.

``JobSubmissionClient`` is blocking (``requests``) and has no timeouts: every call runs
in a worker thread under :attr:`RayJobServer.timeout_s`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from autonomos.jobs.errors import JobError, JobServerError, JobServerUnavailable

T = TypeVar("T")
_STATUS_CODE = re.compile(r"status code (\d{3})")


@dataclass(frozen=True)
class RemoteJob:
    """What the job server knows about one submission."""

    submission_id: str
    status: str  # Ray's: PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None


class JobServer(Protocol):
    address: str

    async def ping(self) -> None: ...

    async def submit(
        self,
        submission_id: str,
        entrypoint: str,
        runtime_env: dict[str, Any],
        metadata: dict[str, str],
    ) -> None:
        """Submit once: a submission id the server already has is not an error."""

    async def info(self, submission_id: str) -> RemoteJob | None:
        """None when the server has no such submission."""

    async def infos(self) -> dict[str, RemoteJob]: ...

    async def stop(self, submission_id: str) -> bool: ...

    async def logs(self, submission_id: str) -> str | None: ...

    def logs_url(self, submission_id: str) -> str: ...


def _ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


def _remote(details: Any) -> RemoteJob:
    status = details.status
    return RemoteJob(
        submission_id=details.submission_id,
        status=str(getattr(status, "value", status)),
        message=details.message,
        started_at=_ms(details.start_time),
        finished_at=_ms(details.end_time),
        exit_code=getattr(details, "driver_exit_code", None),
    )


def _missing(exc: Exception) -> bool:
    found = _STATUS_CODE.search(str(exc))
    return (found is not None and found.group(1) == "404") or "does not exist" in str(exc)


class RayJobServer:
    """A Ray cluster's job server at ``address`` (``http://host:8265``)."""

    def __init__(self, address: str, *, timeout_s: float = 10.0) -> None:
        self.address = address.rstrip("/")
        self.timeout_s = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        with self._lock:
            if self._client is None:
                from ray.job_submission import JobSubmissionClient

                self._client = JobSubmissionClient(self.address)  # checks the version
            return self._client

    async def _call(self, fn: Callable[[Any], T]) -> T:
        def run() -> T:
            return fn(self._connect())

        try:
            return await asyncio.wait_for(asyncio.to_thread(run), self.timeout_s)
        except JobError:
            raise
        except (TimeoutError, OSError) as exc:  # requests' errors are OSErrors too
            self._client = None  # reconnect (and re-check the version) next time
            raise JobServerUnavailable(
                f"the Ray job server at {self.address} is unreachable "
                f"({type(exc).__name__}); is the cluster up?"
            ) from None
        except Exception as exc:  # e.g. Ray's AuthenticationError, a version mismatch
            self._client = None
            raise JobServerError(
                f"the Ray job server at {self.address} failed: {type(exc).__name__}: {exc}"
            ) from None

    async def ping(self) -> None:
        await self._call(lambda c: None)

    async def submit(
        self,
        submission_id: str,
        entrypoint: str,
        runtime_env: dict[str, Any],
        metadata: dict[str, str],
    ) -> None:
        def go(c: Any) -> None:
            try:
                c.submit_job(
                    entrypoint=entrypoint,
                    submission_id=submission_id,
                    runtime_env=runtime_env,
                    metadata=metadata,
                )
            except RuntimeError as exc:
                if "already exists" in str(exc):
                    return  # an earlier try of this very submission got through
                raise JobServerError(f"the job server refused {submission_id}: {exc}") from None

        await self._call(go)

    async def info(self, submission_id: str) -> RemoteJob | None:
        def go(c: Any) -> RemoteJob | None:
            try:
                return _remote(c.get_job_info(submission_id))
            except RuntimeError as exc:
                if _missing(exc):
                    return None
                raise JobServerError(f"cannot read {submission_id}: {exc}") from None

        return await self._call(go)

    async def infos(self) -> dict[str, RemoteJob]:
        def go(c: Any) -> dict[str, RemoteJob]:
            return {d.submission_id: _remote(d) for d in c.list_jobs() if d.submission_id}

        return await self._call(go)

    async def stop(self, submission_id: str) -> bool:
        def go(c: Any) -> bool:
            try:
                return bool(c.stop_job(submission_id))
            except RuntimeError as exc:
                if _missing(exc):
                    return False
                raise JobServerError(f"cannot stop {submission_id}: {exc}") from None

        return await self._call(go)

    async def logs(self, submission_id: str) -> str | None:
        def go(c: Any) -> str | None:
            try:
                return str(c.get_job_logs(submission_id))
            except RuntimeError:
                return None  # no logs (yet, or any more)

        return await self._call(go)

    def logs_url(self, submission_id: str) -> str:
        return f"{self.address}/#/jobs/{submission_id}"
