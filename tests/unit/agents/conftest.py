"""Fixtures of the agent tests: real unified views, built through the DCL's own code.

Each test writes the rows it needs as landed Parquet (columns named after the ontology's
fields) and materialises them with identity mappings into a DuckDB file through
:class:`~autonomos.dcl.views.ViewStore`, so the agents read views named, typed and
shaped exactly as on a deployment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autonomos.dcl.slices import FieldMapping, LandedFile, SliceSpec
from autonomos.dcl.views import ViewStore


class Views:
    """A tenant's view store in a temp dir; ``load`` lands rows and materialises them."""

    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.landing.mkdir(parents=True)
        self.store = ViewStore(root / "views.duckdb", landing_dirs=(self.landing,))
        self.connection = str(uuid.uuid4())

    def load(self, entity: str, rows: list[dict[str, Any]] | pa.Table, stream: str = "") -> None:
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows)
        path = self.landing / f"{uuid.uuid4().hex}.parquet"
        pq.write_table(table, path)
        fields = {f.name for f in self.store.ontology.entity(entity).fields}
        mappings = tuple(FieldMapping(c, c) for c in table.column_names if c in fields)
        spec = SliceSpec(self.connection, stream or entity, entity, mappings)
        files = [LandedFile(uuid.uuid4().hex, str(path), datetime.now(UTC))]
        result = self.store.materialize(spec, files, full=True)
        assert result.mode != "failed", result.error

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.store.cursor()


@pytest.fixture
def views(tmp_path: Path) -> Iterator[Views]:
    v = Views(tmp_path)
    yield v
    v.store.close()
