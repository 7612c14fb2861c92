"""Synthetic source schemas with known answers, for fitting and calibrating the matcher.

Each schema imitates how a real system would expose one ontology entity: the entity's fields
under other names (casing styles, abbreviations, synonyms, reference and temporal spellings,
entity prefixes, wrappers, and some renames no vocabulary can know), mixed with many fields
that map to nothing (other concepts, near misses such as ``shipping_city`` next to the city,
the same leaf in a sub-object, ETL bookkeeping columns), with or without descriptions, typed
strictly or all as strings, sometimes with sample values. Everything derives from the ontology
and the general vocabulary in :mod:`~autonomos.matching.lexicon`; nothing from evaluation data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from autonomos.matching.lexicon import (
    ABBREVIATIONS,
    ENTITY_WORDS,
    QUALIFIERS,
    RELATED,
    SYNONYMS,
)
from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.synth_values import kind_of, sample_values
from autonomos.matching.synth_vocab import (
    GENERIC,
    GROUP_PARENTS,
    GROUPS,
    META,
    NON_BUSINESS,
    OPAQUE,
    SOURCE_TYPES,
    SUBOBJECTS,
    WRAPPERS,
)
from autonomos.matching.text import canon_words, parse_name, split_words
from autonomos.ontology.loader import Entity, Ontology


@dataclass(frozen=True)
class LabelledSchema:
    schema: SourceSchema
    entity: str | None  # None: a non-business object no ontology entity describes
    truth: dict[str, str]  # source field -> "entity.field" (or IGNORE: left out)
    also: dict[str, str] = field(default_factory=dict)  # IGNOREd field -> its defensible target

    @property
    def system(self) -> str:
        return self.schema.system


# word -> spellings a source might use instead (strong synonyms and abbreviations)
def _reverse() -> dict[str, list[str]]:
    rev: dict[str, list[str]] = {}
    for k, v in SYNONYMS.items():
        rev.setdefault(v, []).append(k)
    for k, exp in ABBREVIATIONS.items():
        if len(exp) == 1 and exp[0] != k:
            rev.setdefault(exp[0], []).append(k)
    return rev


REVERSE = _reverse()
WEAK = {w: [x for x in g if x != w] for g in RELATED for w in g}


def _style(rng: random.Random) -> tuple[str, str]:
    case = rng.choices(
        ["snake", "camel", "pascal", "kebab", "upper", "flat"], [48, 24, 14, 3, 6, 5]
    )[0]
    sep = rng.choices([".", "/", "__"], [70, 20, 10])[0]
    return case, sep


def _render(words: list[str], case: str) -> str:
    words = [w for w in words if w]
    if not words:
        return "x"
    if case == "snake":
        return "_".join(words)
    if case == "kebab":
        return "-".join(words)
    if case == "upper":
        return "_".join(words).upper()
    if case == "flat":  # run together: closedate, dealname
        return "".join(words).lower()
    if case == "camel":
        return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return "".join(w[:1].upper() + w[1:] for w in words)


def _path(segments: list[list[str]], case: str, sep: str) -> str:
    return sep.join(_render(s, case) for s in segments)


class Generator:
    def __init__(self, ontology: Ontology, seed: int = 0) -> None:
        self.ontology = ontology
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
        self.all_names = {f.name for e in ontology.entities for f in e.fields}
        self.opaque = False

    # ------------------------------------------------------------------ names

    def _swap(self, w: str, p_strong: float = 0.3, p_weak: float = 0.04) -> str:
        r = self.rng.random()
        if r < p_strong and REVERSE.get(w):
            return self.rng.choice(REVERSE[w])
        if r < p_strong + p_weak and WEAK.get(w):
            return self.rng.choice(WEAK[w])
        return w

    def _entity_word(self, entity: str) -> list[str]:
        ent = self.ontology.entity(entity)
        own = {w for f in ent.fields if not f.pk for w in split_words(f.name)}
        words = [w for w in ENTITY_WORDS.get(entity, ()) if w not in own][:4]
        return [self.rng.choice([entity.split("_")[-1], *words])]

    def true_name(self, entity: Entity, fname: str, ftype: str, pk: bool) -> list[list[str]]:
        """A source-side spelling of one ontology field, as path segments of words."""
        rng = self.rng
        words = list(split_words(fname))
        if pk:
            r = rng.random()
            if r < 0.55:
                words = ["id"]
            elif r < 0.8:
                words = [*self._entity_word(entity.name), "id"]
            elif r < 0.9:
                words = [
                    *self._entity_word(entity.name),
                    rng.choice(["key", "uuid", "number", "no"]),
                ]
            else:
                words = [rng.choice(["uuid", "key", "record_id", "guid"])]
        elif words[-1] == "id" and len(words) > 1:
            r = rng.random()
            core = [self._swap(w, 0.5) for w in words[:-1]]
            if r < 0.1:
                return [core, [rng.choice(["id", "id", "value", "key"])]]  # customer.id
            words = (
                core
                if r < 0.4
                else [*core, rng.choice(["key", "ref"])]
                if r < 0.47
                else [*core, "id"]
            )
        elif ftype in ("timestamp", "date"):
            core = [w for w in words if w not in ("at", "date", "on", "time")] or words
            core = [self._swap(w, 0.45) for w in core]
            r = rng.random()
            if r < 0.25:
                words = [*core, "at"]
            elif r < 0.45:
                words = [*core, "date"]
            elif r < 0.6:
                words = core
            elif r < 0.7:
                words = ["date", *core]
            elif r < 0.8:
                words = [*core, rng.choice(["time", "on", "timestamp", "ts", "datetime"])]
            else:
                words = [*core, "at"] if rng.random() < 0.5 else [*core, "date"]
            if core and core[0] in ("updated", "modified") and rng.random() < 0.3:
                words = ["last", *words]
        elif ftype == "boolean":
            core = [w for w in words if w not in ("is", "has")]
            core = [self._swap(w, 0.35) for w in core]
            r = rng.random()
            words = (
                ["is", *core]
                if r < 0.5
                else core
                if r < 0.8
                else [*core, "flag"]
                if r < 0.9
                else ["has", *core]
            )
        else:
            words = [self._swap(w) for w in words]
            if words == ["employee", "count"] and rng.random() < 0.4:
                words = ["number", "of", "employees"]
            if ftype == "string" and len(words) == 1 and rng.random() < 0.08:
                return [words, [rng.choice(["id", "name", "code"])]]  # plan.id
        content = [i for i, w in enumerate(words) if w not in ("id", "at", "is", "date")]
        if len(content) >= 2 and rng.random() < 0.1:  # a shorter name (billed_cost -> cost)
            del words[rng.choice(content)]
        self.opaque = False
        if rng.random() < 0.1:  # a word no table knows
            content = [i for i, w in enumerate(words) if w not in ("id", "at", "is", "date")]
            if content:
                words[rng.choice(content)] = rng.choice(OPAQUE)
                self.opaque = True
        if rng.random() < 0.03:
            words = [rng.choice(OPAQUE), rng.choice(OPAQUE)]
            self.opaque = True
        if rng.random() < 0.1 and not pk:
            words = [*self._entity_word(entity.name), *words]
        flat_words: list[str] = []
        for w in words:
            flat_words.extend(w.split("_"))
        segments = [flat_words]
        r = rng.random()
        if r < 0.1:
            segments = [[rng.choice(WRAPPERS)], flat_words]
        elif r < 0.14:
            segments = [self._entity_word(entity.name), flat_words]
        elif r < 0.26:  # grouped with related attributes: stats.resolved_at, location.region
            segments = [rng.choice(GROUP_PARENTS).split("_"), flat_words]
        return segments

    # ------------------------------------------------------------------ schemas

    def schema(self, entity: Entity) -> LabelledSchema:
        rng = self.rng
        case, sep = _style(rng)
        layout = rng.choices(["flat", "wrapped", "grouped"], [70, 12, 18])[0]
        vendor = rng.choice(["hs", "sf", "zd", "x", "c", "cb", "qb"]) if rng.random() < 0.15 else ""
        wrapper = rng.choice(WRAPPERS)
        groups = rng.sample(GROUPS, 4)
        all_string = rng.random() < 0.2
        with_desc = rng.random() < 0.45
        with_samples = rng.random() < 0.3
        fields: list[SourceField] = []
        truth: dict[str, str] = {}
        used: set[str] = set()

        own = {canon_words(split_words(f.name)) for f in entity.fields}

        def add(name: str, ftype: str, desc: str, target: str | None, kind: str) -> None:
            parts = parse_name(name)
            if target is None and not parts.depth and parts.leaf in own:
                return  # a "distractor" spelled like one of the entity's fields is no distractor
            if vendor and rng.random() < 0.35 and not name.startswith("_"):
                dunder = name.rfind("__")
                cut = max(name.rfind("."), name.rfind("/"), dunder + 1 if dunder >= 0 else -1)
                leaf = name[cut + 1 :] if cut >= 0 else name
                leaf = _render([vendor, *split_words(leaf)], case)
                name = f"{name[: cut + 1]}{leaf}" if cut >= 0 else leaf
            if layout == "wrapped" and not name.startswith("_"):
                name = f"{_render([wrapper], case)}{sep}{name}"
            elif layout == "grouped" and not name.startswith("_"):
                name = f"{_render([rng.choice(groups)], case)}{sep}{name}"
            if name in used:
                return
            used.add(name)
            stype = (
                "string"
                if all_string and ftype not in ("json",)
                else rng.choice(SOURCE_TYPES.get(ftype, ["string"]))
            )
            samples = tuple(sample_values(rng, kind, 8)) if with_samples else ()
            fields.append(SourceField(name, stype, desc if with_desc else "", samples))
            if target:
                truth[name] = target

        present = []
        for f in entity.fields:
            if rng.random() > (0.92 if f.pk else 0.6):
                continue
            segs = self.true_name(entity, f.name, f.type, f.pk)
            name = _path(segs, case, sep)
            explain = self.opaque and rng.random() < 0.6  # cryptic names get explained
            desc = self.description(entity, segs[-1], f.description, explain)
            add(name, f.type, desc, f"{entity.name}.{f.name}", kind_of(f.name, f.type))
            present.append((f, segs))
        n_true = len(present)
        n_noise = int(n_true * rng.uniform(0.8, 5.0)) + 2
        others = [
            (e, f)
            for e in self.ontology.entities
            if e.name != entity.name
            for f in e.fields
            if not entity.has_field(f.name) and not f.pk
        ]
        for _ in range(n_noise):
            r = rng.random()
            if r < 0.3 and present:  # near miss: a qualified variant of a present field
                f, segs = rng.choice(present)
                q = rng.choice([*sorted(QUALIFIERS), "last", "first", "total", "next", "billing"])
                words = [q, *segs[-1]] if rng.random() < 0.8 else [*segs[-1], q]
                add(
                    _path([*segs[:-1], words], case, sep),
                    f.type,
                    self.description(entity, words, ""),
                    None,
                    kind_of(f.name, f.type),
                )
            elif r < 0.5 and present:  # the same leaf inside a sub-object
                f, segs = rng.choice(present)
                parent = rng.choice(SUBOBJECTS).split("_")
                add(
                    _path([parent, segs[-1]], case, sep),
                    f.type,
                    self.description(entity, [*parent, *segs[-1]], ""),
                    None,
                    kind_of(f.name, f.type),
                )
            elif r < 0.56 and any(f.pk for f, _ in present):  # a child's reference back
                parent = rng.choice(SUBOBJECTS).split("_")
                back = [*self._entity_word(entity.name), "id"]
                add(
                    _path([parent, back], case, sep),
                    "string",
                    self.description(entity, [*parent, *back], ""),
                    None,
                    "id",
                )
            elif r < 0.6:  # a key inside a JSON-holding field (tags, metadata, custom fields)
                holders = [f.name for f in entity.fields if f.type == "json"]
                holder = rng.choice(holders or ["metadata", "custom_fields", "labels"])
                key = rng.choice(
                    [
                        *[f.name for f, _ in present if not f.pk],
                        "env",
                        "team",
                        "owner",
                        "cost_center",
                        "project",
                        "service_type",
                        "created_by",
                        "usage_type",
                        "app",
                    ]
                )
                add(
                    _path([holder.split("_"), key.split("_")], case, sep),
                    "string",
                    "",
                    None,
                    "word",
                )
            elif r < 0.7 and others:
                e2, f2 = rng.choice(others)
                segs = self.true_name(e2, f2.name, f2.type, False)
                add(
                    _path(segs, case, sep),
                    f2.type,
                    self.description(e2, segs[-1], f2.description),
                    None,
                    kind_of(f2.name, f2.type),
                )
            elif r < 0.72:
                name = rng.choice(META)
                add(
                    name,
                    "timestamp" if name.endswith("at") else "string",
                    "ETL bookkeeping column",
                    None,
                    "word",
                )
            else:
                gname, gtype = rng.choice(GENERIC)
                words = [self._swap(w, 0.2, 0.0) for w in gname.split("_")]
                segs = [words] if rng.random() > 0.2 else [rng.choice(SUBOBJECTS).split("_"), words]
                ont_t = {"number": "decimal", "object": "json", "array": "json"}.get(gtype, gtype)
                add(
                    _path(segs, case, sep),
                    ont_t,
                    self.description(entity, words, ""),
                    None,
                    kind_of(gname, ont_t),
                )
        rng.shuffle(fields)
        obj = self.object_name(entity)
        return LabelledSchema(SourceSchema(tuple(fields), "synthetic", obj), entity.name, truth)

    def object_name(self, entity: Entity) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return rng.choice(OPAQUE) + rng.choice(["s", "_list", "", "_export"])
        w = self._entity_word(entity.name)[0]
        w = self._swap(w, 0.3)
        return w + rng.choice(
            ["s", "s", "", "_report", "_export", "es" if w.endswith("s") else "s"]
        )

    def description(
        self, entity: Entity, words: list[str], ontology_desc: str, explain: bool = False
    ) -> str:
        rng = self.rng
        ent = rng.choice(self._entity_word(entity.name))
        phrase = " ".join(w for w in words if w not in ("id", "at"))
        r = 0.0 if explain else rng.random()
        if r < 0.12 and ontology_desc:
            toks = ontology_desc.split()
            keep = [
                self._swap(t.lower().strip(",.()"), 0.3, 0.2) for t in toks if rng.random() > 0.5
            ]
            return " ".join(keep).capitalize() + "."
        if r < 0.55:
            return rng.choice(
                [
                    f"The {ent}'s {phrase}.",
                    f"{phrase.capitalize()} of the {ent}.",
                    f"{phrase.capitalize()} for this record.",
                    f"The {phrase} associated with this {ent}.",
                ]
            )
        if r < 0.75:
            return rng.choice(
                [
                    "Required.",
                    "Read-only field.",
                    "Restricted picklist field.",
                    "Available in API version 30.0 and later.",
                    "",
                ]
            )
        return f"{phrase.capitalize()}."

    def none_schema(self) -> LabelledSchema:
        """An object of a business system that no ontology entity describes: its own
        attributes, the generic ones every object has (id, name, status, timestamps),
        references to business records, SaaS and ETL columns. No true mapping."""
        rng = self.rng
        case, sep = _style(rng)
        obj = rng.choice(sorted(NON_BUSINESS))
        own = NON_BUSINESS[obj].split()
        names = [["id"], ["name" if rng.random() < 0.6 else "title"]]
        names += [w.split("_") for w in rng.sample(own, rng.randint(3, len(own)))]
        for w in ("status", "created_at", "updated_at", "description"):
            if rng.random() < 0.6:
                names.append(w.split("_"))
        for w in ("account_id", "contact_id", "owner_id", "customer_id", "user_id"):
            if rng.random() < 0.25:
                names.append(w.split("_"))
        for gname, _ in rng.sample(GENERIC, rng.randint(2, 10)):
            names.append(gname.split("_"))
        fields: list[SourceField] = []
        seen: set[str] = set()
        for words in names:
            name = _render([self._swap(w, 0.2, 0.0) for w in words], case)
            if name in seen:
                continue
            seen.add(name)
            fields.append(SourceField(name, rng.choice(SOURCE_TYPES[_guess_type(words)]), ""))
        for name in rng.sample(META, rng.randint(0, 2)):
            fields.append(SourceField(name, "timestamp", "ETL bookkeeping column"))
        rng.shuffle(fields)
        del sep
        return LabelledSchema(SourceSchema(tuple(fields), "synthetic", obj), None, {})

    def generate(self, per_entity: int) -> Iterator[LabelledSchema]:
        for _ in range(per_entity):
            for e in self.ontology.entities:
                yield self.schema(e)


_NUMERIC = frozenset(
    "count total rate price amount quantity duration views weight budget salary stars forks "
    "capacity off failures".split()
)
_FLAGS = frozenset("active private published done archived inclusive taxable vip".split())


def _guess_type(words: list[str]) -> str:
    last = words[-1]
    if last in ("at", "date", "time", "from", "until") or last.endswith("_at"):
        return "timestamp"
    if last in _NUMERIC:
        return "decimal"
    if words[0] in ("is", "has") or last in _FLAGS:
        return "boolean"
    return "string"
