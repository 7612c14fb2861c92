"""The shared kernel: what every package speaks the same way.

- :mod:`autonomos.common.errors`: the failure classification (terminal, transient,
  configuration) and :class:`AutonomosError`, the root of every package's base exception;
- :mod:`autonomos.common.states`: explicit state machines (a status enum and one
  transition function) for anything long-lived;
- :mod:`autonomos.common.private_files`: the data dir and what is written in it stay
  private to the platform's user (0700 folders, 0600 files);
- :mod:`autonomos.common.text`: the one text toolkit (name normaliser and tokeniser,
  stemmer, singular, name similarity) of drift, matching and entity resolution.

Nothing here imports another AutonomOS package: every layer may depend on it.
"""

from autonomos.common.errors import AutonomosError, FailureType
from autonomos.common.states import InvalidTransition, StateMachine

__all__ = ["AutonomosError", "FailureType", "InvalidTransition", "StateMachine"]
