"""``autonomos up``, ``down`` and ``migrate``: the platform on a local (or given) Ray."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from autonomos.cli._common import (
    do_migrate,
    fail,
    load_settings,
    numbering_events,
    out,
    run_async,
)
from autonomos.cli.ingest import ingest
from autonomos.config import Settings, SettingsError

app = typer.Typer()  # its commands are registered at the top level of `autonomos`

# Fixed, so re-running `up` finds the demo connection instead of adding another.
DEMO_CONNECTION_ID = uuid.UUID("00000000-0000-4000-8000-00000000d0e0")


def ray_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``up`` starts its Ray head in (``base``: this process's).

    This environment's ``bin`` comes first on PATH: Ray runs a job's entrypoint with the
    head's PATH, so ``ray job submit ... -- python -m autonomos.jobs.batch_map`` gets the
    project's interpreter, not whatever ``python`` the shell had (which, without the
    project's packages, fails on its first import).
    """
    from autonomos.serve_apps.api.deployment import serve_env

    env = dict(os.environ if base is None else base)
    # The local head binds 127.0.0.1 only; token auth is for multi-node clusters.
    env.setdefault("RAY_AUTH_MODE", "disabled")
    env.update(serve_env(settings))
    bin_dir = str(Path(sys.executable).parent)
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *rest])
    return env


def _ray_bin() -> str:
    found = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    if not Path(found).exists():
        fail("the `ray` command is not installed in this environment", 2)
    return found


