"""The agents' registry stays light: a tenant's supervisor imports it (through
``after_materialize``) and must not pay for the analyses' DuckDB, NumPy and SciPy."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("duckdb", "numpy", "scipy", "pyarrow", "pandas")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.split()


def test_registry_and_runner_import_no_analysis() -> None:
    assert loaded_after("import autonomos.agents.runner, autonomos.agents.registry") == []


def test_an_analysis_is_imported_on_first_use() -> None:
    code = (
        "from autonomos.agents.builtin import BUILTIN\n"
        "from autonomos.agents.finops import analyze, FinOpsParams\n"
        "assert callable(analyze) and BUILTIN['finops'].params is FinOpsParams"
    )
    assert {"duckdb", "scipy"} <= set(loaded_after(code))
