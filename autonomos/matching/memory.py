"""A tenant's mapping memory: approved (and rejected) decisions, recalled by similarity.

Each approval stores the source field's name, description and (when an embedder is at hand)
its embedding, with the chosen ``entity.field``. When a later schema of the same tenant has
a field that is the same (same normalised name) or very close (embedding / token overlap),
the remembered target gets strong support; a rejection takes support away. One memory
belongs to one tenant: the matcher is built per tenant with that tenant's memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autonomos.matching.schema import SourceField
from autonomos.matching.text import humanise, parse_name, text_tokens

EXACT = 1.0


@dataclass(frozen=True)
class MemoryItem:
    source_field: str
    target: str  # "entity.field"
    approved: bool = True
    description: str = ""
    system: str = ""
    object: str = ""
    vector: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_field": self.source_field,
            "target": self.target,
            "approved": self.approved,
            "description": self.description,
            "system": self.system,
            "object": self.object,
        }


def _key(name: str) -> tuple[str, ...]:
    p = parse_name(name)
    return p.context + p.leaf


def _text(name: str, description: str) -> str:
    text = humanise(name)
    return f"{text}: {description.strip()[:300]}" if description else text


@dataclass
class MappingMemory:
    """Past decisions of one tenant; ``recall`` finds the ones that concern a new field."""

    tenant_id: str | None = None
    items: list[MemoryItem] = field(default_factory=list)
    embedder: Any = None  # optional: anything with .encode(list[str]) -> (n, d) unit vectors

    def approve(
        self, source: SourceField | str, target: str, *, system: str = "", object: str = ""
    ) -> None:
        self._add(source, target, True, system, object)

    def reject(
        self, source: SourceField | str, target: str, *, system: str = "", object: str = ""
    ) -> None:
        self._add(source, target, False, system, object)

    def _add(
        self, source: SourceField | str, target: str, approved: bool, system: str, object: str
    ) -> None:
        f = source if isinstance(source, SourceField) else SourceField(name=source)
        vec = None
        if self.embedder is not None:
            vec = tuple(float(v) for v in self.embedder.encode([_text(f.name, f.description)])[0])
        self.items = [
            i for i in self.items if not (i.source_field == f.name and i.target == target)
        ]
        self.items.append(MemoryItem(f.name, target, approved, f.description, system, object, vec))

    def extend(self, items: Iterable[MemoryItem]) -> None:
        self.items.extend(items)

    @classmethod
    def from_records(
        cls, tenant_id: str | None, records: Iterable[dict[str, Any]], embedder: Any = None
    ) -> MappingMemory:
        """A memory rebuilt from stored decisions (``MemoryItem.to_dict`` rows)."""
        memory = cls(tenant_id=tenant_id, embedder=embedder)
        for r in records:
            field = SourceField(r["source_field"], description=r.get("description") or "")
            memory._add(
                field,
                r["target"],
                bool(r.get("approved", True)),
                r.get("system") or "",
                r.get("object") or "",
            )
        return memory

    def __len__(self) -> int:
        return len(self.items)

    def recall(
        self, fields: Sequence[SourceField], vectors: np.ndarray | None = None
    ) -> dict[tuple[int, str], float]:
        """(source index, target) -> signed strength in [-1, 1] (+ approved, - rejected)."""
        if not self.items:
            return {}
        out: dict[tuple[int, str], float] = {}
        keys = [_key(i.source_field) for i in self.items]
        mem_vecs = None
        if vectors is not None and all(i.vector is not None for i in self.items):
            mem_vecs = np.asarray([i.vector for i in self.items], dtype=np.float32)
        sims = vectors @ mem_vecs.T if mem_vecs is not None and vectors is not None else None
        for s, f in enumerate(fields):
            k = _key(f.name)
            desc = set(text_tokens(f.description))
            for m, item in enumerate(self.items):
                if k == keys[m] and k:
                    strength = EXACT
                    if desc and item.description:
                        other = set(text_tokens(item.description))
                        overlap = len(desc & other) / max(1, len(desc | other))
                        strength = 0.9 + 0.1 * overlap
                elif sims is not None:
                    strength = float(max(0.0, (sims[s, m] - 0.88) / 0.12))
                else:
                    strength = 0.0
                if strength <= 0:
                    continue
                signed = strength if item.approved else -strength
                cur = out.get((s, item.target))
                if cur is None or abs(signed) > abs(cur):
                    out[(s, item.target)] = signed
        return out
