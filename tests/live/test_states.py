"""States idle / predicting / recording: allowed paths and refused transitions' messages."""

from __future__ import annotations

import pytest

from neuropose.live.states import StateError, StateMachine


def test_full_cycle_returns_to_idle() -> None:
    m = StateMachine()
    m.start()
    assert m.state == "predicting"
    m.record()
    assert m.state == "recording"
    m.stop_recording()
    assert m.state == "predicting"
    m.record()
    m.stop()
    assert m.state == "idle"
    m.start()  # a stopped session can start again
    assert m.state == "predicting"


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        (
            [],
            "stop",
            "cannot stop: the session is idle (stop is allowed only when predicting or recording)",
        ),
        (
            [],
            "record",
            "cannot record: the session is idle (record is allowed only when predicting)",
        ),
        ([], "stop_recording", "cannot stop recording: the session is idle"),
        (
            ["start"],
            "start",
            "cannot start: the session is predicting (start is allowed only when idle)",
        ),
        (["start"], "stop_recording", "cannot stop recording: the session is predicting"),
        (["start", "record"], "record", "cannot record: the session is recording"),
        (["start", "record"], "start", "cannot start: the session is recording"),
    ],
)
def test_refused_transitions_name_the_current_state(
    setup: list[str], action: str, message: str
) -> None:
    m = StateMachine()
    for step in setup:
        getattr(m, step)()
    before = m.state
    with pytest.raises(StateError) as info:
        getattr(m, action)()
    assert info.value.message.startswith(message)
    assert info.value.exit_code == 2
    assert m.state == before  # a refused transition changes nothing
