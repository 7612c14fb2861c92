"""Optional LLM re-ranking of ambiguous fields (a small seam; the matcher stands without it).

Only source fields whose two best targets are close (margin below ``margin``) and plausible
are sent, at most ``max_fields`` per schema, each as one prompt with the field (name, type,
description, a few sample values) and its top-3 candidates (name, type, description). The
LLM answers strict JSON ``{"choice": <candidate or "none">, "confidence": 0..1}`` through the
platform's LLM port (``complete_json``), which counts calls and tokens per tenant.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from autonomos.matching.schema import SourceField, SourceSchema
from autonomos.matching.signals import Target

log = logging.getLogger(__name__)
NONE = "none"
MIN_TOP = 0.15  # fields whose best candidate is this unlikely are not worth a call


def ambiguous_fields(probs: np.ndarray, margin: float, max_fields: int) -> list[int]:
    """Source rows whose best two pair probabilities are within ``margin``, most ambiguous
    (and most plausible) first."""
    if probs.shape[1] < 2:
        return []
    top2 = -np.sort(-probs, axis=1)[:, :2]
    gaps = top2[:, 0] - top2[:, 1]
    rows = [i for i in range(len(probs)) if top2[i, 0] >= MIN_TOP and gaps[i] < margin]
    rows.sort(key=lambda i: (gaps[i], -top2[i, 0]))
    return rows[:max_fields]


def build_prompt(schema: SourceSchema, field: SourceField, candidates: Sequence[Target]) -> str:
    samples = ", ".join(json.dumps(v, default=str)[:40] for v in field.samples[:5])
    lines = [
        "Map one field of a source system onto a canonical data model.",
        f"Source system: {schema.system or 'unknown'}; object: {schema.object or 'unknown'}.",
        f"Field: {field.name} (type {field.type})"
        + (f" - {field.description.strip()[:300]}" if field.description else ""),
    ]
    if samples:
        lines.append(f"Sample values: {samples}")
    lines.append("Candidates:")
    for t in candidates:
        lines.append(f"- {t.key} ({t.type}): {t.description}")
    lines.append(
        f'Answer with the candidate that holds the same information, or "{NONE}" if none '
        "does, and your confidence between 0 and 1."
    )
    return "\n".join(lines)


def ask_llm(
    llm: Any, tenant_id: Any, schema: SourceSchema, field: SourceField, candidates: Sequence[Target]
) -> tuple[str | None, float] | None:
    """(chosen target key or None for "none", confidence), or None when the LLM failed."""
    choices = [t.key for t in candidates] + [NONE]
    answer_schema = {"choice": choices, "confidence": "number"}
    try:
        answer = llm.complete_json(
            tenant_id, build_prompt(schema, field, candidates), answer_schema
        )
        choice = str(answer["choice"])
        conf = float(answer.get("confidence", 0.5))
    except Exception as e:  # the LLM is an optional helper: never fail a suggestion for it
        log.warning("LLM re-ranking of %s skipped: %s", field.name, e)
        return None
    if choice not in choices:
        return None
    conf = min(1.0, max(0.0, conf))
    return (None if choice == NONE else choice), conf


def apply_answer(
    row: np.ndarray, order: Sequence[int], chosen: int | None, conf: float
) -> np.ndarray:
    """New pair probabilities for one source row after the LLM's answer.

    Agreeing with the current best changes nothing; choosing another candidate swaps it to
    the top (scaled by the LLM's confidence); "none" damps every candidate."""
    row = row.copy()
    if chosen is None:
        return row * (1 - 0.5 * conf)
    top = order[0]
    if chosen == top:
        return row
    hi, lo = row[top], row[chosen]
    row[chosen] = hi * (0.5 + 0.5 * conf)
    row[top] = min(lo, row[chosen] * 0.9)
    return row
