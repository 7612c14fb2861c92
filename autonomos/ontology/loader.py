"""Load and validate the ontology YAML into typed, immutable objects.

The shipped file is loaded once per process (``load_ontology()`` is cached); a path can
be given to load another one (a tenant's extension, a test's), validated the same way.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

FieldTypeName = Literal["string", "integer", "decimal", "boolean", "date", "timestamp", "json"]
FIELD_TYPES: tuple[str, ...] = FieldTypeName.__args__  # type: ignore[attr-defined]
SHIPPED = Path(__file__).with_name("ontology.yaml")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class OntologyError(ValueError):
    """The ontology file is missing, unreadable or breaks a rule."""


class Field(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: FieldTypeName
    description: str = ""
    pk: bool = False


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    fields: tuple[Field, ...]

    @field_validator("fields")
    @classmethod
    def _fields_ok(cls, fields: tuple[Field, ...]) -> tuple[Field, ...]:
        names = [f.name for f in fields]
        bad = [n for n in names if not _NAME.match(n)]
        if bad:
            raise ValueError(f"field names must be snake_case identifiers: {bad}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate fields: {dupes}")
        if sum(f.pk for f in fields) != 1:
            raise ValueError("an entity needs exactly one primary-key field (pk: true)")
        return fields

    @property
    def pk(self) -> Field:
        return next(f for f in self.fields if f.pk)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}.{name}")

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)


class Ontology(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    entities: tuple[Entity, ...]

    @model_validator(mode="after")
    def _entities_ok(self) -> Ontology:
        names = [e.name for e in self.entities]
        bad = [n for n in names if not _NAME.match(n)]
        if bad:
            raise ValueError(f"entity names must be snake_case identifiers: {bad}")
        if len(set(names)) != len(names):
            raise ValueError("duplicate entity names")
        return self

    @property
    def entity_names(self) -> list[str]:
        return [e.name for e in self.entities]

    def entity(self, name: str) -> Entity:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(name)

    def has_entity(self, name: str) -> bool:
        return any(e.name == name for e in self.entities)

    def resolve(self, target: str) -> tuple[Entity, Field]:
        """``"entity.field"`` -> its entity and field; KeyError when either is unknown."""
        entity, _, field = target.partition(".")
        ent = self.entity(entity)
        return ent, ent.field(field)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "entities": [
                {
                    "name": e.name,
                    "description": e.description,
                    "primary_key": e.pk.name,
                    "fields": [f.model_dump() for f in e.fields],
                }
                for e in self.entities
            ],
        }


def parse_ontology(doc: object) -> Ontology:
    """Build an ``Ontology`` from the YAML document's structure (a mapping)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("entities"), dict):
        raise OntologyError("the ontology must be a mapping with an 'entities' mapping")
    try:
        entities = []
        for name, body in doc["entities"].items():
            if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
                raise OntologyError(f"entity {name!r} needs a 'fields' mapping")
            fields = tuple(
                Field(name=fname, **(spec or {})) for fname, spec in body["fields"].items()
            )
            entities.append(
                Entity(name=name, description=body.get("description") or "", fields=fields)
            )
        return Ontology(version=doc.get("version", 1), entities=tuple(entities))
    except (ValidationError, TypeError) as exc:
        raise OntologyError(f"invalid ontology: {exc}") from exc


@functools.lru_cache(maxsize=8)
def load_ontology(path: str | Path | None = None) -> Ontology:
    """The shipped ontology, or the one at ``path``; validated, cached per path."""
    source = Path(path) if path is not None else SHIPPED
    try:
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OntologyError(f"cannot read ontology {source}: {exc}") from exc
    return parse_ontology(doc)
