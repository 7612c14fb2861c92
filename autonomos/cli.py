"""The ``autonomos`` command: run the platform locally and administer it.

Exit codes: 0 success, 1 operation failed (message printed), 2 bad usage or
configuration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from autonomos.config import Settings, SettingsError
from autonomos.jobs.cli import jobs_app
from autonomos.nlp.cli import kb_app, pii_app

app = typer.Typer(help="AutonomOS: multi-tenant data orchestration on Ray.", no_args_is_help=True)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest data into a tenant.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(ingest_app, name="ingest")
app.add_typer(jobs_app, name="jobs")
app.add_typer(pii_app, name="pii")
app.add_typer(kb_app, name="kb")
map_app = typer.Typer(
    help="Map source schemas onto the ontology; compare schema versions.", no_args_is_help=True
)
app.add_typer(map_app, name="map")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never cut mid-path
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Fixed, so re-running `up` finds the demo connection instead of adding another.
DEMO_CONNECTION_ID = uuid.UUID("00000000-0000-4000-8000-00000000d0e0")


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def parse_input(model: type[M], **values: Any) -> M:
    """Validate CLI input with the API's own model; a bad value is a usage error (2)."""
    try:
        return model(**values)
    except ValidationError as e:
        fail("; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()), 2)


def load_settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, SettingsError) as e:
        fail(f"invalid configuration: {e}", 2)


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning domain errors into readable CLI errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from autonomos.auth.service import AuthError
    from autonomos.store.errors import StoreError

    try:
        return asyncio.run(fn())  # type: ignore[arg-type]
    except (StoreError, AuthError, SettingsError) as e:
        fail(str(e))
    except SQLAlchemyError as e:
        cause = getattr(e, "orig", None) or e
        fail(f"database error: {type(cause).__name__}: {str(cause).splitlines()[0]}")
    except (OSError, ConnectionError) as e:
        fail(f"database unreachable: {e}")


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


def do_migrate(settings: Settings, revision: str = "head") -> None:
    from autonomos.store import migrate

    try:
        migrate.upgrade(settings.owner_database_url, revision, settings.app_database_url)
    except Exception as e:  # alembic/driver errors: show the cause, not a traceback
        fail(f"migration failed: {type(e).__name__}: {e}")


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
                run = _ingest(settings, demo, DEMO_CONNECTION_ID, MOCK_SOURCES, "demo-sources")
            out.print(f"[green]✓[/] demo sources synced: {run.status}, {run.records_written} rows")
            with out.status("Mapping the demo sources onto the ontology, building the views"):
                from autonomos.jobs.batch_map import map_tenant

                report = run_async(lambda: map_tenant(settings, demo))
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


async def _run_demo_agents(settings: Settings, tenant_id: uuid.UUID) -> list[Any]:
    """Wait for the agent runs the demo's materialisation queued (Ray tasks owned by this
    process, which exits after ``up``), running any built-in agent that never ran."""
    from autonomos.actors.agents import RayAgentRunner
    from autonomos.agents.await_runs import builtin_outcomes, ensure_builtin_runs, wait_for_runs
    from autonomos.store.session import Database

    db = Database(settings.app_database_url)
    try:
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


@tenants_app.command("create")
def tenants_create(
    name: str,
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.")],
    admin_password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="AUTONOMOS_ADMIN_PASSWORD",
        ),
    ],
) -> None:
    """Create a tenant and its first admin (refused if a tenant already has that name)."""
    from autonomos.serve_apps.api.schemas import RegisterIn

    body = parse_input(RegisterIn, tenant_name=name, email=admin_email, password=admin_password)
    settings = load_settings()
    do_migrate(settings)

    async def _create() -> tuple[Any, Any]:
        from autonomos.auth.service import AuthService
        from autonomos.store.session import Database

        db = Database(settings.app_database_url)
        try:
            return await AuthService.from_settings(settings, db).create_tenant(
                body.tenant_name, body.email, body.password, unique_name=True
            )
        finally:
            await db.dispose()

    tenant, user = run_async(_create)
    out.print(f"[green]✓[/] tenant {tenant.name!r} id={tenant.id}; admin {user.email}")


