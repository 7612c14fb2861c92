"""The agent run state machine."""

from __future__ import annotations

import pytest

from autonomos.agents.errors import InvalidRunTransition
from autonomos.agents.runs import ACTIVE, FINISHED, RunStatus, transition

ALLOWED = {
    ("queued", "running"),
    ("queued", "cancelled"),
    ("queued", "failed"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("running", "cancelled"),
}


@pytest.mark.parametrize("current", list(RunStatus))
@pytest.mark.parametrize("target", list(RunStatus))
def test_every_move_is_allowed_or_refused(current: RunStatus, target: RunStatus) -> None:
    if (current.value, target.value) in ALLOWED:
        assert transition(current, target) is target
        assert transition(current.value, target.value) is target  # stored strings too
    else:
        with pytest.raises(InvalidRunTransition) as err:
            transition(current, target)
        assert str(err.value) == f"a {current.value} agent run cannot become {target.value}"


def test_finished_runs_never_change() -> None:
    assert {s for s in RunStatus if s.finished} == FINISHED
    assert FINISHED | ACTIVE == set(RunStatus) and not FINISHED & ACTIVE
    for done in FINISHED:
        for target in RunStatus:
            with pytest.raises(InvalidRunTransition):
                transition(done, target)


def test_unknown_statuses_are_refused() -> None:
    with pytest.raises(ValueError):
        transition("queued", "done")
