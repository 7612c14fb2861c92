"""What every ``autonomos`` command shares: the consoles, failing with a message and an
exit code, reading settings, running async work, migrating.

Exit codes: 0 success, 1 operation failed (message printed), 2 bad usage or
configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from autonomos.config import Settings, SettingsError

if TYPE_CHECKING:
    from autonomos.store.session import Database

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never cut mid-path
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def parse_input(model: type[M], **values: Any) -> M:
    """Validate CLI input with the same model as the API; a bad value is a usage error (2)."""
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


def do_migrate(settings: Settings, revision: str = "head") -> None:
    from autonomos.store import migrate

    try:
        migrate.upgrade(settings.owner_database_url, revision, settings.app_database_url)
    except Exception as e:  # alembic/driver errors: show the cause, not a traceback
        fail(f"migration failed: {type(e).__name__}: {e}")


@contextlib.asynccontextmanager
async def numbering_events(settings: Settings, db: Database) -> AsyncIterator[None]:
    """While a command changes things: the events it records are numbered (and fanned
    out) by this process at once, not by the API's sweep later."""
    from autonomos.events.log import EventLog, installed

    if installed() is not None:
        yield
        return
    events = EventLog.from_settings(settings, db)
    try:
        yield
    finally:
        await events.close()
