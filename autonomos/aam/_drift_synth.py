"""Synthetic schema drift with known renames, for fitting the rename model.

Real field lists (the matching corpus, the demo sources) are changed the ways APIs change
between versions: names re-spelled (separators, case), wrapped or unwrapped in envelopes,
moved under a parent, a date/at/time word swapped (``created_date`` -> ``created_at``), a
synonym or a tense used (``modified`` -> ``updated``, ``issued`` -> ``issue``), the
object's name added or dropped in front (``balance`` <-> ``account_balance``, ``id`` <->
``list_id``), identifiers respelled (``id`` -> ``gid``), plurals, fixed typos, words
reordered or replaced, types widened (``integer`` ids -> ``string``, ``date`` ->
``timestamp``). Traps are mixed in as non-renames: a qualified sibling (``email`` ->
``primary_email``), an opposite (``opened_at`` -> ``closed_at``), a numbered sibling, a
different fact with the same last word, unrelated fields. Everything derives from general
language; no evaluation data is read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from autonomos.common.text import name_tokens, singular

__all__ = ["DriftCase", "generate"]

WRAPPERS = ("data", "attributes", "properties", "fields", "record", "node")
TEMPORAL = ("at", "date", "time", "on", "timestamp")
SYNONYMS = (
    ("modified", "updated"),
    ("changed", "updated"),
    ("created", "inserted"),
    ("removed", "deleted"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("desc", "description"),
    ("num", "number"),
    ("org", "organization"),
    ("telephone", "phone"),
    ("cancelled", "canceled"),
)
TENSES = (("issued", "issue"), ("created", "create"), ("closed", "close"), ("paid", "pay"))
QUALIFIERS = ("primary", "secondary", "total", "last", "first", "previous", "default", "billing")
OPPOSITES = (("opened", "closed"), ("start", "end"), ("min", "max"), ("enabled", "disabled"))
ID_FORMS = ("gid", "uid", "uuid", "key", "vid", "pid")
OPAQUE = ("member", "membership", "seat", "audience", "segment", "ledger", "wallet", "vault")


@dataclass(frozen=True)
class DriftCase:
    system: str
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    renamed: dict[str, str]


def _style(words: list[str], style: str) -> str:
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    return "_".join(words)


def _leaf_words(name: str) -> list[str]:
    return list(name_tokens(name.split(".")[-1])) or [name.lower()]


def _replace_leaf(name: str, words: list[str], style: str = "snake") -> str:
    head, _, _ = name.rpartition(".")
    leaf = _style(words, style)
    return f"{head}.{leaf}" if head else leaf


def _rename(rng: random.Random, f: dict[str, Any], obj: str) -> tuple[str, str | None] | None:
    """A renamed spelling of field ``f`` and maybe its new type; None when no operator
    applies."""
    name, words = f["name"], _leaf_words(f["name"])
    ops = []
    if len(words) >= 2:
        ops += ["style", "reorder", "join"]
    ops += ["envelope", "move"]
    if words[-1] in TEMPORAL and len(words) >= 2:
        ops += ["temporal"] * 3
    if any(w in dict(SYNONYMS) or w in dict((b, a) for a, b in SYNONYMS) for w in words):
        ops += ["synonym"] * 2
    if any(w in dict(TENSES) for w in words):
        ops += ["tense"]
    if words == ["id"]:
        ops += ["id_prefix", "id_form", "id_form"]
    elif len(words) == 1 and words[0] in ID_FORMS:
        ops += ["id_plain"]
    elif len(words) >= 2 and (words[0] == obj or words[0] not in QUALIFIERS):
        ops += ["drop_prefix"]
    elif len(words) == 1 and not words[0].isdigit():
        ops += ["add_prefix"]
    if len(words[-1]) >= 5:
        ops += ["plural", "typo"]
    if len(words) >= 2:
        ops += ["substitute"]
    op = rng.choice(ops)
    new_type = None
    if op == "style":
        new = _replace_leaf(name, words, rng.choice(["camel", "pascal"]))
        if "." in name and rng.random() < 0.5:
            new = name.replace(".", "_")
    elif op == "reorder":
        new = _replace_leaf(name, words[1:] + words[:1])
    elif op == "join":
        new = _replace_leaf(name, ["".join(words)])
    elif op == "envelope":
        top = name.split(".")[0]
        if top in WRAPPERS and "." in name:
            new = name.split(".", 1)[1]
        else:
            new = f"{rng.choice(WRAPPERS)}.{name}"
    elif op == "move":
        new = f"{rng.choice([obj, words[0], 'details', 'info'])}.{name.split('.')[-1]}"
    elif op == "temporal":
        swap = rng.choice([t for t in TEMPORAL if t != words[-1]])
        stem_words = words[:-1]
        if stem_words[-1] in dict(TENSES) and rng.random() < 0.5:
            stem_words = [*stem_words[:-1], dict(TENSES)[stem_words[-1]]]
        new = _replace_leaf(name, [*stem_words, swap])
        if rng.random() < 0.3:
            new_type = "datetime" if f["type"] == "date" else "string"
    elif op == "synonym":
        table = dict(SYNONYMS) | {b: a for a, b in SYNONYMS}
        new = _replace_leaf(name, [table.get(w, w) for w in words])
    elif op == "tense":
        new = _replace_leaf(name, [dict(TENSES).get(w, w) for w in words])
    elif op == "id_prefix":
        new = _replace_leaf(name, [obj, "id"])
    elif op == "id_form":
        form = rng.choice(ID_FORMS)
        if rng.random() < 0.5:  # the old version used the odd spelling (vid -> id)
            return _replace_leaf(name, [form]), "typo"
        new = _replace_leaf(name, [form])
        new_type = "string" if rng.random() < 0.5 else None
    elif op == "id_plain":
        new = _replace_leaf(name, ["id"])
    elif op == "drop_prefix":
        new = _replace_leaf(name, words[1:])
    elif op == "add_prefix":
        new = _replace_leaf(name, [obj, *words])
    elif op == "plural":
        w = words[-1]
        new = _replace_leaf(name, [*words[:-1], singular(w) if singular(w) != w else w + "s"])
    elif op == "typo":
        w = words[-1]
        k = rng.randrange(1, len(w) - 2)
        # the old name had the slip (a letter dropped or two swapped); the new one is right
        swapped = len(w) >= 8 and rng.random() < 0.5  # long words: two letters swapped
        slip = w[:k] + w[k + 1] + w[k] + w[k + 2 :] if swapped else w[:k] + w[k + 1 :]
        if slip == w:
            return None
        return _replace_leaf(name, [*words[:-1], slip]), "typo"
    else:  # substitute a non-final word by an unrelated one (a rename a name cannot show)
        k = rng.randrange(0, len(words) - 1)
        new = _replace_leaf(name, [*words[:k], rng.choice(OPAQUE), *words[k + 1 :]])
    if new == name:
        return None
    if new_type is None and words[-1] == "id" and f["type"] == "integer" and rng.random() < 0.3:
        new_type = "string"  # integer ids become strings
    return new, new_type


def _trap(rng: random.Random, f: dict[str, Any], obj: str) -> str | None:
    """A different field that looks like ``f`` renamed (a replacement, not a rename)."""
    words = _leaf_words(f["name"])
    r = rng.random()
    if r < 0.35:
        return _replace_leaf(f["name"], [rng.choice(QUALIFIERS), *words])
    if r < 0.55:
        for a, b in OPPOSITES:
            if a in words:
                return _replace_leaf(f["name"], [b if w == a else w for w in words])
        return _replace_leaf(f["name"], [*words, "2"])
    if r < 0.8 and len(words) >= 1:
        return _replace_leaf(f["name"], [rng.choice(OPAQUE), words[-1]])
    return _replace_leaf(f["name"], [*words, rng.choice(["suffix", "count", "url", "list"])])


def _one(
    rng: random.Random,
    system: str,
    obj: str,
    fields: Sequence[dict[str, Any]],
    elsewhere: Sequence[dict[str, Any]],
) -> DriftCase:
    pool = list(fields)
    if len(pool) > 40:
        start = rng.randrange(0, len(pool) - 40)
        pool = pool[start : start + 40]
    before = [dict(f) for f in pool]
    if rng.random() < 0.35:  # landed data gives a few values per field
        for f in before:
            f["samples"] = [f"v{rng.randrange(10**6)}" for _ in range(5)]
    names = {f["name"] for f in before}
    after: list[dict[str, Any]] = []
    renamed: dict[str, str] = {}
    n_ren = rng.randint(1, max(1, min(6, len(before) // 4)))
    chosen = set(rng.sample(range(len(before)), min(len(before), n_ren + 3)))
    ren_idx = set(list(chosen)[:n_ren])
    trap_idx = chosen - ren_idx
    for i, f in enumerate(before):
        if i in ren_idx:
            got = _rename(rng, f, obj)
            if got is not None and got[0] not in names:
                new, kind = got
                if kind == "typo":  # the slip was in the old schema
                    before[i] = {**f, "name": new}
                    renamed[new] = f["name"]
                    after.append(dict(f))
                    continue
                renamed[f["name"]] = new
                moved = {**f, "name": new, "type": kind or f["type"]}
                if rng.random() < 0.25:  # new versions often put it elsewhere
                    after.insert(rng.randrange(0, len(after) + 1), moved)
                else:
                    after.append(moved)
                continue
        if i in trap_idx and rng.random() < 0.7:
            other = _trap(rng, f, obj)
            if other and other not in names:  # the old field is gone, a new one came
                fresh = {"name": other, "type": f["type"]}
                if "samples" in f:
                    fresh["samples"] = [f"w{rng.randrange(10**6)}" for _ in range(5)]
                after.append(fresh)
                continue
        if rng.random() < 0.06:
            continue  # removed
        after.append(dict(f))
    for _ in range(rng.randint(0, 4)):  # new fields of the kind other objects have
        g = rng.choice(elsewhere)
        after.insert(rng.randrange(0, len(after) + 1), {"name": g["name"], "type": g["type"]})
    seen: set[str] = set()
    after = [f for f in after if not (f["name"] in seen or seen.add(f["name"]))]  # type: ignore[func-returns-value]
    kept_new = {f["name"] for f in after}
    renamed = {o: n for o, n in renamed.items() if n in kept_new}
    return DriftCase(system, before, after, renamed)


def generate(
    schemas: Sequence[tuple[str, str, Sequence[dict[str, Any]]]], per_schema: int, seed: int = 0
) -> Iterator[DriftCase]:
    """``per_schema`` drift cases for each (system, object, fields)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    everything = [f for _, _, fields in schemas for f in fields]
    for system, obj, fields in schemas:
        word = singular(name_tokens(obj)[-1]) if name_tokens(obj) else "record"
        for _ in range(per_schema):
            yield _one(rng, system, word, fields, everything)
