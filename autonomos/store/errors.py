"""Errors of the store package."""

from autonomos.common.errors import AutonomosError


class StoreError(AutonomosError):
    """Base of every store error."""


class TenantContextError(StoreError):
    """A tenant-owned table was touched without (or outside) a tenant context."""


class NotFound(StoreError):
    """The object does not exist in this tenant (indistinguishable from another tenant's)."""


class Conflict(StoreError):
    """A uniqueness rule would be broken (e.g. an e-mail already registered)."""


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` says the database could not be reached or the connection was lost
    (server restarted, network cut, connection refused or timed out): trying again later,
    on a new connection, can help. Errors the server answered (a constraint, bad SQL,
    a serialisation failure) are not disconnects.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            # SQLite's "database is locked" is an OperationalError too: not a disconnect
            return "locked" not in str(exc.orig).lower()
        return _cause_is_disconnect(exc.orig)
    return _cause_is_disconnect(exc)


def _cause_is_disconnect(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    name = type(exc).__name__
    # asyncpg's own classes, named rather than imported (the driver is optional)
    return name in {"ConnectionDoesNotExistError", "ConnectionFailureError", "InterfaceError"} or (
        isinstance(exc, OSError) and exc.errno is not None
    )
