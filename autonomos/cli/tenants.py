"""``autonomos tenants`` and ``autonomos users``: administer tenants and their users."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from autonomos.auth.inputs import RegisterIn, UserCreate
from autonomos.cli._common import do_migrate, load_settings, out, parse_input, run_async

tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)


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
