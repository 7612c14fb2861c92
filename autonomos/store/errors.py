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
