"""The paced loop: every frame at max speed, drops and stale ticks at real time, events,
recording finalised atomically, a stop while a frame is in flight."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import JOINTS
from tests.live.conftest import WristHeight, write_arm_results

from neuropose.analyzer.load import load_trial
from neuropose.config import Settings
from neuropose.datadir.layout import DataDir
from neuropose.io import TEMP_FILE_PATTERN, load_model
from neuropose.live import LiveConfig, LiveLoop, LoopOptions, RepetitionDetector, run_live
from neuropose.live.session import Recorder, StatusWriter, open_session
from neuropose.live.sources import ResultsReplay
from neuropose.live.states import StateMachine
from neuropose.schemas.live import LiveStatus


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_at_max_speed_records_every_pose(tmp_path: Path, arm_results: Path) -> None:
    res = run_live(
        LiveConfig(source=str(arm_results), data_dir=tmp_path / "d", session="s1", replay_speed=0),
        Settings(),
    )
    trial = load_trial(arm_results)
    paths = DataDir(tmp_path / "d").live_session("s1")
    rows = _lines(paths.poses)
    assert [r["frame"] for r in rows] == list(range(trial.num_frames))
    got = np.array([r["pose"] for r in rows], float)
    np.testing.assert_array_equal(got, trial.poses.astype(np.float32).astype(float))
    assert [r["t"] for r in rows] == pytest.approx(trial.timestamps.tolist())
    assert _lines(paths.signals)[0] == {"frame": 0, "t": 0.0, "values": {}}  # no --spec
    assert paths.events.read_text() == ""
    status = load_model(paths.status, LiveStatus)
    assert (status.state, status.frames_predicted, status.frames_dropped) == (
        "idle",
        trial.num_frames,
        0,
    )
    assert status.stale_ticks == 0 and not status.recording
    assert res.stats.frames_in == trial.num_frames
    assert not [p for p in paths.folder.iterdir() if TEMP_FILE_PATTERN.match(p.name)]


def test_missing_frames_are_recorded_as_null(tmp_path: Path) -> None:
    src = tmp_path / "r.json"
    write_arm_results(src, cycles=1, missing=(2, 3))
    run_live(
        LiveConfig(source=str(src), data_dir=tmp_path, session="s", replay_speed=0), Settings()
    )
    rows = _lines(DataDir(tmp_path).live_session("s").poses)
    assert rows[2]["pose"][0] == [None, None, None] and rows[4]["pose"][0][0] is not None


def test_a_repeated_reach_gives_exactly_one_event_per_repetition(arm_results: Path) -> None:
    """5 cycles of the forearm rising (wrist up) and falling: 5 repetition events."""
    trial = load_trial(arm_results)
    h = -trial.poses[:, JOINTS.index("left_wrist"), 1]  # camera y points down
    lo, hi = float(np.nanmin(h)), float(np.nanmax(h))
    det = RepetitionDetector("wrist_height", low=lo + 0.25 * (hi - lo), high=hi - 0.25 * (hi - lo))
    loop = LiveLoop(ResultsReplay(arm_results, speed=0), WristHeight(), consumers=[det])
    stats = loop.run()
    events = list(loop.recent_events)
    assert stats.frames_predicted == trial.num_frames
    assert [e.count for e in events] == [1, 2, 3, 4, 5]
    assert {e.kind for e in events} == {"repetition"}
    # the wrist is highest at t = k + 0.5 s; each repetition ends as it comes back down
    assert all(k + 0.5 < e.time_s < k + 1.0 for k, e in enumerate(events))
    assert np.diff([e.time_s for e in events]) == pytest.approx(np.ones(4), abs=0.05)


def test_real_time_replay_drops_frames_when_ticks_are_slower(tmp_path: Path) -> None:
    src = tmp_path / "r.json"
    write_arm_results(src, cycles=1, fs=60.0)  # 61 frames over 1 s
    loop = LiveLoop(ResultsReplay(src, speed=1.0), WristHeight(), options=LoopOptions(15.0))
    st = loop.run()
    assert st.frames_in == 61  # every frame was seen: predicted or dropped
    assert st.frames_predicted + st.frames_dropped == 61
    assert st.frames_dropped > 30  # 15 ticks/s for a 60 fps source: about 3 of 4 dropped
    assert st.stale_ticks == 0


def test_real_time_replay_flags_stale_ticks_without_rerunning(tmp_path: Path) -> None:
    src = tmp_path / "r.json"
    write_arm_results(src, cycles=1, fs=10.0)  # 11 frames over 1 s
    seen: list[tuple[int, bool]] = []
    pushes: list[int] = []

    class Counting(WristHeight):
        def push(self, times_s, poses):  # type: ignore[no-untyped-def]
            pushes.append(len(times_s))
            return super().push(times_s, poses)

    def consumer(tick):  # type: ignore[no-untyped-def]
        seen.append((tick.index, tick.stale))
        return []

    loop = LiveLoop(
        ResultsReplay(src, speed=1.0),
        Counting(),
        consumers=[consumer],
        options=LoopOptions(predict_hz=50.0),
    )
    st = loop.run()
    assert st.frames_predicted == 11 and st.frames_dropped == 0
    assert st.stale_ticks > 10  # ~5 ticks per frame
    assert len(pushes) == 11  # the graph ran once per new frame, never on a stale tick
    stale = [i for i, s in seen if s]
    assert len(stale) == st.stale_ticks
    # a stale tick repeats the index of the newest frame before it
    last = -1
    for i, is_stale in seen:
        if is_stale:
            assert i == last
        last = i


def test_stop_while_a_frame_is_in_flight_loses_nothing(tmp_path: Path, arm_results: Path) -> None:
    """The stop arrives during frame 20's prediction: frame 20 is still written, whole."""
    stop = threading.Event()
    paths = open_session(tmp_path, "s")
    rec = Recorder(paths)
    machine = StateMachine()
    status = StatusWriter(paths, machine, "x")

    class SlowGraph(WristHeight):
        def push(self, times_s, poses):  # type: ignore[no-untyped-def]
            if round(float(times_s[0]) * 30) == 20:
                stop.set()  # e.g. SIGINT while this frame is being processed
            return super().push(times_s, poses)

    machine.start()
    machine.record()
    loop = LiveLoop(
        ResultsReplay(arm_results, speed=0), SlowGraph(), sinks=[rec, status], stop_event=stop
    )
    st = loop.run()
    rec.finalise()
    rows = _lines(paths.poses)
    sig = _lines(paths.signals)
    assert st.frames_predicted == 21
    assert [r["frame"] for r in rows] == list(range(21))
    assert [r["frame"] for r in sig] == list(range(21))
    wrist = rows[20]["pose"][JOINTS.index("left_wrist")]
    assert sig[20]["values"]["wrist_y"] == pytest.approx(wrist[1])


def test_a_failing_session_leaves_no_partial_recording(tmp_path: Path, arm_results: Path) -> None:
    class Broken(WristHeight):
        def push(self, times_s, poses):  # type: ignore[no-untyped-def]
            if float(times_s[0]) > 0.5:
                raise RuntimeError("boom")
            return super().push(times_s, poses)

    paths = open_session(tmp_path, "s")
    rec = Recorder(paths)
    loop = LiveLoop(ResultsReplay(arm_results, speed=0), Broken(), sinks=[rec])
    with pytest.raises(RuntimeError):
        loop.run()
    rec.discard()
    assert list(paths.folder.iterdir()) == []


def test_session_names_are_checked_and_never_reused(tmp_path: Path, arm_results: Path) -> None:
    from neuropose.datadir.layout import InvalidJobNameError
    from neuropose.live.session import SessionExistsError

    cfg = LiveConfig(source=str(arm_results), data_dir=tmp_path, session="a", replay_speed=0)
    run_live(cfg, Settings())
    with pytest.raises(SessionExistsError, match="live session 'a' already exists"):
        run_live(cfg, Settings())
    with pytest.raises(InvalidJobNameError):
        open_session(tmp_path, "../x")
