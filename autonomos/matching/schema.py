"""The matcher's input and output: a source object's schema and the suggested mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class SchemaInputError(ValueError):
    """A source schema document has the wrong shape."""


@dataclass(frozen=True)
class SourceField:
    name: str
    type: str = "string"
    description: str = ""
    samples: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SourceSchema:
    fields: tuple[SourceField, ...]
    system: str = ""
    object: str = ""

    @classmethod
    def from_dict(cls, doc: Any) -> SourceSchema:
        """``{"system", "object", "fields": [{"name", "type", "description", "samples"?}]}``.

        Any ``entity`` key is ignored: deciding the entity is the matcher's job.
        """
        if not isinstance(doc, Mapping):
            raise SchemaInputError("the schema must be a JSON object with a 'fields' list")
        raw_fields = doc.get("fields")
        if not isinstance(raw_fields, Sequence) or isinstance(raw_fields, str | bytes):
            raise SchemaInputError("'fields' must be a list of {name, type, description}")
        fields: list[SourceField] = []
        seen: set[str] = set()
        for i, f in enumerate(raw_fields):
            if not isinstance(f, Mapping):
                raise SchemaInputError(f"fields[{i}] must be an object")
            name = f.get("name")
            if not isinstance(name, str) or not name.strip():
                raise SchemaInputError(f"fields[{i}].name must be a non-empty string")
            if name in seen:
                raise SchemaInputError(f"duplicate field name {name!r}")
            seen.add(name)
            samples = f.get("samples") or f.get("sample_values") or ()
            if not isinstance(samples, Sequence) or isinstance(samples, str | bytes):
                samples = (samples,)
            ftype = f.get("type") or "string"
            if isinstance(ftype, list | tuple):  # JSON Schema style ["string", "null"]
                ftype = "|".join(str(t) for t in ftype)
            fields.append(
                SourceField(
                    name=name,
                    type=str(ftype),
                    description=str(f.get("description") or ""),
                    samples=tuple(samples),
                )
            )
        for key in ("system", "object"):
            if doc.get(key) is not None and not isinstance(doc.get(key), str):
                raise SchemaInputError(f"'{key}' must be a string")
        return cls(
            fields=tuple(fields),
            system=str(doc.get("system") or ""),
            object=str(doc.get("object") or ""),
        )


@dataclass(frozen=True)
class FieldSuggestion:
    source_field: str
    target: str | None  # "entity.field", or None when the field maps to nothing
    confidence: float  # calibrated probability that ``target`` is right (or, if None, of the best)
    signals: dict[str, float] = field(default_factory=dict)
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # top-3 (target, prob)
    transform: str | None = None  # a DCL transform the mapping needs (published crosswalks)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source_field": self.source_field,
            "target": self.target,
            "confidence": round(self.confidence, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "alternatives": [[t, round(p, 4)] for t, p in self.alternatives],
        }
        if self.transform:
            out["transform"] = self.transform
        return out


@dataclass(frozen=True)
class Suggestion:
    entity: str | None  # None: no ontology entity describes the object
    entity_confidence: float  # probability of ``entity`` (of "none fits" when None)
    mappings: list[FieldSuggestion]
    entity_scores: dict[str, float] = field(default_factory=dict)

    @property
    def mapped(self) -> list[FieldSuggestion]:
        return [m for m in self.mappings if m.target]

    def to_dict(self, *, with_evidence: bool = False) -> dict[str, Any]:
        if with_evidence:
            maps = [m.to_dict() for m in self.mappings]
        else:
            maps = [
                {
                    "source_field": m.source_field,
                    "target": m.target,
                    "confidence": round(m.confidence, 4),
                }
                for m in self.mappings
                if m.target
            ]
        return {
            "entity": self.entity,
            "entity_confidence": round(self.entity_confidence, 4),
            "mappings": maps,
        }
