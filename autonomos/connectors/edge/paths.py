"""Which local files a tenant's connection may read.

Local paths are confined to the tenant's roots: its own upload area
(``<data dir>/uploads/<tenant>``), the operator's ``AUTONOMOS_FILES_ROOTS`` and the roots
the operator granted that tenant (``autonomos ingest files``, the demo). The data dir
itself (landing zone, DuckDB files, keys, SQLite, other tenants' uploads) is carved out
of every root. Paths are compared after resolving symlinks and ``..``; every file a
listing or glob finds is checked, and a file is checked again through the descriptor it
was opened with, so a symlink swapped in after the listing is refused too.
"""

from __future__ import annotations

import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from autonomos.connectors.edge.network import EdgeRefused

OUTSIDE = (
    "is outside this tenant's allowed folders (its upload area and the roots the operator "
    "configured)"
)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def real(path: str | Path) -> Path:
    """``path`` made absolute with symlinks and ``..`` resolved (missing tails kept)."""
    return Path(os.path.realpath(os.path.abspath(path)))


@dataclass(frozen=True)
class LocalRoots:
    upload_area: Path  # resolved; inside the data dir, the one part of it a tenant reads
    data_dir: Path  # resolved; never readable otherwise
    roots: tuple[Path, ...] = ()  # resolved operator roots

    def allows(self, resolved: Path) -> bool:
        if _within(resolved, self.upload_area):
            return True
        if _within(resolved, self.data_dir):
            return False
        return any(_within(resolved, r) for r in self.roots)

    def absolute(self, path: str) -> str:
        """A relative path names a folder of the tenant's upload area."""
        return path if os.path.isabs(path) else str(self.upload_area / path)

    def check(self, path: str, what: str = "path") -> Path:
        """The resolved ``path``; refused (without saying where it leads) when outside."""
        resolved = real(self.absolute(path))
        if not self.allows(resolved):
            raise EdgeRefused(f"the {what} {OUTSIDE}")
        return resolved

    def open(self, path: str) -> BinaryIO:
        """Open a regular file for reading, checking the file actually opened.

        ``O_NONBLOCK`` keeps a FIFO from blocking the open; anything but a regular file
        is refused. The descriptor's own path (``/proc/self/fd``) is what is checked, so
        there is no window between the check and the read.
        """
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | os.O_NOCTTY
        fd = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise EdgeRefused("only regular files can be read")
            if not self.allows(_fd_path(fd, path)):
                raise EdgeRefused(f"a file {OUTSIDE}")
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "rb")


def _fd_path(fd: int, path: str) -> Path:
    proc = f"/proc/self/fd/{fd}"
    if os.path.exists(proc):
        return Path(os.readlink(proc))
    # No /proc (macOS): the resolved name must still be the very file that was opened.
    resolved = real(path)
    st, now = os.fstat(fd), os.stat(resolved)
    if (st.st_dev, st.st_ino) != (now.st_dev, now.st_ino):
        raise EdgeRefused("the file changed while it was being opened")
    return resolved
