"""Configuration of the files connector, with its storage options per URL scheme.

Only the storage options listed here reach fsspec: options that point the client at
other files or hosts (``client_kwargs``, profiles, credential files) are refused, and
object stores need explicit credentials or ``anon``: the platform's own cloud identity
is never lent to a tenant's connection.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from autonomos.connectors.configs.base import SourceConfig
from autonomos.connectors.edge import LOCAL_SCHEMES, EdgePolicy, EdgeRefused, Endpoint, split_url
from autonomos.connectors.errors import redact

GLOB_CHARS = frozenset("*?[")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_CHAINED = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # fsspec's "simplecache::s3://..."
_HTTP = frozenset({"http", "https"})

StreamName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f/\\]+$")
]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=300)]
RelativeGlob = Annotated[
    str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f]+$")
]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    secrets: ClassVar[tuple[str, ...]] = ()


class HttpOptions(_Options):
    secrets = ("headers",)
    headers: dict[Annotated[str, StringConstraints(max_length=200)], str] | None = None


class S3Options(_Options):
    secrets = ("key", "secret", "token")
    key: str | None = None
    secret: str | None = None
    token: str | None = None
    anon: bool = False
    endpoint_url: str | None = None
    requester_pays: bool = False

    @model_validator(mode="after")
    def _explicit_credentials(self) -> S3Options:
        if not self.anon and not (self.key and self.secret):
            raise ValueError("s3 needs 'key' and 'secret', or 'anon': true")
        return self


class GcsOptions(_Options):
    secrets = ("token",)
    # "anon", or a service account's JSON key as an object (never a file name)
    token: Literal["anon"] | dict[str, Any]
    project: str | None = None
    requester_pays: bool = False


class AzureOptions(_Options):
    secrets = ("account_key", "sas_token")
    account_name: str = Field(min_length=3, max_length=24, pattern=r"^[a-z0-9]+$")
    account_key: str | None = None
    sas_token: str | None = None
    anon: bool = False

    @model_validator(mode="after")
    def _explicit_credentials(self) -> AzureOptions:
        if not (self.anon or self.account_key or self.sas_token):
            raise ValueError("az needs 'account_key' or 'sas_token', or 'anon': true")
        return self


OPTIONS: dict[str, type[_Options]] = {
    "http": HttpOptions,
    "https": HttpOptions,
    "s3": S3Options,
    "s3a": S3Options,
    "gs": GcsOptions,
    "gcs": GcsOptions,
    "az": AzureOptions,
    "abfs": AzureOptions,
    "abfss": AzureOptions,
}


def scheme_of(path: str) -> str | None:
    """The URL scheme of ``path`` (lower case), ``None`` for a plain local path."""
    found = _SCHEME.match(path)
    return found.group(1).lower() if found else None


def glob_base(path: str) -> str:
    """The part of a path before its first glob component."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if GLOB_CHARS & set(part):
            return "/".join(parts[:i]) or "/"
    return path


def _has_userinfo(url: str) -> bool:
    return redact(url) != url


class FilesConfig(SourceConfig):
    """``path``: a folder, file or glob (a relative path is a folder of the tenant's
    upload area), or a URL (``https``, ``s3``, ``gs``, ``az``/``abfs``; others as the
    operator allows). ``streams`` maps stream names to globs *relative to* ``path``."""

    source_type = "files"

    path: str = Field(min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f]+$")
    format: Literal["csv", "jsonl", "parquet"] | None = None
    streams: dict[StreamName, RelativeGlob] | None = Field(None, max_length=1000)
    primary_key: dict[StreamName, list[FieldName]] = Field(default_factory=dict, max_length=1000)
    cursor_field: dict[StreamName, FieldName] = Field(default_factory=dict, max_length=1000)
    batch_size: int = Field(50_000, ge=1, le=1_000_000)
    block_size: int = Field(1 << 20, ge=1 << 10, le=256 << 20)  # bytes parsed at a time
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    storage_options: dict[str, Any] | None = None

    @property
    def scheme(self) -> str | None:
        return scheme_of(self.path)

    @property
    def is_local(self) -> bool:
        return self.scheme is None or self.scheme in LOCAL_SCHEMES

    @property
    def local_path(self) -> str:
        """The path without a ``file://`` prefix (local configurations only)."""
        return self.path.split("://", 1)[1] if self.scheme else self.path

    def options(self) -> _Options | None:
        scheme = self.scheme
        if scheme is None or scheme not in OPTIONS:
            return None
        return OPTIONS[scheme].model_validate(self.storage_options or {})

    @model_validator(mode="after")
    def _consistent(self) -> FilesConfig:
        if _CHAINED.match(self.path):
            raise ValueError("path: chained URLs ('a::b') are not supported")
        scheme = self.scheme
        if scheme is not None and scheme not in OPTIONS and scheme not in LOCAL_SCHEMES:
            raise ValueError(f"path: URL scheme {scheme!r} is not supported")
        if self.is_local and self.storage_options:
            raise ValueError("storage_options: not used for local paths")
        if scheme in OPTIONS:
            self.options()  # raises on unsupported keys or missing credentials
        if self.delimiter is not None and (
            self.delimiter.isalnum() or self.delimiter in '"\r\n' or not self.delimiter.isascii()
        ):
            raise ValueError("delimiter: one ASCII character, not a letter, digit or quote")
        for name, pattern in (self.streams or {}).items():
            if pattern.startswith("/") or "://" in pattern or ".." in pattern.split("/"):
                raise ValueError(f"streams.{name}: a glob relative to 'path' (no '/', '..', URL)")
        return self

    # -- secrets ---------------------------------------------------------------------

    def secret_paths(self) -> list[str]:
        paths = ["path"] if _has_userinfo(self.path) else []
        options = self.options()
        if options is not None:
            paths += [
                f"storage_options.{k}"
                for k in options.secrets
                if (self.storage_options or {}).get(k) not in (None, "")
            ]
        return paths

    def mask(self, path: str, value: Any) -> Any:
        return redact(str(value)) if path == "path" else super().mask(path, value)

    def endpoints(self) -> frozenset[Endpoint]:
        if self.is_local:
            return frozenset()
        scheme = self.scheme or ""
        found = {split_url(self.path, {scheme})}
        endpoint_url = (self.storage_options or {}).get("endpoint_url")
        if endpoint_url:
            found.add(split_url(str(endpoint_url), _HTTP))
        return frozenset(found)

    # -- edge ------------------------------------------------------------------------

    def check_edge(self, edge: EdgePolicy) -> None:
        scheme = self.scheme
        if scheme is not None:
            edge.check_remote_scheme(scheme)
        if self.is_local:
            edge.local.check(glob_base(self.local_path))
            return
        if scheme in _HTTP:
            edge.check_url(self.path)
        endpoint_url = (self.storage_options or {}).get("endpoint_url")
        if endpoint_url:
            edge.check_url(str(endpoint_url), _HTTP & (edge.schemes | {"https"}))


__all__ = ["EdgeRefused", "FilesConfig", "glob_base", "scheme_of"]
