"""HTTP clients that connect only to checked addresses.

Both clients check at the connection layer, where every request (the first one and
each redirect) turns a host into addresses: the addresses checked are the ones
connected to, so redirects to a private host and DNS rebinding are refused alike.
Environment proxies are ignored (``trust_env=False``): a proxy would connect for us.

- aiohttp (fsspec's ``http``/``https`` filesystem): a ``TCPConnector`` whose host
  resolution (names and literal addresses, DNS cache included) goes through the rules.
- httpx (Salesforce): an httpcore network backend that resolves, checks and connects
  to the checked address; TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

import aiohttp
import httpcore
import httpx

from autonomos.connectors.edge.network import EdgeRefused, HostRules, parse_ip


class _GuardedConnector(aiohttp.TCPConnector):
    def __init__(self, rules: HostRules, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rules = rules

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Any] | None = None
    ) -> list[Any]:
        results = await super()._resolve_host(host, port, traces=traces)
        for result in results:
            addr = parse_ip(str(result["host"]))
            if addr is None:
                raise EdgeRefused(f"host {host!r} resolved to something that is not an address")
            self._rules.check_address(host, addr)
        return results


def aiohttp_client_factory(
    rules: HostRules,
) -> Callable[..., Coroutine[Any, Any, aiohttp.ClientSession]]:
    """A ``get_client`` for fsspec's HTTPFileSystem."""

    async def get_client(**kwargs: Any) -> aiohttp.ClientSession:
        kwargs.pop("trust_env", None)
        return aiohttp.ClientSession(connector=_GuardedConnector(rules), trust_env=False, **kwargs)

    return get_client


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, rules: HostRules) -> None:
        self._rules = rules
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._rules.resolve(host, port)  # raises EdgeRefused / ConnectorError
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                last = exc
        raise httpcore.ConnectError(f"cannot connect to {host}:{port}") from last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise EdgeRefused("unix sockets are not reachable from a connection")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through :class:`HostRules`."""

    def __init__(self, rules: HostRules, limits: httpx.Limits | None = None) -> None:
        super().__init__(trust_env=False)
        limits = limits or httpx.Limits()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(rules),
        )


def guarded_httpx_client(rules: HostRules, timeout: httpx.Timeout) -> httpx.Client:
    """An httpx client that never follows redirects and reaches only checked addresses."""
    return httpx.Client(
        transport=GuardedTransport(rules),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


__all__ = ["GuardedTransport", "aiohttp_client_factory", "guarded_httpx_client"]
