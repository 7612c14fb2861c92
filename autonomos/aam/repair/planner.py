"""From a drift event and the connection's active mappings to repair proposals.

Pure logic: no database, no Ray. What each change becomes:

- renamed / moved field with a mapping -> ``remap``: the mapping follows the field to its
  new path (with ``not`` composed in for an inverted boolean); as sure as the rename;
- added field -> ``new_mapping`` with the matcher's suggestion (when a matcher is given);
- removed field with a mapping -> ``mark_broken`` (destructive: the views lose a column),
  with the most similar added fields as possible replacements;
- type change of a mapped field: widening between scalars -> ``cast`` rule back to the
  target's type (non-destructive); narrowing, incompatible, scalar <-> object/array ->
  ``quarantine`` (destructive); a kept name whose description changed -> ``quarantine``.

Unmapped fields that were renamed, removed or retyped need no repair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from autonomos.aam._rename import FieldView, rank_candidates
from autonomos.aam.drift import DriftChange, DriftEvent
from autonomos.aam.normalize import normalize_name
from autonomos.aam.repair.models import Alternative, Evidence, MappingRef, RepairProposal
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

__all__ = ["CAST_CONFIDENCE", "SampleSource", "Suggest", "cast_rule", "compose", "plan_repairs"]

CAST_CONFIDENCE = 0.95  # a widening cast back to the target type
MAX_SAMPLES = 5


def compose(first: str | None, then: str | None) -> str | None:
    """Transform ``first`` followed by ``then`` (``|`` chains; a double ``not`` cancels)."""
    steps = [s for t in (first, then) if t for s in t.split("|")]
    out: list[str] = []
    for s in steps:
        if s == "not" and out and out[-1] == "not":
            out.pop()
        else:
            out.append(s)
    return "|".join(out) or None


def cast_rule(old: FieldType | None, new: FieldType | None) -> str | None:
    """Transform steps that make a widened source value castable to its old (the
    target's) type again; the view builder then casts to the ontology field's type.

    Values that became text need blanks turned into nulls first (``" 42 "``, ``""``);
    booleans that became text are also lower-cased (``"TRUE"``). Numeric and temporal
    widenings need no step: the cast to the target type handles them.
    """
    if new is not FieldType.STRING or old in (None, FieldType.STRING, FieldType.JSON):
        return None
    if old is FieldType.BOOLEAN:
        return "trim|lower|nullif_empty"
    return "trim|nullif_empty"


class SampleSource(Protocol):
    """Landed values of a field, as text (empty when nothing has landed)."""

    def before(self, path: str) -> list[str]: ...

    def after(self, path: str) -> list[str]: ...


class _NoSamples:
    def before(self, path: str) -> list[str]:
        return []

    def after(self, path: str) -> list[str]:
        return []


# (fields to suggest for, the whole new schema, the stream's entity if it has mappings)
# -> suggestion per field path; a suggestion has .target ("entity.field" | None),
# .confidence, .signals and .alternatives [(target, score)] (the matcher's FieldSuggestion).
Suggest = Callable[[Sequence[FieldSpec], StreamSchema, str | None], Mapping[str, Any]]


def _with_rule(rule: str | None, transform: str | None) -> str | None:
    """The cast rule in front of the mapping's transform, unless it already has it."""
    if rule and transform and set(rule.split("|")) <= set(transform.split("|")):
        return transform
    return compose(rule, transform)


def _views(schema: StreamSchema | None) -> dict[str, FieldView]:
    if schema is None:
        return {}
    last = max(len(schema.fields) - 1, 1)
    return {
        normalize_name(f.name): FieldView(
            normalize_name(f.name), f.type, f.source_type, f.description, i / last
        )
        for i, f in enumerate(schema.fields)
    }


class _Planner:
    def __init__(
        self,
        event: DriftEvent,
        mappings: Sequence[MappingRef],
        old_schema: StreamSchema | None,
        new_schema: StreamSchema | None,
        samples: SampleSource,
        target_type: Callable[[str], str | None],
    ) -> None:
        self.event = event
        self.by_field: dict[str, list[MappingRef]] = {}
        for m in mappings:
            self.by_field.setdefault(normalize_name(m.source_field), []).append(m)
        self.old, self.new = _views(old_schema), _views(new_schema)
        self.samples = samples
        self.target_type = target_type
        self.added = [
            self.new[c.path] for c in event.changes if c.kind == "added" and c.path in self.new
        ]

    def evidence(
        self,
        summary: str,
        change: DriftChange,
        m: MappingRef | None,
        *,
        before: str | None = None,
        after: str | None = None,
        signals: Mapping[str, float | str] | None = None,
        alternatives: Sequence[Alternative] = (),
    ) -> Evidence:
        return Evidence(
            summary=summary,
            signals=dict(signals or {}),
            samples_before=self.samples.before(before)[:MAX_SAMPLES] if before else [],
            samples_after=self.samples.after(after)[:MAX_SAMPLES] if after else [],
            alternatives=list(alternatives)[:3],
            old_fingerprint=self.event.old_fingerprint,
            new_fingerprint=self.event.new_fingerprint,
            change=change.model_dump(mode="json", exclude_none=True),
            mapping_before=None
            if m is None
            else {
                "source_field": m.source_field,
                "target": m.target,
                "transform": m.transform,
                "version": m.version,
                "confidence": m.confidence,
            },
        )

    def proposal(self, **kw: Any) -> RepairProposal:
        return RepairProposal(
            connection_id=self.event.connection_id,
            stream=self.event.stream,
            drift_event_id=kw.pop("drift_event_id", None),
            **kw,
        )

    # -- per change --------------------------------------------------------------------

    def renamed(self, c: DriftChange) -> list[RepairProposal]:
        assert c.old_path and c.new_path
        out = []
        alternatives = []
        if c.old_path in self.old:
            alternatives = [
                Alternative(value=a.new, score=a.confidence)
                for a in rank_candidates(self.old[c.old_path], self.added, k=4)
                if a.new != c.new_path
            ]
        signals: dict[str, float | str] = {"rename": c.confidence or 0.0}
        if c.evidence is not None:
            signals.update(c.evidence.model_dump(exclude_none=True))
        narrowing = c.direction in ("narrow", "incompatible")
        for m in self.by_field.get(c.old_path, []):
            transform = compose(m.transform, c.transform)
            why = f"{c.old_path!r} was renamed to {c.new_path!r}"
            if c.transform == "not":
                why += " with the opposite meaning (an inverted boolean): values are negated"
            if narrowing:
                why += f"; its type also changed ({c.old_type} -> {c.new_type})"
            out.append(
                self.proposal(
                    kind="remap",
                    source_field=m.source_field,  # as the registry spells it
                    new_source_field=c.new_path,
                    target=m.target,
                    transform=transform,
                    confidence=c.confidence or 0.0,
                    destructive=narrowing or c.transform is not None,
                    reason=f"{why}; the mapping to {m.target} follows it",
                    evidence=self.evidence(
                        why,
                        c,
                        m,
                        before=c.old_path,
                        after=c.new_path,
                        signals=signals,
                        alternatives=alternatives,
                    ),
                    base_version=m.version,
                )
            )
        return out

    def removed(self, c: DriftChange) -> list[RepairProposal]:
        out = []
        candidates = []
        if c.path in self.old:
            candidates = rank_candidates(self.old[c.path], self.added, k=3)
        for m in self.by_field.get(c.path, []):
            why = f"mapped field {c.path!r} is gone from the source: {m.target} has no source"
            if candidates:
                best = candidates[0]
                why += (
                    f"; closest new field {best.new!r} ({best.pattern}, {best.confidence:.2f}) "
                    "is not the same field"
                )
            out.append(
                self.proposal(
                    kind="mark_broken",
                    source_field=m.source_field,
                    target=m.target,
                    transform=m.transform,
                    confidence=1.0,
                    destructive=True,
                    reason=f"ALERT: {why}",
                    evidence=self.evidence(
                        why,
                        c,
                        m,
                        before=c.path,
                        alternatives=[
                            Alternative(value=a.new, score=a.confidence) for a in candidates
                        ],
                    ),
                    base_version=m.version,
                )
            )
        return out

    def retyped(self, c: DriftChange) -> list[RepairProposal]:
        out = []
        shape_change = (c.old_type is FieldType.JSON) != (c.new_type is FieldType.JSON)
        for m in self.by_field.get(c.path, []):
            target_t = self.target_type(m.target) or c.old_type
            if c.direction == "widen" and not shape_change:
                why = (
                    f"{c.path!r} widened from {c.old_type} to {c.new_type}; values are cast "
                    f"back to {target_t} for {m.target} (values that do not fit become "
                    "null)"
                )
                out.append(
                    self.proposal(
                        kind="cast",
                        source_field=m.source_field,
                        target=m.target,
                        transform=_with_rule(cast_rule(c.old_type, c.new_type), m.transform),
                        confidence=CAST_CONFIDENCE,
                        destructive=False,
                        reason=why,
                        evidence=self.evidence(
                            why,
                            c,
                            m,
                            before=c.path,
                            after=c.path,
                            signals={"direction": c.direction or ""},
                        ),
                        base_version=m.version,
                    )
                )
                continue
            how = (
                "changed shape"
                if shape_change or c.direction == "widen"
                else ("narrowed" if c.direction == "narrow" else "changed to an incompatible type")
            )
            why = (
                f"{c.path!r} {how} ({c.old_source_type or c.old_type} -> "
                f"{c.new_source_type or c.new_type}); its values are held aside "
                f"instead of feeding {m.target}"
            )
            out.append(
                self.proposal(
                    kind="quarantine",
                    source_field=m.source_field,
                    target=m.target,
                    transform=m.transform,
                    confidence=1.0,
                    destructive=True,
                    reason=why,
                    evidence=self.evidence(
                        why,
                        c,
                        m,
                        before=c.path,
                        after=c.path,
                        signals={"direction": c.direction or ""},
                    ),
                    base_version=m.version,
                )
            )
        return out

    def meaning(self, c: DriftChange) -> list[RepairProposal]:
        out = []
        for m in self.by_field.get(c.path, []):
            why = (
                f"{c.path!r} kept its name but its description changed: "
                f"{c.old_value!r} -> {c.new_value!r}; it may no longer mean {m.target}"
            )
            out.append(
                self.proposal(
                    kind="quarantine",
                    source_field=m.source_field,
                    target=m.target,
                    transform=m.transform,
                    confidence=c.confidence or 0.5,
                    destructive=True,
                    reason=why,
                    evidence=self.evidence(
                        why,
                        c,
                        m,
                        before=c.path,
                        after=c.path,
                        signals={"description_change": c.confidence or 0.0},
                    ),
                    base_version=m.version,
                )
            )
        return out

    def added_fields(
        self,
        suggest: Suggest | None,
        new_schema: StreamSchema | None,
        changes: Sequence[DriftChange],
    ) -> list[RepairProposal]:
        if suggest is None or new_schema is None:
            return []
        wanted = [c for c in changes if c.kind == "added"]
        specs = {normalize_name(f.name): f for f in new_schema.fields}
        fields = [specs[c.path] for c in wanted if c.path in specs]
        if not fields:
            return []
        taken = {m.target: f for f, ms in self.by_field.items() for m in ms}
        entities = sorted(m.entity for ms in self.by_field.values() for m in ms)
        stream_entity = max(entities, key=entities.count) if entities else None
        suggestions = suggest(fields, new_schema, stream_entity)
        out = []
        for c in wanted:
            s = suggestions.get(c.path) or suggestions.get(
                specs[c.path].name if c.path in specs else ""
            )
            if s is None or not getattr(s, "target", None):
                continue
            target = str(s.target)
            conf = float(s.confidence)
            why = f"new field {c.path!r} looks like {target}"
            if stream_entity and target.partition(".")[0] != stream_entity:
                conf *= 0.5
                why += f" (but this stream maps to {stream_entity})"
            displaced = taken.get(target)
            if displaced:
                why += f"; {target} is already fed by {displaced!r}"
            signals = {
                k: round(float(v), 4)
                for k, v in (getattr(s, "signals", {}) or {}).items()
                if isinstance(v, int | float)
            }
            alternatives = [
                Alternative(value=str(t), score=round(float(p), 4))
                for t, p in (getattr(s, "alternatives", ()) or ())
            ]
            out.append(
                self.proposal(
                    kind="new_mapping",
                    source_field=c.path,
                    target=target,
                    confidence=round(min(max(conf, 0.0), 1.0), 4),
                    destructive=displaced is not None,
                    reason=why,
                    evidence=self.evidence(
                        why, c, None, after=c.path, signals=signals, alternatives=alternatives
                    ),
                )
            )
        return out


def plan_repairs(
    event: DriftEvent,
    mappings: Sequence[MappingRef],
    *,
    old_schema: StreamSchema | None = None,
    new_schema: StreamSchema | None = None,
    samples: SampleSource | None = None,
    suggest: Suggest | None = None,
    target_type: Callable[[str], str | None] | None = None,
    drift_event_id: str | None = None,
) -> list[RepairProposal]:
    """Every repair ``event`` calls for, given the stream's active ``mappings``.

    ``target_type`` gives an ontology target's type (for cast rules); ``suggest`` maps new
    fields (see :func:`autonomos.aam.repair.suggest.matcher_suggest`).
    """
    p = _Planner(
        event,
        mappings,
        old_schema,
        new_schema,
        samples or _NoSamples(),
        target_type or (lambda _t: None),
    )
    out: list[RepairProposal] = []
    for c in event.changes:
        if c.kind == "renamed":
            out += p.renamed(c)
        elif c.kind == "removed":
            out += p.removed(c)
        elif c.kind == "type_changed":
            out += p.retyped(c)
        elif c.kind == "meaning_changed":
            out += p.meaning(c)
    out += p.added_fields(suggest, new_schema, event.changes)
    if drift_event_id is not None:
        out = [x.model_copy(update={"drift_event_id": drift_event_id}) for x in out]
    return out
