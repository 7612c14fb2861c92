"""One tenant's edge policy: what its connections may read and reach.

Built by the platform from Settings and the tenant id (``autonomos.aam.edge``) wherever a
connector is built, never from anything stored in the connection: the API process
checks a configuration with it at create/patch time and the sync engine (inline or in a
Ray actor) builds it again before every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from autonomos.connectors.edge.network import EdgeRefused, Endpoint, HostRules, split_url
from autonomos.connectors.edge.paths import LocalRoots

LOCAL_SCHEMES = frozenset({"file", "local"})


@dataclass(frozen=True)
class EdgePolicy:
    local: LocalRoots
    # remote schemes a files connection may use (`file` here allows file:// URLs)
    schemes: frozenset[str] = frozenset({"https", "s3", "gs", "az", "abfs"})
    hosts: HostRules = field(default_factory=HostRules)
    # databases (Postgres, MongoDB) on private addresses refused too
    block_private_databases: bool = True

    def check_url(self, url: str, schemes: Iterable[str] | None = None) -> Endpoint:
        """Scheme allowed and host public (or allow-listed), before any I/O."""
        endpoint = split_url(url, self.schemes if schemes is None else schemes)
        self.hosts.resolve(endpoint.host, endpoint.port or 443, strict=False)
        return endpoint

    def check_database_host(self, host: str, port: int, *, strict: bool) -> list[str]:
        """Checked addresses of a database host ([] when private hosts are allowed)."""
        if not self.block_private_databases:
            return []
        return self.hosts.resolve(host, port, strict=strict)

    def check_remote_scheme(self, scheme: str) -> None:
        if scheme not in self.schemes:
            raise EdgeRefused(
                f"URL scheme {scheme!r} is not allowed; allowed: {', '.join(sorted(self.schemes))}"
            )
