import pytest

from autonomos.aam.sync_runs import InvalidTransition, SyncStatus, transition

ALLOWED = {
    ("queued", "running"),
    ("queued", "cancelled"),
    ("queued", "failed"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("running", "cancelled"),
}


@pytest.mark.parametrize("current", list(SyncStatus))
@pytest.mark.parametrize("target", list(SyncStatus))
def test_transitions(current: SyncStatus, target: SyncStatus) -> None:
    if (current.value, target.value) in ALLOWED:
        assert transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition, match=current.value):
            transition(current, target)


def test_finished() -> None:
    assert {s for s in SyncStatus if s.finished} == {
        SyncStatus.SUCCEEDED,
        SyncStatus.FAILED,
        SyncStatus.CANCELLED,
    }
