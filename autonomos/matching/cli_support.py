"""What ``autonomos map suggest`` does, kept out of ``cli.py`` so the CLI stays thin and
starts fast (nothing heavy is imported until the command runs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autonomos.matching.schema import SchemaInputError, SourceSchema, Suggestion


def load_schema_file(path: str | Path) -> SourceSchema:
    """Read a ``{"system", "object", "fields": [...]}`` file; SchemaInputError says what
    is wrong."""
    p = Path(path)
    if not p.exists():
        raise SchemaInputError(f"{p}: no such file")
    if p.is_dir():
        raise SchemaInputError(f"{p}: is a directory, expected a JSON file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise SchemaInputError(f"{p}: not UTF-8 text ({e.reason})") from e
    except json.JSONDecodeError as e:
        raise SchemaInputError(
            f"{p}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from e
    except OSError as e:
        raise SchemaInputError(f"{p}: cannot read ({e.strerror})") from e
    try:
        schema = SourceSchema.from_dict(doc)
    except SchemaInputError as e:
        raise SchemaInputError(f"{p}: {e}") from e
    if not schema.fields:
        raise SchemaInputError(f"{p}: 'fields' is empty")
    return schema


def build_matcher(lexical_only: bool, warn: Callable[[str], None]) -> Any:
    """The matcher with the platform's embedder, or lexical-only (with a warning) when the
    embedder cannot be set up."""
    from autonomos.matching.matcher import Matcher

    if lexical_only:
        return Matcher()
    try:
        from autonomos.models.embedder import get_embedder

        embedder = get_embedder()
    except Exception as e:  # a broken model setup must not stop a suggestion
        warn(f"embedding model unavailable ({e}); using lexical signals only")
        return Matcher()
    return Matcher(embedder=embedder, on_embedder_error=warn)


def suggestion_json(s: Suggestion, *, evidence: bool = False) -> str:
    return json.dumps(
        s.to_dict(with_evidence=evidence)
        if evidence
        else {"entity": s.entity, "mappings": s.to_dict()["mappings"]},
        indent=2,
    )


def render_table(s: Suggestion, console: Any, *, show_unmapped: bool = False) -> None:
    from rich.table import Table

    title = (
        f"{s.entity}  (entity confidence {s.entity_confidence:.2f})"
        if s.entity
        else f"no ontology entity fits this object (confidence {s.entity_confidence:.2f})"
    )
    table = Table(title=title)
    table.add_column("source field")
    table.add_column("target")
    table.add_column("confidence", justify="right")
    table.add_column("evidence")
    table.add_column("alternatives")
    rows = s.mappings if show_unmapped else s.mapped
    for m in sorted(rows, key=lambda m: (m.target is None, -m.confidence)):
        conf = f"{m.confidence:.2f}" if m.target else ""
        style = "green" if m.confidence >= 0.9 else "yellow" if m.confidence >= 0.6 else "red"
        ev = ", ".join(
            f"{k}={v:.2f}"
            for k, v in m.signals.items()
            if k in ("name", "bm25_rel", "dense", "type") and v
        )
        alts = ", ".join(
            f"{t.split('.', 1)[1]} {p:.2f}" for t, p in m.alternatives if t != m.target
        )
        table.add_row(m.source_field, m.target or "-", f"[{style}]{conf}[/]", ev, alts)
    console.print(table)
    n = len(s.mapped)
    console.print(
        f"{n} of {len(s.mappings)} fields mapped; "
        f"{sum(m.confidence >= 0.9 for m in s.mapped)} at confidence >= 0.9"
    )
