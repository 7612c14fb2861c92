"""Safe Mode: which proposals apply on their own and which wait for a human."""

from __future__ import annotations

from dataclasses import dataclass

from autonomos.aam.repair.models import RepairProposal

__all__ = ["DEFAULT_THRESHOLD", "SafeMode"]

DEFAULT_THRESHOLD = 0.9


@dataclass(frozen=True)
class SafeMode:
    """A tenant's policy: auto-apply at or above ``threshold``, never anything destructive."""

    threshold: float = DEFAULT_THRESHOLD
    auto_apply: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("the Safe Mode threshold must be in (0, 1]")

    def decide(self, p: RepairProposal) -> tuple[bool, str]:
        """(apply now?, why) for one proposal."""
        if p.destructive:
            return False, "destructive: a human decides"
        if not self.auto_apply:
            return False, "automatic repairs are off for this tenant"
        if p.confidence < self.threshold:
            return (
                False,
                f"confidence {p.confidence:.2f} is below the threshold {self.threshold:.2f}",
            )
        return True, f"confidence {p.confidence:.2f} >= {self.threshold:.2f} and non-destructive"

    def auto_applies(self, p: RepairProposal) -> bool:
        return self.decide(p)[0]
