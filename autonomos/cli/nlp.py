"""``autonomos pii`` and ``autonomos kb``: redaction and retrieval from the command line,
through the same code as the API (the Redactor, the KnowledgeBase service).

    autonomos pii redact IN.jsonl --out OUT.jsonl
    autonomos kb run --corpus corpus.jsonl --queries queries.jsonl --mode hybrid --out RUN.trec

Bad input (a missing file, a line that is not a JSON object with the needed string
fields) exits 2 with the file and line.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from autonomos.cli._common import do_migrate, fail, load_settings, run_async

pii_app = typer.Typer(help="Find and redact personal data.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: index and search documents.", no_args_is_help=True)


def _usage(message: str) -> typer.Exit:
    fail(message, 2)
    raise AssertionError  # fail() never returns


def read_jsonl(path: Path, fields: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Objects of a JSON-lines file, each with ``fields`` (name -> what it is) as
    non-empty strings (ids may be numbers); any other shape is a usage error."""
    if not path.is_file():
        raise _usage(f"{path}: no such file")
    try:
        handle = path.open(encoding="utf-8")
    except OSError as e:
        raise _usage(f"{path}: cannot read: {e.strerror}") from None
    with handle:
        try:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise _usage(f"{path}:{n}: not JSON ({e.msg})") from None
                if not isinstance(obj, dict):
                    raise _usage(f"{path}:{n}: expected a JSON object")
                for name, what in fields.items():
                    value = obj.get(name)
                    if name.endswith("id") and isinstance(value, int | float):
                        obj[name] = value = str(value)
                    if not isinstance(value, str) or (name != "text" and not value.strip()):
                        raise _usage(f"{path}:{n}: {name!r} must be a string ({what})")
                yield obj
        except UnicodeDecodeError:
            raise _usage(f"{path}: not UTF-8 text") from None


def _writable(path: Path) -> Path:
    if path.exists() and path.is_dir():
        raise _usage(f"{path}: is a directory")
    if not path.parent.exists():
        raise _usage(f"{path.parent}: no such directory")
    return path


@pii_app.command("redact")
def pii_redact(
    source: Annotated[Path, typer.Argument(metavar="IN.jsonl", help='Lines of {"id", "text"}.')],
    out: Annotated[Path, typer.Option("--out", help="Where to write the redacted lines.")],
) -> None:
    """Redact each text: writes {"id", "redacted", "spans": [{"start", "end", "label"}]}."""
    from autonomos.nlp.pii import Redactor

    _writable(out)
    rows = list(read_jsonl(source, {"id": "the text's id", "text": "the text to redact"}))
    redactor = Redactor()
    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            r = redactor.redact(row["text"])
            f.write(
                json.dumps(
                    {
                        "id": row["id"],
                        "redacted": r.redacted,
                        "spans": [s.as_dict() for s in r.spans],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    took = time.perf_counter() - started
    typer.echo(f"redacted {len(rows)} texts in {took:.2f} s -> {out}", err=True)


@kb_app.command("run")
def kb_run(
    corpus: Annotated[Path, typer.Option(help='Documents: lines of {"_id", "title", "text"}.')],
    queries: Annotated[Path, typer.Option(help='Queries: lines of {"_id", "text"}.')],
    out: Annotated[Path, typer.Option(help="TREC run to write (qid Q0 docid rank score tag).")],
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    k: Annotated[int, typer.Option(min=1, max=100, help="Results per query.")] = 100,
    redact: Annotated[
        bool | None,
        typer.Option(
            "--redact/--no-redact",
            help="Redact PII before indexing (default: the AUTONOMOS_KB_PII_REDACTION setting).",
        ),
    ] = None,
) -> None:
    """Index the corpus into a fresh embedded knowledge base (SQLite + FAISS in a temporary
    data dir) and write the top k documents per query as a TREC run."""
    from autonomos.nlp.kb import SearchMode

    try:
        search_mode = SearchMode(mode)
    except ValueError:
        raise _usage("--mode must be hybrid, bm25 or dense") from None
    _writable(out)
    docs = list(read_jsonl(corpus, {"_id": "the document id", "text": "the document text"}))
    qs = list(read_jsonl(queries, {"_id": "the query id", "text": "the query"}))
    if not docs or not qs:
        raise _usage("the corpus and the queries must each hold at least one line")
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="autonomos-kb-") as tmp:
        fresh = settings.model_copy(
            update={"data_dir": Path(tmp), "database_url": None, "migration_database_url": None}
        )
        do_migrate(fresh)
        lines = run_async(lambda: _index_and_search(fresh, docs, qs, search_mode, k, redact))
    out.write_text("".join(lines), encoding="utf-8")
    typer.echo(f"wrote {len(lines)} lines for {len(qs)} queries -> {out}", err=True)


async def _index_and_search(
    settings: Any,
    docs: list[dict[str, Any]],
    qs: list[dict[str, Any]],
    mode: Any,
    k: int,
    redact: bool | None,
) -> list[str]:
    from autonomos.models.telemetry import UsageRecorder
    from autonomos.nlp.errors import NLPError
    from autonomos.nlp.kb.build import build_knowledge_base
    from autonomos.nlp.kb.bulk import index_corpus
    from autonomos.serve_apps.embedder.client import build_embedder
    from autonomos.store.session import Database

    db = Database(settings.app_database_url)
    try:
        embedder = build_embedder(settings)
        embedder.recorder = UsageRecorder()  # usage of this throw-away tenant stays here
        kb = await build_knowledge_base(settings, db, embedder)
        tenant_id = uuid.uuid4()
        started = time.perf_counter()
        n = await index_corpus(kb, tenant_id, docs, redact)
        typer.echo(f"indexed {n} documents in {time.perf_counter() - started:.1f} s", err=True)
        results = await kb.search_many(
            tenant_id, [q["text"] for q in qs], k=k, mode=mode, with_text=False
        )
        ids = {}
        async with db.tenant_session(tenant_id) as session:
            from sqlalchemy import select

            from autonomos.store.kb_models import KBDocument

            ids = dict((await session.execute(select(KBDocument.id, KBDocument.external_id))).all())
    except NLPError as e:
        raise _usage(str(e)) from None
    finally:
        await db.dispose()
    tag = f"autonomos-{mode.value}"
    lines = []
    for q, hits in zip(qs, results, strict=True):
        for rank, h in enumerate(hits, 1):
            lines.append(f"{q['_id']} Q0 {ids[h.document_id]} {rank} {h.score:.6f} {tag}\n")
    return lines
