"""Landing storage: a folder or a URL, resolved to a pyarrow file system.

pyarrow's own file systems do the work (``LocalFileSystem``, ``S3FileSystem``,
``GcsFileSystem``, ``AzureFileSystem``): Parquet readers, datasets and DuckDB's Arrow
scans all take them as they are. What this module adds is the mapping between the two
spellings of a landed file: its path *inside* the file system (``bucket/prefix/...``),
and the value a ``landed_batches`` row keeps (a plain absolute path for a folder, the
full URL for object storage), so any node can open a manifest row without knowing how
the node that wrote it was configured.

Credentials are operator settings (``StorageOptions``), never part of a URL or a log
line; unset, each SDK's own chain applies (AWS_* variables, instance profiles, web
identity, GOOGLE_APPLICATION_CREDENTIALS, Azure's environment credentials).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

if TYPE_CHECKING:
    from autonomos.config import Settings

__all__ = ["LandingError", "Storage", "StorageOptions", "open_storage"]


class LandingError(OSError):
    """The landing zone cannot be used or reached; the message names the store, never a
    credential. An ``OSError``: callers that treat I/O failures as such keep doing so."""


@dataclass(frozen=True)
class StorageOptions:
    """How to reach an S3-compatible store (ignored by the other kinds)."""

    endpoint_url: str | None = None  # http(s)://host[:port] of MinIO, Ceph, moto, ...
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> StorageOptions:
        key, secret = settings.landing_access_key_id, settings.landing_secret_access_key
        return cls(
            endpoint_url=settings.landing_endpoint_url,
            region=settings.landing_region,
            access_key_id=key.get_secret_value() if key else None,
            secret_access_key=secret.get_secret_value() if secret else None,
        )


@dataclass(frozen=True)
class Storage:
    """A landing zone's file system and where its root lies in it."""

    filesystem: pafs.FileSystem
    root: str  # inside ``filesystem``: an absolute local path, or bucket/prefix
    url: str  # the root as configured (no credentials): for messages and manifest URLs

    @property
    def local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def to_manifest(self, path: str) -> str:
        """What a manifest row keeps for ``path`` (a path inside the file system)."""
        if self.local:
            return path
        return self.url.rstrip("/") + path[len(self.root) :]

    def locate(self, value: str) -> tuple[pafs.FileSystem, str]:
        """The file system and path of a manifest value: this zone's own URLs, or plain
        local paths (rows landed before the zone moved to object storage stay readable
        on the node that has them)."""
        if "://" not in value:
            return (self.filesystem if self.local else pafs.LocalFileSystem()), value
        base = self.url.rstrip("/") + "/"
        if not self.local and value.startswith(base):
            return self.filesystem, f"{self.root}/{value[len(base) :]}"
        if value.startswith("file://"):
            return pafs.LocalFileSystem(), urlsplit(value).path
        raise LandingError(f"landed file {value} is outside the landing zone {self.url}")


def _s3(options: StorageOptions) -> pafs.S3FileSystem:
    kwargs: dict[str, object] = {
        # bounded: a landing store that does not answer fails the write, and the sync's
        # retries decide what happens next, instead of a call that hangs
        "connect_timeout": 10,
        "request_timeout": 60,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=3),
    }
    if options.endpoint_url:
        endpoint = urlsplit(options.endpoint_url)
        kwargs["endpoint_override"] = endpoint.netloc
        kwargs["scheme"] = endpoint.scheme
    if options.region:
        kwargs["region"] = options.region
    elif options.endpoint_url:
        kwargs["region"] = "us-east-1"  # S3-compatible servers accept any
    if options.access_key_id and options.secret_access_key:
        kwargs["access_key"] = options.access_key_id
        kwargs["secret_key"] = options.secret_access_key
    return pafs.S3FileSystem(**kwargs)


def open_storage(location: str | Path, options: StorageOptions | None = None) -> Storage:
    """The storage of a landing zone at ``location``: a folder (created when missing), a
    ``file://`` URL, or ``s3://``, ``gs://``/``gcs://``, ``abfs://``/``abfss://``."""
    options = options or StorageOptions()
    text = str(location)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if "://" not in text or scheme == "file":
        folder = Path(parts.path if scheme == "file" else text).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return Storage(pafs.LocalFileSystem(), str(folder), str(folder))
    if parts.password or parts.query:
        raise LandingError("the landing URL must carry no credentials and no ?query")
    url = text.rstrip("/")
    try:
        if scheme == "s3":
            bucket_prefix = f"{parts.netloc}{parts.path}".rstrip("/")
            return Storage(_s3(options), bucket_prefix, url)
        if scheme in ("gs", "gcs"):
            fs, root = pafs.FileSystem.from_uri(f"gs://{parts.netloc}{parts.path}")
            return Storage(fs, root.rstrip("/"), url)
        if scheme in ("abfs", "abfss"):
            fs, root = pafs.FileSystem.from_uri(url)
            return Storage(fs, root.rstrip("/"), url)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise LandingError(f"cannot open the landing zone {url}: {exc}") from None
    raise LandingError(f"unsupported landing URL scheme {parts.scheme!r}")
