"""Configuration of the Salesforce connector."""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from autonomos.connectors.configs.base import SourceConfig
from autonomos.connectors.edge import EdgePolicy, Endpoint, split_url

AuthFlow = Literal["client_credentials", "password"]
SObject = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=100)]
_HTTP = frozenset({"http", "https"})


def base_url(value: str) -> str:
    """An http(s) URL with a host and nothing a base URL cannot have."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() not in _HTTP or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not carry credentials, a query or a fragment")
    parts.port  # noqa: B018 - raises ValueError on a bad port
    return value.rstrip("/")


class SalesforceConfig(SourceConfig):
    """OAuth2 ``client_credentials`` (needs ``login_url`` to be the org's My Domain) or
    ``password`` flow; ``objects`` are the streams; ``batch_size`` is 200..2000 records
    per query page (what Salesforce honours)."""

    source_type = "salesforce"
    secret_fields = ("client_secret", "password", "security_token")

    login_url: str = "https://login.salesforce.com"
    instance_url: str | None = None  # taken from the token response when absent
    auth: AuthFlow = "client_credentials"
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str = Field(min_length=1, max_length=500)
    username: str | None = Field(None, max_length=320)
    password: str | None = Field(None, max_length=500)
    security_token: str | None = Field(None, max_length=500)
    api_version: str = Field("v60.0", pattern=r"^v?\d{1,3}\.\d$")
    objects: tuple[SObject, ...] = Field(
        ("Account", "Contact", "Opportunity"), min_length=1, max_length=1000
    )
    batch_size: int = Field(2000, ge=200, le=2000)

    @field_validator("login_url", "instance_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else base_url(v)

    @field_validator("api_version")
    @classmethod
    def _version(cls, v: str) -> str:
        return v if v.startswith("v") else f"v{v}"

    @model_validator(mode="after")
    def _flow(self) -> SalesforceConfig:
        if self.auth == "password" and not (self.username and self.password):
            raise ValueError("the password flow needs 'username' and 'password'")
        return self

    def endpoints(self) -> frozenset[Endpoint]:
        urls = [self.login_url, *([self.instance_url] if self.instance_url else [])]
        return frozenset(split_url(u, _HTTP) for u in urls)

    def check_edge(self, edge: EdgePolicy) -> None:
        for url in (self.login_url, self.instance_url):
            if url:
                edge.check_url(url, http_schemes(edge))


def http_schemes(edge: EdgePolicy) -> frozenset[str]:
    """``https``, and plain ``http`` where the operator allows it."""
    return frozenset({"https"}) | (edge.schemes & {"http"})