def start_local_ray(settings: Settings) -> str:
    """Start (or reuse) a local Ray head on ``ray_port``; returns its address."""
    address = f"127.0.0.1:{settings.ray_port}"
    env = ray_env(settings)
    probe = subprocess.run(  # noqa: S603
        [_ray_bin(), "status", "--address", address], env=env, capture_output=True, timeout=60
    )
    if probe.returncode == 0:
        out.print(f"[green]✓[/] Ray already running at {address}")
        return address
    with out.status(f"Starting Ray head on {address} (dashboard :{settings.ray_dashboard_port})"):
        proc = subprocess.run(  # noqa: S603
            [
                _ray_bin(),
                "start",
                "--head",
                "--port",
                str(settings.ray_port),
                "--node-ip-address",
                "127.0.0.1",
                "--dashboard-host",
                "127.0.0.1",
                "--dashboard-port",
                str(settings.ray_dashboard_port),
                "--disable-usage-stats",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    if proc.returncode != 0:
        fail(f"`ray start` failed:\n{proc.stderr[-2000:]}")
    out.print(
        f"[green]✓[/] Ray started at {address}; dashboard http://127.0.0.1:{settings.ray_dashboard_port}"
    )
    return address


@app.command()
def up(
    foreground: Annotated[bool, typer.Option(help="Stay attached; Ctrl-C stops Serve.")] = False,
) -> None:
    """Start local Ray, migrate, deploy the API on Serve and (demo mode) a demo tenant."""
    settings = load_settings()
    from autonomos.common.private_files import secure_data_dir

    secure_data_dir(settings.data_dir)
    address = settings.ray_address or start_local_ray(settings)
    with out.status("Migrating the database"):
        do_migrate(settings)
    out.print(f"[green]✓[/] Database at head ({settings.app_database_url.split('@')[-1]})")

    import ray

    os.environ.update({k: v for k, v in ray_env(settings).items() if k.startswith("RAY_")})
    with out.status("Deploying the API on Ray Serve"):
        ray.init(
            address=address,
            namespace=settings.ray_namespace,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        from autonomos.serve_apps.api.deployment import deploy

        try:
            deploy(settings)
        except SettingsError as e:  # e.g. several Ray nodes on SQLite or a local landing
            fail(str(e), 2)
    base = f"http://{settings.serve_host}:{settings.serve_port}"
    out.print(f"[green]✓[/] API ready at {base}  (docs {base}/docs)")
    if settings.demo_mode:
        from autonomos.demo.tenant import (
            DEMO_EMAIL,
            DEMO_TENANT,
            MOCK_SOURCES,
            credentials_file,
            ensure_demo_tenant,
        )

        demo_id = run_async(lambda: ensure_demo_tenant(settings))
        if demo_id is None:
            fail(
                f"the demo admin's e-mail {DEMO_EMAIL!r} already signs in to a tenant that "
                "`up` did not create; remove that user or set AUTONOMOS_DEMO_MODE=false"
            )
        demo = str(demo_id)
        saved = json.loads(credentials_file(settings).read_text())
        login = f"{saved['email']} / {saved['password']}"
        out.print(f"[bold]Demo tenant[/] {DEMO_TENANT!r}: login {login}")
        if MOCK_SOURCES.is_dir():
            with out.status("Syncing the demo sources (mock_sources/)"):
                run = ingest(settings, demo, DEMO_CONNECTION_ID, MOCK_SOURCES, "demo-sources")
            out.print(f"[green]✓[/] demo sources synced: {run.status}, {run.records_written} rows")
            with out.status("Mapping the demo sources onto the ontology, building the views"):
                report = run_async(lambda: _map_demo(settings, demo))
            active = sum(s.active for s in report.streams)
            proposed = sum(s.proposed for s in report.streams)
            out.print(
                f"[green]✓[/] demo mapped: {active} mappings active, {proposed} proposed for "
                "review (/api/v1/dcl/mappings), views at /api/v1/dcl/views"
            )
            with out.status("Running the FinOps and RevOps agents on the demo views"):
                outcomes = run_async(lambda: _run_demo_agents(settings, demo_id))
            for o in outcomes:
                mark = "[green]✓[/]" if o.last_status == "succeeded" else "[yellow]![/]"
                out.print(
                    f"{mark} agent {o.name}: {o.last_status or 'no run'}, {o.findings} findings "
                    f"({o.high} high) at /api/v1/aoa/findings"
                )
    if foreground:
        import time

        from ray import serve

        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            serve.shutdown()


AGENT_WAIT_S = 600.0


async def _map_demo(settings: Settings, tenant: str) -> Any:
    """The batch mapping of the demo tenant, in this process (its events numbered here)."""
    from autonomos.jobs.batch_map import map_tenant
    from autonomos.store.session import Database

    db = Database(settings.app_database_url)
    try:
        async with numbering_events(settings, db):
            return await map_tenant(settings, tenant)
    finally:
        await db.dispose()


async def _run_demo_agents(settings: Settings, tenant_id: uuid.UUID) -> list[Any]:
    """Wait for the agent runs the demo's materialisation queued (Ray tasks owned by this
    process, which exits after ``up``), running any built-in agent that never ran."""
    from autonomos.actors.agents import RayAgentRunner
    from autonomos.agents.await_runs import builtin_outcomes, ensure_builtin_runs, wait_for_runs
    from autonomos.store.session import Database

    db = Database(settings.app_database_url)
    try:
        async with numbering_events(settings, db):  # the runs it queues
            await ensure_builtin_runs(db, tenant_id, RayAgentRunner(settings))
        await wait_for_runs(db, tenant_id, timeout_s=AGENT_WAIT_S)
        return await builtin_outcomes(db, tenant_id)
    finally:
        await db.dispose()


@app.command()
def down() -> None:
    """Stop the API and the local Ray started by `up`."""
    settings = load_settings()
    env = ray_env(settings)
    if settings.ray_address:
        import ray
        from ray import serve

        ray.init(
            address=settings.ray_address,
            namespace=settings.ray_namespace,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        from autonomos.serve_apps.api.deployment import APP_NAME as API_APP
        from autonomos.serve_apps.embedder.deployment import APP_NAME as EMBEDDER_APP

        for name in (API_APP, EMBEDDER_APP):
            serve.delete(name)  # a no-op for an app that is not deployed
        out.print("[green]✓[/] API and embedder removed from the cluster")
        return
    proc = subprocess.run([_ray_bin(), "stop"], env=env, capture_output=True, text=True)  # noqa: S603
    if proc.returncode != 0:
        fail(f"`ray stop` failed: {proc.stderr[-500:]}")
    out.print("[green]✓[/] Local Ray stopped")


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    downgrade: Annotated[bool, typer.Option(help="Downgrade to REVISION instead.")] = False,
) -> None:
    """Apply (or revert) database migrations."""
    settings = load_settings()
    if downgrade:
        from autonomos.store import migrate as m

        try:
            m.downgrade(settings.owner_database_url, revision)
        except Exception as e:
            fail(f"downgrade failed: {type(e).__name__}: {e}")
    else:
        do_migrate(settings, revision)
    out.print(f"[green]✓[/] database at {revision}")
