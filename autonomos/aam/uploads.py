"""Each tenant's upload area: folders of files that a files connection reads.

Layout: ``<data dir>/uploads/<tenant id>/<folder>/<file>``, one level of folders, each
flat. Folder and file names are plain names (no separators, ``..``, hidden or control
characters) and files must have a format the files connector reads. A file is written
under a temporary hidden name in its folder and renamed over any file of the same name,
so a sync never reads half a file and a changed export simply replaces the old one.
Folders are 0700 and files 0600: the area belongs to the platform's process alone.

A files connection whose ``path`` is the folder's name (relative paths are folders of
the tenant's upload area) reads that folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from autonomos.config import Settings
from autonomos.connectors._files_formats import COMPRESSIONS, FORMATS
from autonomos.store.errors import NotFound, StoreError

# 1-128 letters, digits, '.', '_', '-' or spaces; starts with a letter or digit, does not
# end with '.' or a space (what Windows and shells handle badly). Also the API's pattern.
NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,126}[A-Za-z0-9_-])?$"
_NAME = re.compile(NAME_PATTERN)
_CHUNK = 1 << 20


class InvalidUpload(StoreError):
    """A folder or file name, or a file type, the upload area does not accept."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    bytes: int


@dataclass(frozen=True)
class Folder:
    name: str
    files: list[StoredFile]

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def check_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise InvalidUpload(
            f"invalid {what} name: use 1-128 letters, digits, '.', '_', '-' or spaces, "
            "starting with a letter or digit"
        )
    return name


def check_file_name(name: str) -> str:
    check_name(name, "file")
    base = name.lower()
    for suffix in COMPRESSIONS:
        base = base.removesuffix(suffix)
    if os.path.splitext(base)[1] not in FORMATS:
        raise InvalidUpload(
            f"{name!r} is not a file the files connector reads; use one of "
            + ", ".join(sorted(FORMATS))
            + " (optionally compressed: "
            + ", ".join(COMPRESSIONS)
            + ")"
        )
    return name


class UploadArea:
    """One tenant's upload area (plain file I/O: call it from a worker thread)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, settings: Settings, tenant_id: uuid.UUID) -> UploadArea:
        return cls(settings.uploads_dir / str(tenant_id))

    def _folder(self, folder: str) -> Path:
        return self.root / check_name(folder, "folder")

    def save(self, folder: str, name: str, source: BinaryIO) -> StoredFile:
        """Store ``source`` as ``folder/name``, atomically replacing a file of that name."""
        target_dir = self._folder(folder)
        check_file_name(name)
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for parent in (target_dir.parent.parent, target_dir.parent, target_dir):
            parent.chmod(0o700)
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".upload-", suffix=".part")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:  # mkstemp: mode 0600 from the start
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target_dir / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(name, size)

    def folders(self) -> list[Folder]:
        if not self.root.is_dir():
            return []
        out = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and _NAME.match(entry.name):
                files = [
                    StoredFile(f.name, f.stat().st_size)
                    for f in sorted(entry.iterdir())
                    if f.is_file() and not f.is_symlink() and not f.name.startswith(".")
                ]
                out.append(Folder(entry.name, files))
        return out

    def delete(self, folder: str) -> None:
        """Remove a folder and its files; renamed away first, so it vanishes at once."""
        path = self._folder(folder)
        if not path.is_dir():
            raise NotFound("upload folder not found")
        trash = self.root / f".deleting-{uuid.uuid4().hex}"
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
