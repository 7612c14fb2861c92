"""Which network addresses a tenant's connection may reach.

A tenant names hosts (a files URL, Salesforce's login URL, a database host) and the
server then connects from inside the deployment's network, where loopback, private
ranges and the cloud metadata address reach what no tenant should (SSRF). A name is
resolved and *every* address it resolves to must be publicly routable, unless the
operator allow-listed the name or the address (``AUTONOMOS_FILES_ALLOWED_HOSTS``).
Callers connect only to the addresses checked here (see ``http.py`` and the database
connectors), so a name that later re-resolves elsewhere (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from autonomos.common.errors import FailureType
from autonomos.connectors.errors import ConnectorError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# AWS/GCP/Azure/OCI (link-local), AWS over IPv6 (ULA), Alibaba (shared address space):
# all are refused anyway; named so the message says what was attempted.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class EdgeRefused(ConnectorError):
    """A path, URL or host a tenant named is outside what its connections may reach.

    Always a configuration error. The message names what the tenant wrote, never what it
    resolved to (a resolved path or internal address is the server's business).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, FailureType.CONFIGURATION)


def _embedded(addr: IPAddress) -> list[IPAddress]:
    """Any IPv4 address ``addr`` carries (mapped, 6to4, Teredo, NAT64), then ``addr``:
    what the embedded address is decides the name of the class."""
    out: list[IPAddress] = []
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped:
            out.append(addr.ipv4_mapped)
        if addr.sixtofour:
            out.append(addr.sixtofour)
        if addr.teredo:
            out.extend(addr.teredo)
        if any(addr in net for net in _NAT64):
            out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return [*out, addr]


def address_kind(addr: IPAddress) -> str | None:
    """Why ``addr`` is not publicly routable (``None`` when it is)."""
    for a in _embedded(addr):
        if a in METADATA_ADDRESSES:
            return "the cloud metadata address"
        if a.is_unspecified:
            return "an unspecified address"
        if a.is_loopback:
            return "a loopback address"
        if a.is_link_local:
            return "a link-local address"
        if a.is_multicast:
            return "a multicast address"
        if a.is_private:
            return "a private address"
        if not a.is_global or a.is_reserved:
            return "a non-public address"
    return None


def parse_ip(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (brackets and zone ids allowed)."""
    text = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class HostRules:
    """The operator's allow-list: names (``db.corp.example``, ``*.corp.example``) and
    addresses or networks (``10.1.2.3``, ``10.0.0.0/8``) exempt from the public-only rule."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HostRules:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(networks))

    def name_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        if name in self.names:
            return True
        return any(
            n.startswith("*.") and name.endswith(n[1:]) and name != n[2:] for n in self.names
        )

    def address_allowed(self, addr: IPAddress) -> bool:
        return any(addr in net for net in self.networks)

    def check_address(self, host: str, addr: IPAddress) -> None:
        """Refuse ``addr`` (an address of ``host``) unless public or allow-listed."""
        if self.name_allowed(host) or self.address_allowed(addr):
            return
        kind = address_kind(addr)
        if kind is not None:
            raise EdgeRefused(
                f"host {host!r} is {kind}; connections may only reach public addresses "
                "(the operator can allow-list a host with AUTONOMOS_FILES_ALLOWED_HOSTS)"
            )

    def resolve(self, host: str, port: int, *, strict: bool = True) -> list[str]:
        """The checked addresses of ``host``; connect to these and nothing else.

        Every address must pass: a name with one public and one private answer is
        refused. With ``strict=False`` (create/patch time) a name that does not resolve
        yields ``[]``: it is checked again, strictly, when a connection is made.
        """
        if not host:
            raise EdgeRefused("a host is required")
        literal = parse_ip(host)
        if literal is not None:
            self.check_address(host, literal)
            return [str(literal)]
        if any(c in host for c in "/\\@ \t\r\n%") or len(host) > 253:
            raise EdgeRefused(f"{host!r} is not a valid host name")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            if not strict:
                return []
            failure = (
                FailureType.TRANSIENT
                if getattr(exc, "errno", None) == socket.EAI_AGAIN
                else FailureType.CONFIGURATION
            )
            raise ConnectorError(f"cannot resolve host {host!r}", failure) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for text in addresses:
            addr = parse_ip(text)
            if addr is None:  # pragma: no cover - getaddrinfo returns numeric hosts
                raise EdgeRefused(f"host {host!r} resolved to something that is not an address")
            self.check_address(host, addr)
        return addresses


@dataclass(frozen=True)
class Endpoint:
    """Where a URL points: what a stored secret must never follow to somewhere else."""

    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")


def split_url(url: str, schemes: Iterable[str]) -> Endpoint:
    """Scheme, host and port of ``url``; refused when the scheme is not in ``schemes``."""
    allowed = sorted(set(schemes))
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise EdgeRefused("the URL is not valid (host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in allowed:
        raise EdgeRefused(
            f"URL scheme {scheme or '(none)'!r} is not allowed; allowed: {', '.join(allowed)}"
        )
    if not parts.hostname:
        raise EdgeRefused(f"the {scheme} URL has no host")
    return Endpoint(scheme, parts.hostname.lower().rstrip("."), port)
