"""Where a type change sits on the widening lattice (shared by drift and rename scoring)."""

from __future__ import annotations

from typing import Literal

from autonomos.connectors.schema import FieldType

__all__ = ["Direction", "type_direction"]

Direction = Literal["widen", "narrow", "incompatible"]

_T = FieldType
_WIDEN: frozenset[tuple[FieldType, FieldType]] = frozenset(
    {
        (_T.INTEGER, _T.NUMBER),
        (_T.INTEGER, _T.DECIMAL),
        (_T.DATE, _T.TIMESTAMP),
        *((t, _T.STRING) for t in _T if t not in (_T.STRING, _T.BINARY)),
        *((t, _T.JSON) for t in _T if t is not _T.JSON),
    }
)


def type_direction(old: FieldType, new: FieldType) -> Direction | None:
    """Place a type change on the widening lattice; None when the type is unchanged."""
    if old is new:
        return None
    if (old, new) in _WIDEN:
        return "widen"
    if (new, old) in _WIDEN:
        return "narrow"
    return "incompatible"
