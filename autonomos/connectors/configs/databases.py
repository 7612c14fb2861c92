"""Configuration of the Postgres and MongoDB connectors.

The URL/URI is a secret (it may carry a password) and is never echoed in an error.
Connection parameters that make the driver read files of the server or go elsewhere
(``host``/``hostaddr`` overrides, ``service``, ``passfile``, TLS key files, ...) are not
accepted in a Postgres URL.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from autonomos.connectors.configs.base import SourceConfig
from autonomos.connectors.edge import EdgePolicy, Endpoint

Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
# libpq parameters a tenant may set in the URL's query string
PG_QUERY_PARAMS = frozenset(
    {"sslmode", "sslnegotiation", "channel_binding", "target_session_attrs", "gssencmode"}
)
PG_DEFAULT_PORT = 5432
MONGO_DEFAULT_PORT = 27017


def pg_url(value: str) -> URL:
    """The parsed Postgres URL; messages never quote it (it may hold a password)."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("not a valid database URL") from None
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"unsupported URL scheme {url.drivername!r}")
    if url.host and ("," in url.host or "/" in url.host):
        raise ValueError("one host name or address, not a list or a socket directory")
    if bad := sorted(set(url.query) - PG_QUERY_PARAMS):
        allowed = ", ".join(sorted(PG_QUERY_PARAMS))
        raise ValueError(f"unsupported parameter(s) {', '.join(bad)}; allowed: {allowed}")
    return url


class PostgresConfig(SourceConfig):
    """``url``: a SQLAlchemy/libpq URL (any postgres driver name); ``password`` overrides
    the URL's; ``schemas`` (default public), ``tables`` (``t`` or ``schema.t``)."""

    source_type = "postgres"
    secret_fields = ("url", "password")

    url: str = Field(min_length=1, max_length=4096)
    password: str | None = None
    schemas: list[Name] = Field(default_factory=lambda: ["public"], min_length=1, max_length=100)
    tables: list[Name] | None = Field(None, max_length=10_000)
    batch_size: int = Field(10_000, ge=1, le=1_000_000)
    cursor_field: dict[Name, Name] = Field(default_factory=dict, max_length=10_000)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        pg_url(v)
        return v

    @property
    def host(self) -> str:
        return pg_url(self.url).host or "localhost"

    @property
    def port(self) -> int:
        return pg_url(self.url).port or PG_DEFAULT_PORT

    def endpoints(self) -> frozenset[Endpoint]:
        return frozenset({Endpoint("postgresql", self.host.lower(), self.port)})

    def check_edge(self, edge: EdgePolicy) -> None:
        edge.check_database_host(self.host, self.port, strict=False)


def mongo_hosts(uri: str) -> list[tuple[str, int]]:
    """The seed hosts of a MongoDB URI (an SRV URI: its one SRV name)."""
    try:
        parts = urllib.parse.urlsplit(uri)
    except ValueError:
        raise ValueError("not a valid MongoDB URI") from None
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise ValueError("the URI must start with mongodb:// or mongodb+srv://")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    hosts = []
    for item in filter(None, netloc.split(",")):
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":")
        else:
            host, _, port = item.partition(":")
        if not host or "/" in host or (port and not port.isdigit()):
            raise ValueError("the URI's host list is not valid")
        hosts.append((host.lower(), int(port) if port else MONGO_DEFAULT_PORT))
    if not hosts:
        raise ValueError("the URI names no host")
    return hosts


class MongoConfig(SourceConfig):
    source_type = "mongodb"
    secret_fields = ("uri",)
    srv_scheme: ClassVar[str] = "mongodb+srv"

    uri: str = Field(min_length=1, max_length=4096)
    database: str = Field(min_length=1, max_length=63, pattern=r"^[^/\\. \"$\x00]+$")
    collections: tuple[Name, ...] | None = Field(None, max_length=10_000)
    sample_size: int = Field(1000, ge=1, le=100_000)
    cursor_field: dict[Name, Name] = Field(default_factory=dict, max_length=10_000)
    batch_size: int = Field(1000, ge=1, le=100_000)

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        mongo_hosts(v)
        return v

    @property
    def is_srv(self) -> bool:
        return self.uri.startswith(self.srv_scheme + "://")

    def endpoints(self) -> frozenset[Endpoint]:
        scheme = self.srv_scheme if self.is_srv else "mongodb"
        return frozenset(Endpoint(scheme, h, p) for h, p in mongo_hosts(self.uri))

    def check_edge(self, edge: EdgePolicy) -> None:
        if self.is_srv:
            return  # the SRV answer's hosts are checked when connecting
        for host, port in mongo_hosts(self.uri):
            edge.check_database_host(host, port, strict=False)
