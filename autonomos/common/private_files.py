"""What the platform keeps on disk is its own: directories 0700, files 0600, from creation.

The data dir holds the SQLite database, generated keys, landed Parquet, each tenant's
DuckDB file and the embeddings cache, all readable by anyone on the host at the usual
umask (0644 files in 0755 folders). So:

- every process that writes there (the API, the CLI, Ray actors, Serve replicas, jobs)
  calls :func:`restrict_umask` before its first write, and the files that libraries create
  (SQLite and its -wal/-shm, DuckDB, pyarrow's Parquet, folders) are private when born;
- :func:`secure_data_dir` creates the data dir 0700, or tightens an older, looser one and
  everything in it;
- secrets are written by :func:`write_private`, which opens them 0600 (there is never a
  moment where the file exists with the umask's mode).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    """Make this process create files 0600 and folders 0700 (keeps any stricter bits)."""
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


def secure_data_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700; an existing one open to others is tightened, with
    what it holds (a data dir made by an older version)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & PRIVATE_UMASK:
        tighten(path)
    return path


def tighten(root: Path) -> None:
    """Remove group and other permissions from ``root`` and everything under it (links
    are left alone: their targets are not ours to change)."""
    for entry in [root, *root.rglob("*")]:
        if entry.is_symlink():
            continue
        mode = stat.S_IMODE(entry.lstat().st_mode)
        if mode & PRIVATE_UMASK:
            entry.chmod(mode & ~PRIVATE_UMASK)


def write_private(path: Path, text: str, *, replace: bool = False) -> None:
    """Write ``text`` to a file created with mode 0600.

    Without ``replace`` the file must not exist (``FileExistsError``): two processes
    racing to create a secret agree on whichever landed first.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    with os.fdopen(os.open(path, flags, 0o600), "w") as f:
        os.fchmod(f.fileno(), 0o600)  # a replaced file would keep its old mode otherwise
        f.write(text)
