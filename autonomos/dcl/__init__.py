"""Data Connection Layer: the mapping registry, unified views in DuckDB, the SQL sandbox.

Others use: :mod:`autonomos.dcl.registry` (mappings, from any tenant session),
:class:`autonomos.dcl.service.DCLService` (one tenant's views; what the ``DCL`` actor
wraps) and :class:`autonomos.dcl.port.DCLPort` (how the API reaches a tenant's DCL,
in-process or through the actor). The DuckDB work itself is in ``views``/``browse``/
``sandbox`` (pure, no Ray).
"""

from autonomos.dcl.errors import (
    DCLError,
    DCLUnavailable,
    MappingError,
    QueryRejected,
    QueryTimeout,
    UnknownView,
    ViewError,
    ViewRequestError,
)
from autonomos.dcl.registry import (
    MappingStatus,
    active_mappings,
    current_mappings,
    history,
    mapping_counts,
    mapping_counts_query,
    restore,
    retire_mapping,
    set_mapping,
)

__all__ = [
    "DCLError",
    "DCLUnavailable",
    "MappingError",
    "MappingStatus",
    "QueryRejected",
    "QueryTimeout",
    "UnknownView",
    "ViewError",
    "ViewRequestError",
    "active_mappings",
    "current_mappings",
    "history",
    "mapping_counts",
    "mapping_counts_query",
    "restore",
    "retire_mapping",
    "set_mapping",
]
