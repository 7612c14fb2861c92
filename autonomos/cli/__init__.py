"""The ``autonomos`` command: run the platform locally and administer it.

One module per command group (``platform``: up/down/migrate; ``tenants``; ``ingest``;
``mapping``; ``jobs``; ``nlp``: pii/kb), sharing ``_common``. The CLI is a shell like the
API: it calls the core and the composition of the platform, never the other way round.
Heavy libraries load inside the commands, so ``autonomos --help`` stays fast.

Exit codes: 0 success, 1 operation failed (message printed), 2 bad usage or
configuration.
"""

from __future__ import annotations

import typer

from autonomos.cli import platform
from autonomos.cli.ingest import ingest_app
from autonomos.cli.jobs import jobs_app
from autonomos.cli.mapping import map_app
from autonomos.cli.nlp import kb_app, pii_app
from autonomos.cli.tenants import tenants_app, users_app

app = typer.Typer(help="AutonomOS: multi-tenant data orchestration on Ray.", no_args_is_help=True)
app.registered_commands += platform.app.registered_commands  # up, down, migrate
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(ingest_app, name="ingest")
app.add_typer(jobs_app, name="jobs")
app.add_typer(pii_app, name="pii")
app.add_typer(kb_app, name="kb")
app.add_typer(map_app, name="map")


def main() -> None:  # pragma: no cover - console entry point
    from autonomos.common.private_files import restrict_umask

    restrict_umask()  # what a command writes in the data dir is private (0600)
    app()
