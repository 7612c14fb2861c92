"""Tables of the repair agent: proposals and their decisions."""

from __future__ import annotations