@tenants_app.command("list")
def tenants_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tenants."""
    settings = load_settings()
    do_migrate(settings)

    async def _list() -> list[Any]:
        from sqlalchemy import select

        from autonomos.store.models import Tenant
        from autonomos.store.session import Database

        db = Database(settings.app_database_url)
        try:
            async with db.global_session() as s:
                return list(await s.scalars(select(Tenant).order_by(Tenant.created_at)))
        finally:
            await db.dispose()

    rows = run_async(_list)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {"id": str(t.id), "name": t.name, "created_at": t.created_at.isoformat()}
                    for t in rows
                ]
            )
        )
        return
    table = Table("id", "name", "created")
    for t in rows:
        table.add_row(str(t.id), t.name, t.created_at.isoformat(timespec="seconds"))
    out.print(table)


@users_app.command("create")
def users_create(
    tenant: Annotated[str, typer.Option(help="Tenant id or name.")],
    email: Annotated[str, typer.Option()],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="AUTONOMOS_USER_PASSWORD"
        ),
    ],
    role: Annotated[str, typer.Option(help="admin, operator or viewer.")] = "viewer",
) -> None:
    """Create a user in a tenant."""
    from autonomos.serve_apps.api.schemas import UserCreate

    body = parse_input(UserCreate, email=email, password=password, role=role)
    settings = load_settings()
    do_migrate(settings)

    async def _create() -> Any:
        from autonomos.auth.service import AuthService
        from autonomos.store.session import Database
        from autonomos.store.tenants import find_tenant

        db = Database(settings.app_database_url)
        try:
            tenant_id = await find_tenant(db, tenant)
            auth = AuthService.from_settings(settings, db)
            async with db.tenant_session(tenant_id) as s:
                return await auth.create_user(s, body.email, body.password, body.role)
        finally:
            await db.dispose()

    user = run_async(_create)
    out.print(f"[green]✓[/] user {user.email} ({user.role.value}) id={user.id}")


def _ingest(
    settings: Settings, tenant: str, connection_id: uuid.UUID, path: Path | None, name: str | None
) -> Any:
    async def _run() -> Any:
        from autonomos.aam.ingest import ingest_files
        from autonomos.store.session import Database
        from autonomos.store.tenants import find_tenant

        db = Database(settings.app_database_url)
        try:
            tenant_id = await find_tenant(db, tenant)
            return await ingest_files(settings, db, tenant_id, connection_id, path, name)
        finally:
            await db.dispose()

    return run_async(_run)


@ingest_app.command("files")
def ingest_files_cmd(
    connection_id: Annotated[str, typer.Option(help="UUID of the files connection.")],
    namespace: Annotated[str, typer.Option(help="Tenant (name or id) to ingest into.")],
    path: Annotated[
        Path | None,
        typer.Option(
            help="Directory to read: granted to the tenant's files connections, and the "
            "connection is created over it if missing."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name for a new connection.")] = None,
) -> None:
    """Sync a files connection now (idempotent: finished files are not read again).

    Run by the operator on the host: ``--path`` grants that directory to the tenant (so
    its syncs, in the API or in Ray, may read it); it can never be the data dir."""
    try:
        cid = uuid.UUID(connection_id)
    except ValueError:
        fail(f"--connection-id must be a UUID, got {connection_id!r}", 2)
    settings = load_settings()
    if path is not None:
        from autonomos.aam.edge import GrantRefused, grantable

        try:
            path = grantable(settings, path)
        except GrantRefused as e:
            fail(str(e), 2)
    do_migrate(settings)
    run = _ingest(settings, namespace, cid, path, name)
    table = Table("run", "status", "read", "written", "quarantined")
    table.add_row(
        str(run.id),
        run.status,
        str(run.records_read),
        str(run.records_written),
        str(run.records_quarantined),
    )
    out.print(table)
    if run.status != "succeeded":
        fail(f"sync {run.status}: {run.error}")


@map_app.command("suggest")
def map_suggest(
    schema: Annotated[str, typer.Argument(help='Schema JSON: {"system", "object", "fields"}.')],
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
    lexical: Annotated[
        bool, typer.Option("--lexical", help="Lexical signals only (the default).")
    ] = False,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings",
            help="Add the embedding signal (loads the model: ~6 s cold; about one F1 point "
            "on held-out systems).",
        ),
    ] = False,
    evidence: Annotated[
        bool, typer.Option("--evidence", help="JSON: every field with signals, alternatives.")
    ] = False,
) -> None:
    """Suggest the ontology entity of a source object and a mapping of its fields, each
    with a calibrated confidence (fields that map to nothing are left out)."""
    from autonomos.matching.cli_support import (
        build_matcher,
        load_schema_file,
        render_table,
        suggestion_json,
    )
    from autonomos.matching.schema import SchemaInputError

    if fmt not in ("json", "table"):
        fail(f"--format must be json or table, got {fmt!r}", 2)
    try:
        source = load_schema_file(schema)
    except SchemaInputError as e:
        fail(str(e), 2)
    matcher = build_matcher(
        lexical or not embeddings, lambda msg: err.print(f"[yellow]warning:[/] {msg}")
    )
    result = matcher.suggest(source)
    if fmt == "json":
        typer.echo(suggestion_json(result, evidence=evidence))
    else:
        render_table(result, out, show_unmapped=evidence)


@map_app.command("diff")
def map_diff(
    before: Annotated[Path, typer.Argument(help="Schema JSON of the old version.")],
    after: Annotated[Path, typer.Argument(help="Schema JSON of the new version.")],
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
) -> None:
    """Drift between two versions of one object's schema: added, removed, renamed (with
    confidence) and type-changed fields. A schema is {"fields": [{"name", "type", ...}]}
    (a drift case's "before"/"after", or a JSON Schema with "properties")."""
    from autonomos.aam.repair.diff import SchemaInputError, diff_schemas, read_schema_file

    if fmt not in ("json", "table"):
        fail(f"--format must be json or table, got {fmt!r}", 2)
    try:
        result = diff_schemas(read_schema_file(before, "before"), read_schema_file(after, "after"))
    except SchemaInputError as e:
        fail(str(e), 2)
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table("change", "field", "detail")
    for name in result["added"]:
        table.add_row("added", name, "")
    for name in result["removed"]:
        table.add_row("removed", name, "")
    for old, new in result["renamed"].items():
        table.add_row("renamed", old, f"-> {new} ({result['rename_confidence'][old]:.2f})")
    for name, (old_t, new_t) in result["type_changed"].items():
        table.add_row("type changed", name, f"{old_t} -> {new_t}")
    out.print(table)


def main() -> None:  # pragma: no cover - console entry point
    from autonomos.common.private_files import restrict_umask

    restrict_umask()  # what a command writes in the data dir is private (0600)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
