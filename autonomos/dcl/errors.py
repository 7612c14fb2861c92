"""Errors of the Data Connection Layer.

Every error says what failed and whether retrying can help: :class:`MappingError` and
:class:`QueryRejected` are the caller's to fix (an API answers 4xx), :class:`ViewError`
is a materialisation that failed (the data or a bug; retrying the same input fails the
same way), :class:`DCLUnavailable` is transient (the tenant's actor is restarting).
They carry only a message so that they cross Ray's process boundary intact.
"""

from __future__ import annotations

from autonomos.common.errors import AutonomosError, FailureType


class DCLError(AutonomosError):
    """Base of every DCL error."""


class MappingError(DCLError, ValueError):
    """A mapping names an unknown entity/field, a bad transform or a bad value."""

    failure = FailureType.CONFIGURATION


class QueryRejected(DCLError, ValueError):
    """A sandbox query (or a view request) is not allowed or not valid; says why."""

    failure = FailureType.CONFIGURATION


class ViewRequestError(QueryRejected):
    """A view page request (fields, filters, sort, paging) is not valid; says why."""


class QueryTimeout(DCLError):
    """A sandbox query ran past its time limit and was interrupted."""

    @classmethod
    def after(cls, timeout_s: float) -> QueryTimeout:
        return cls(f"the query ran longer than {timeout_s:g} s and was stopped")


class UnknownView(DCLError, LookupError):
    """No unified view of that name exists in the ontology."""


class ViewError(DCLError):
    """Materialising a view failed."""


class DCLUnavailable(DCLError):
    """The tenant's DCL could not be reached; a retry may succeed."""

    failure = FailureType.TRANSIENT
