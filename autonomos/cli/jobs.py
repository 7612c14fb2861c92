"""``autonomos jobs``: submit, list, show and stop batch jobs from the command line.

The same :class:`~autonomos.jobs.service.JobService` as the API, talking to the job
server at ``AUTONOMOS_RAY_DASHBOARD_URL``; jobs are recorded in the jobs table whoever
submits them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from autonomos.cli._common import (
    do_migrate,
    err,
    fail,
    load_settings,
    numbering_events,
    out,
    parse_input,
    run_async,
)

if TYPE_CHECKING:  # imported where used: `autonomos --help` stays fast
    from autonomos.jobs.service import JobService, JobView
    from autonomos.store.jobs_models import Job

jobs_app = typer.Typer(help="Batch jobs on the Ray cluster.", no_args_is_help=True)
T = TypeVar("T")

TenantOpt = Annotated[str, typer.Option(help="Tenant id or name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _with_service(tenant: str, fn: Callable[[JobService, uuid.UUID], Awaitable[T]]) -> T:
    from autonomos.jobs.errors import JobError
    from autonomos.jobs.server import RayJobServer
    from autonomos.jobs.service import JobService
    from autonomos.store.session import Database
    from autonomos.store.tenants import find_tenant

    settings = load_settings()
    do_migrate(settings)

    async def go() -> T:
        db = Database(settings.app_database_url)
        try:
            tenant_id = await find_tenant(db, tenant)
            service = JobService(db, RayJobServer(settings.job_server_url), settings)
            async with numbering_events(settings, db):
                return await fn(service, tenant_id)
        except JobError as e:
            fail(str(e))
        finally:
            await db.dispose()

    return run_async(go)


def _row(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "attempt": job.attempt,
        "submission_id": job.submission_id,
        "logs_url": job.logs_url,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
    }


def _print(jobs: list[Job], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([_row(j) for j in jobs]))
        return
    table = Table("id", "kind", "status", "attempt", "created", "logs")
    for j in jobs:
        table.add_row(
            str(j.id), j.kind, j.status, str(j.attempt),
            j.created_at.isoformat(timespec="seconds"), j.logs_url or "",
        )  # fmt: skip
    out.print(table)


def _show(view: JobView, as_json: bool) -> None:
    if as_json:
        out.print_json(
            json.dumps({**_row(view.job), "live": view.live, "logs_tail": view.logs_tail})
        )
        return
    _print([view.job], False)
    if view.job.error:
        err.print(f"[yellow]error:[/] {view.job.error}")
    if not view.live:
        err.print(f"[yellow]job server not reachable:[/] {view.server_error}")
    if view.logs_tail:
        out.print(view.logs_tail, markup=False, highlight=False)


def _job_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"job id must be a UUID, got {value!r}", 2)


@jobs_app.command("submit")
def submit(
    tenant: TenantOpt,
    connection: Annotated[
        str | None, typer.Option(help="Connection id; default: every active connection.")
    ] = None,
    materialize: Annotated[bool, typer.Option(help="Re-materialise the views after.")] = True,
    embedder: Annotated[bool, typer.Option(help="Use sentence embeddings to match.")] = True,
    max_retries: Annotated[int, typer.Option(min=0, max=5)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Submit a batch mapping job (kind ``batch_map``)."""
    from autonomos.jobs.kinds import BatchMapParams

    params = parse_input(
        BatchMapParams, connection_id=connection, materialize=materialize, embedder=embedder
    )

    async def go(service: JobService, tenant_id: uuid.UUID) -> Job:
        job, _ = await service.submit(tenant_id, "batch_map", params, max_retries=max_retries)
        return job

    _print([_with_service(tenant, go)], as_json)


@jobs_app.command("list")
def list_jobs(
    tenant: TenantOpt,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The tenant's jobs, newest first (unfinished ones refreshed from Ray)."""

    async def go(service: JobService, tenant_id: uuid.UUID) -> list[Job]:
        jobs, _, _ = await service.list(tenant_id, limit=limit)
        return jobs

    _print(_with_service(tenant, go), as_json)


@jobs_app.command("show")
def show(job_id: str, tenant: TenantOpt, as_json: JsonOpt = False) -> None:
    """One job, refreshed from Ray, with the tail of its logs."""
    jid = _job_id(job_id)

    async def go(service: JobService, tenant_id: uuid.UUID) -> JobView:
        return await service.get(tenant_id, jid)

    _show(_with_service(tenant, go), as_json)


@jobs_app.command("stop")
def stop(job_id: str, tenant: TenantOpt, as_json: JsonOpt = False) -> None:
    """Stop a queued or running job."""
    jid = _job_id(job_id)

    async def go(service: JobService, tenant_id: uuid.UUID) -> JobView:
        return await service.stop(tenant_id, jid)

    _show(_with_service(tenant, go), as_json)
