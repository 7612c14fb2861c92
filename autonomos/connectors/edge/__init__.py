"""Security at the edges: every path, URL and host a tenant's connection names is
resolved and checked against that tenant's roots and the operator's allow-list before
any I/O, and again at the moment of the I/O itself."""

from autonomos.connectors.edge.network import (
    EdgeRefused,
    Endpoint,
    HostRules,
    address_kind,
    split_url,
)
from autonomos.connectors.edge.paths import LocalRoots
from autonomos.connectors.edge.policy import LOCAL_SCHEMES, EdgePolicy

__all__ = [
    "LOCAL_SCHEMES",
    "EdgePolicy",
    "EdgeRefused",
    "Endpoint",
    "HostRules",
    "LocalRoots",
    "address_kind",
    "split_url",
]
