"""What an actor process reports about itself: its pid and which heavy libraries it has
loaded. Tenant actors must stay lean (an idle-then-active tenant costs its processes'
memory), so heavy libraries load only in the kinds that need them: DuckDB in the DCL
actor, pyarrow in connector/DCL/repair actors, torch only where an embedder runs.
``benchmarks/tenants.py`` reads this from every actor kind with its memory.
"""

from __future__ import annotations

import os
import sys
from typing import Any

HEAVY = ("torch", "duckdb", "pyarrow", "sentence_transformers", "pandas", "sklearn", "scipy")


def process_info() -> dict[str, Any]:
    return {"pid": os.getpid(), "heavy_modules": [m for m in HEAVY if m in sys.modules]}
