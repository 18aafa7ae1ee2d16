"""``neuropose live`` as a user runs it (subprocesses): replay, video with a model,
the model lock against ``neuropose watch``, a stop by SIGINT mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.interfacer.test_real_estimator import grey_video
from tests.live.conftest import write_arm_results

from neuropose.datadir.layout import DataDir
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.live import LiveStatus

FAKE = "python:tests.fakes:make_model"
_CODE = "import sys; from neuropose.cli import main; sys.exit(main())"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    env.update(
        PYTHONPATH=REPO_PYTHONPATH,
        NEUROPOSE_MODEL_CACHE_DIR=str(tmp_path / "models"),
        NEUROPOSE_SETTLE_SECONDS="0",
        NEUROPOSE_POLL_INTERVAL_S="0.05",
    )
    return env


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", _CODE, *args]


def neuropose(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        _cmd(*args), env=_env(tmp_path), capture_output=True, text=True, timeout=timeout
    )


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_writes_the_session_and_reports_counts(tmp_path: Path) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=1)
    data = tmp_path / "data"
    proc = neuropose(
        tmp_path, "live", "--source", str(src), "--data-dir", str(data), "--session", "s1",
        "--replay-speed", "0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "live session s1: 31 frames predicted, 0 dropped, 0 stale ticks" in proc.stdout
    paths = DataDir(data).live_session("s1")
    assert f"wrote {paths.poses}" in proc.stdout
    assert len(_lines(paths.poses)) == 31
    assert load_model(paths.status, LiveStatus).state == "idle"


def test_no_record_writes_only_the_status(tmp_path: Path) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=1)
    proc = neuropose(
        tmp_path, "live", "--source", str(src), "--data-dir", str(tmp_path / "d"),
        "--session", "s", "--replay-speed", "0", "--no-record",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    folder = DataDir(tmp_path / "d").live_session("s").folder
    assert sorted(p.name for p in folder.iterdir()) == ["live.json"]


def test_bad_source_and_rules_exit_2_with_a_message(tmp_path: Path) -> None:
    proc = neuropose(tmp_path, "live", "--source", str(tmp_path / "none.mp4"),
                     "--data-dir", str(tmp_path))  # fmt: skip
    assert proc.returncode == 2
    assert "none.mp4: no such file" in proc.stderr and "Traceback" not in proc.stderr
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=1)
    proc = neuropose(tmp_path, "live", "--source", str(src), "--data-dir", str(tmp_path),
                     "--repetition", "knee:10")  # fmt: skip
    assert proc.returncode == 2 and "--repetition 'knee:10' is not SIGNAL:LOW:HIGH" in proc.stderr
    assert not (tmp_path / "live").exists()  # nothing created before the rules were checked


def test_video_source_online_poses_equal_the_offline_estimator(tmp_path: Path) -> None:
    """The per-frame path gives the offline run's raw poses, frame for frame."""
    video = grey_video(tmp_path / "clip.mp4", 24, 40)
    data = tmp_path / "data"
    proc = neuropose(
        tmp_path, "live", "--source", str(video), "--data-dir", str(data), "--session", "v",
        "--replay-speed", "0", "--model", FAKE,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "offline.json"
    proc = neuropose(tmp_path, "process", str(video), "-o", str(out), "--model", FAKE)
    assert proc.returncode == 0, proc.stderr
    vp = JobResults.model_validate_json(out.read_text()).videos[0]
    rows = _lines(DataDir(data).live_session("v").poses)
    online = np.array([r["pose"] for r in rows], float)
    raw = vp.poses3d_raw if vp.poses3d_raw is not None else vp.poses3d
    offline = np.full_like(online, np.nan)
    sel = vp.track_id == vp.primary_track_id
    offline[vp.det_frame[sel]] = raw[sel]
    assert online.shape == (24, 3, 3)
    # results files store the raw arrays as a delta from the refined ones, rounded to 0.1 mm
    np.testing.assert_allclose(online, offline, rtol=0, atol=0.05 + 1e-3)
    assert np.abs(online - offline).max() > 0  # (smoothing moved them: not a vacuous check)
    assert [r["t"] for r in rows] == pytest.approx(vp.timestamp_s.tolist(), abs=1e-6)
    folder = DataDir(data).live_session("v").folder
    assert not (folder / "video.mp4").exists()  # frames are stored only when asked


def test_record_video_stores_the_predicted_frames(tmp_path: Path) -> None:
    import cv2

    video = grey_video(tmp_path / "clip.mp4", 12, 40)
    data = tmp_path / "data"
    proc = neuropose(
        tmp_path, "live", "--source", str(video), "--data-dir", str(data), "--session", "v",
        "--replay-speed", "0", "--model", FAKE, "--record-video",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    mp4 = DataDir(data).live_session("v").video
    assert f"wrote {mp4}" in proc.stdout
    cap = cv2.VideoCapture(str(mp4))
    greys = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        greys.append(float(frame.mean()))
    cap.release()
    # 12 frames, getting lighter like the source (grey 40, 42, ...; H.264 shifts levels a bit)
    assert len(greys) == 12
    assert greys == pytest.approx([40 + 2 * i for i in range(12)], abs=6)
    assert greys[-1] - greys[0] == pytest.approx(22, abs=4)


MODEL = "blazepose-full"


@pytest.mark.slow
def test_live_is_refused_while_watch_has_the_model_loaded(
    tmp_path: Path, blazepose_weights: Path
) -> None:
    env = {**_env(tmp_path), "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights)}
    data = tmp_path / "data"
    grey_video(data / "in" / "visit1" / "walk.mp4", 5, 40)
    watch = subprocess.Popen(
        _cmd("watch", "--data-dir", str(data), "--model", MODEL),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    video = grey_video(tmp_path / "clip.mp4", 5, 40)
    live_cmd = _cmd("live", "--source", str(video), "--data-dir", str(data), "--model",
                    "blazepose-full?tracking=false", "--replay-speed", "0")  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (data / "out" / "visit1" / "results.json").exists():
            assert watch.poll() is None, watch.stderr.read() if watch.stderr else ""
            assert time.monotonic() < deadline, "the daemon did not process the job"
            time.sleep(0.1)
        proc = subprocess.run(live_cmd, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 3, proc.stderr
        assert f"pid {watch.pid}" in proc.stderr and "(neuropose watch)" in proc.stderr
        assert "model 'blazepose-full' is loaded by another process" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not (data / "live").exists() or not any((data / "live").iterdir())
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.communicate(timeout=60)
    # once the daemon has stopped, live runs
    proc = subprocess.run(live_cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_watch_is_refused_while_live_has_the_model_loaded(
    tmp_path: Path, blazepose_weights: Path
) -> None:
    env = {**_env(tmp_path), "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights)}
    data = tmp_path / "data"
    video = grey_video(tmp_path / "clip.mp4", 30, 40)
    live = subprocess.Popen(
        _cmd("live", "--source", str(video), "--data-dir", str(data), "--model", MODEL,
             "--replay-speed", "0.05", "--session", "s"),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not DataDir(data).live_session("s").status.exists():
            assert live.poll() is None, live.stderr.read() if live.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        grey_video(data / "in" / "visit1" / "walk.mp4", 5, 40)
        proc = subprocess.run(
            _cmd("watch", "--data-dir", str(data), "--model", MODEL, "--once"),
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        assert f"pid {live.pid}" in proc.stderr and "(neuropose live)" in proc.stderr
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=60)


def test_python_factories_take_no_model_lock(tmp_path: Path) -> None:
    """Test doubles and custom factories are not cached weights: live runs beside watch."""
    data = tmp_path / "data"
    grey_video(data / "in" / "visit1" / "walk.mp4", 10, 40)
    watch = subprocess.Popen(
        _cmd("watch", "--data-dir", str(data), "--model", FAKE),
        env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (data / "out" / "visit1" / "results.json").exists():
            assert watch.poll() is None, watch.stderr.read() if watch.stderr else ""
            assert time.monotonic() < deadline, "the daemon did not process the job"
            time.sleep(0.1)
        video = grey_video(tmp_path / "clip.mp4", 5, 40)
        proc = neuropose(tmp_path, "live", "--source", str(video), "--data-dir", str(data),
                         "--model", FAKE, "--replay-speed", "0")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.communicate(timeout=60)
    assert not (tmp_path / "models" / ".locks").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_mid_run_finalises_complete_jsonl(
    tmp_path: Path, sig: signal.Signals
) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=20)  # 20 s at real time
    data = tmp_path / "data"
    live = subprocess.Popen(
        _cmd("live", "--source", str(src), "--data-dir", str(data), "--session", "s",
             "--replay-speed", "1"),
        env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    paths = DataDir(data).live_session("s")
    deadline = time.monotonic() + 60
    while True:
        assert live.poll() is None, live.stderr.read() if live.stderr else ""
        assert time.monotonic() < deadline
        if paths.status.exists() and load_model(paths.status, LiveStatus).frames_predicted > 20:
            break
        time.sleep(0.05)
    assert not paths.poses.exists()  # not visible before the stop: no partial file to read
    live.send_signal(sig)
    _out, err = live.communicate(timeout=60)
    assert live.returncode == 130, err
    assert f"live session stopped by {sig.name}; recording complete" in err
    assert "error" not in err.lower()
    status = load_model(paths.status, LiveStatus)
    poses, sig = _lines(paths.poses), _lines(paths.signals)
    n = status.frames_predicted
    assert 20 < n < 601 and len(poses) == len(sig) == n
    frames = [r["frame"] for r in poses]
    assert frames == sorted(frames) and frames == [r["frame"] for r in sig]
    assert status.frames_dropped == frames[-1] + 1 - n  # every gap is a counted drop
    assert all(len(r["pose"]) == 19 for r in poses)
    assert sorted(p.name for p in paths.folder.iterdir()) == [
        "events.jsonl", "live.json", "poses.jsonl", "signals.jsonl",
    ]  # fmt: skip


def test_real_time_replay_lasts_as_long_as_the_clip(tmp_path: Path) -> None:
    """--replay-speed 1 plays a 4.0 s clip in 4.0 s +- 10 % (a behaviour, not a speed claim)."""
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=4, fs=30.0)  # 121 frames, t = 0 .. 4.0 s
    data = tmp_path / "data"
    proc = neuropose(tmp_path, "live", "--source", str(src), "--data-dir", str(data),
                     "--session", "rt", "--replay-speed", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    status = load_model(DataDir(data).live_session("rt").status, LiveStatus)
    assert status.elapsed_s / 4.0 == pytest.approx(1.0, abs=0.10)
    assert status.frames_in == 121 and status.stale_ticks >= 0
    assert status.source_fps == pytest.approx(30.0, rel=0.01)
    # at speed 2 the same clip takes half the time
    proc = neuropose(tmp_path, "live", "--source", str(src), "--data-dir", str(data),
                     "--session", "x2", "--replay-speed", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    status = load_model(DataDir(data).live_session("x2").status, LiveStatus)
    assert status.elapsed_s / 2.0 == pytest.approx(1.0, abs=0.10)


def test_duration_stops_a_real_time_session_with_exit_0(tmp_path: Path) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=30)  # 30 s at real time
    data = tmp_path / "data"
    proc = neuropose(tmp_path, "live", "--source", str(src), "--data-dir", str(data),
                     "--session", "d", "--duration", "1.5")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    status = load_model(DataDir(data).live_session("d").status, LiveStatus)
    assert status.elapsed_s == pytest.approx(1.5, abs=0.3)
    assert 30 <= status.frames_predicted + status.frames_dropped <= 60
    assert len(_lines(DataDir(data).live_session("d").poses)) == status.frames_predicted


def test_a_camera_that_does_not_open_exits_2(tmp_path: Path) -> None:
    proc = neuropose(tmp_path, "live", "--source", "97", "--data-dir", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "--source 97: cannot open the camera" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_model_failure_leaves_no_partial_recording(tmp_path: Path) -> None:
    video = grey_video(tmp_path / "clip.mp4", 12, 40)
    data = tmp_path / "data"
    proc = subprocess.run(
        _cmd("live", "--source", str(video), "--data-dir", str(data), "--session", "f",
             "--replay-speed", "0", "--model", FAKE),
        env={**_env(tmp_path), "FAKE_MODEL_FAIL_AT": "5"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "error: model fake failed on frames 5..5" in proc.stderr
    assert "Traceback" not in proc.stderr
    folder = DataDir(data).live_session("f").folder
    assert sorted(p.name for p in folder.iterdir()) == ["live.json"]  # no JSONL, no temp file
    status = load_model(folder / "live.json", LiveStatus)
    assert status.state == "idle" and status.frames_predicted == 5
    assert status.error is not None and "frames 5..5" in status.error
