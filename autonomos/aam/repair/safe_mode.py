"""Safe Mode: which changes apply on their own and which wait for a human.

The one place that decides, for repair proposals and for batch-mapping suggestions alike.
The platform default threshold is the ``repair_threshold`` setting; each tenant may save
its own (``repair_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass

from autonomos.aam.repair.models import RepairProposal
from autonomos.config import Settings

__all__ = ["DEFAULT_THRESHOLD", "SafeMode"]

DEFAULT_THRESHOLD: float = Settings.model_fields["repair_threshold"].default


@dataclass(frozen=True)
class SafeMode:
    """A tenant's policy: auto-apply at or above ``threshold``, never anything destructive."""

    threshold: float = DEFAULT_THRESHOLD
    auto_apply: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("the Safe Mode threshold must be in (0, 1]")

    def allows(self, confidence: float, *, destructive: bool = False) -> tuple[bool, str]:
        """(apply now?, why) for a change made with ``confidence``."""
        if destructive:
            return False, "destructive: a human decides"
        if not self.auto_apply:
            return False, "automatic repairs are off for this tenant"
        if confidence < self.threshold:
            return (
                False,
                f"confidence {confidence:.2f} is below the threshold {self.threshold:.2f}",
            )
        return True, f"confidence {confidence:.2f} >= {self.threshold:.2f} and non-destructive"

    def decide(self, p: RepairProposal) -> tuple[bool, str]:
        """(apply now?, why) for one proposal."""
        return self.allows(p.confidence, destructive=p.destructive)

    def auto_applies(self, p: RepairProposal) -> bool:
        return self.decide(p)[0]
