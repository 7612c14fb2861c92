"""``autonomos map``: suggest a mapping of a source schema onto the ontology; compare two
versions of a schema. Nothing heavy is imported until a command runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from autonomos.cli._common import err, fail, out

map_app = typer.Typer(
    help="Map source schemas onto the ontology; compare schema versions.", no_args_is_help=True
)


@map_app.command("suggest")
def map_suggest(
    schema: Annotated[str, typer.Argument(help='Schema JSON: {"system", "object", "fields"}.')],
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
    lexical: Annotated[
        bool, typer.Option("--lexical", help="Lexical signals only (the default).")
    ] = False,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings",
            help="Add the embedding signal (loads the model: ~6 s cold; on held-out systems "
            "it currently scores below the lexical default).",
        ),
    ] = False,
    evidence: Annotated[
        bool, typer.Option("--evidence", help="JSON: every field with signals, alternatives.")
    ] = False,
) -> None:
    """Suggest the ontology entity of a source object and a mapping of its fields, each
    with a calibrated confidence (fields that map to nothing are left out)."""
    from autonomos.matching.schema import SchemaInputError

    if fmt not in ("json", "table"):
        fail(f"--format must be json or table, got {fmt!r}", 2)
    try:
        source = load_schema_file(schema)
    except SchemaInputError as e:
        fail(str(e), 2)
    matcher = build_matcher(
        lexical or not embeddings, lambda msg: err.print(f"[yellow]warning:[/] {msg}")
    )
    result = matcher.suggest(source)
    if fmt == "json":
        typer.echo(suggestion_json(result, evidence=evidence))
    else:
        render_table(result, out, show_unmapped=evidence)


@map_app.command("diff")
def map_diff(
    before: Annotated[Path, typer.Argument(help="Schema JSON of the old version.")],
    after: Annotated[Path, typer.Argument(help="Schema JSON of the new version.")],
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
) -> None:
    """Drift between two versions of one object's schema: added, removed, renamed (with
    confidence) and type-changed fields. A schema is {"fields": [{"name", "type", ...}]}
    (a drift case's "before"/"after", or a JSON Schema with "properties")."""
    from autonomos.aam.repair.diff import SchemaInputError, diff_schemas, read_schema_file

    if fmt not in ("json", "table"):
        fail(f"--format must be json or table, got {fmt!r}", 2)
    try:
        result = diff_schemas(read_schema_file(before, "before"), read_schema_file(after, "after"))
    except SchemaInputError as e:
        fail(str(e), 2)
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table("change", "field", "detail")
    for name in result["added"]:
        table.add_row("added", name, "")
    for name in result["removed"]:
        table.add_row("removed", name, "")
    for old, new in result["renamed"].items():
        table.add_row("renamed", old, f"-> {new} ({result['rename_confidence'][old]:.2f})")
    for name, (old_t, new_t) in result["type_changed"].items():
        table.add_row("type changed", name, f"{old_t} -> {new_t}")
    out.print(table)


def load_schema_file(path: str | Path) -> Any:
    """Read a ``{"system", "object", "fields": [...]}`` file; SchemaInputError says what
    is wrong."""
    from autonomos.matching.schema import SchemaInputError, SourceSchema

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
        from autonomos.serve_apps.embedder.client import get_embedder

        embedder = get_embedder()
    except Exception as e:  # a broken model setup must not stop a suggestion
        warn(f"embedding model unavailable ({e}); using lexical signals only")
        return Matcher()
    return Matcher(embedder=embedder, on_embedder_error=warn)


def suggestion_json(s: Any, *, evidence: bool = False) -> str:
    return json.dumps(
        s.to_dict(with_evidence=evidence)
        if evidence
        else {"entity": s.entity, "mappings": s.to_dict()["mappings"]},
        indent=2,
    )


def render_table(s: Any, console: Any, *, show_unmapped: bool = False) -> None:
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
