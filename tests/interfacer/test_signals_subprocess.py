"""``neuropose watch`` in real subprocesses, stopped with real signals."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.interfacer.conftest import FAKE_SPEC, neuropose_cmd
from tests.interfacer.fake_processor import expected

from neuropose.datadir.status import read_status
from neuropose.io import TEMP_FILE_PATTERN, load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState


def start_watch(
    data_dir: Path, env: dict[str, str], *extra: str, **env_extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        neuropose_cmd("watch", "--data-dir", str(data_dir), "--model", FAKE_SPEC, *extra),
        env={**env, **env_extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(pred: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def frames_done(data_dir: Path, job: str) -> int:
    try:
        entry = read_status(data_dir).jobs.get(job)
    except Exception:  # a file being replaced right now: try again
        return -1
    return -1 if entry is None or entry.state is not JobState.PROCESSING else entry.frames_done


def transitions(stderr: str) -> list[tuple[str, str | None, str]]:
    out = []
    for line in stderr.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "transition":
            out.append((rec["job"], rec["from"], rec["to"]))
    return out


def test_sigterm_checkpoints_interrupts_and_restart_matches_uninterrupted(
    tmp_path: Path, data_dir: Path, add_job: Callable[..., Path], daemon_env: dict[str, str]
) -> None:
    job_dir = add_job("long", frames=(40, 10))
    proc = start_watch(data_dir, daemon_env, FAKE_PROC_COST_S="0.02")
    wait_for(lambda: frames_done(data_dir, "long") >= 12, what="12 frames processed")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert time.monotonic() - t0 < 10  # within shutdown_grace_seconds
    assert "stopped by SIGTERM" in err
    assert "Traceback" not in err
    entry = read_status(data_dir).jobs["long"]
    assert entry.state is JobState.INTERRUPTED
    assert entry.history[-1].outcome is JobState.INTERRUPTED
    ckpt = json.loads((data_dir / "out" / "long" / "partial" / "v0.mp4.ckpt.json").read_text())
    assert 12 <= ckpt["next_frame"] < 40
    assert transitions(err) == [
        ("long", None, "queued"),
        ("long", "queued", "processing"),
        ("long", "processing", "interrupted"),
    ]
    # Lock released: a restart runs and completes from the checkpoint.
    proc2 = start_watch(data_dir, daemon_env, "--once")
    out2, err2 = proc2.communicate(timeout=60)
    assert proc2.returncode == 0, err2
    assert "completed 1, failed 0" in out2
    entry = read_status(data_dir).jobs["long"]
    assert entry.state is JobState.COMPLETED
    assert entry.attempts == 2
    assert [h.outcome for h in entry.history] == [JobState.INTERRUPTED, JobState.COMPLETED]
    resumed = load_model(data_dir / "out" / "long" / "results.json", JobResults)
    # An uninterrupted run of the same inputs in another data directory.
    other = tmp_path / "other"
    (other / "in").mkdir(parents=True)
    import shutil

    shutil.copytree(job_dir, other / "in" / "long")
    proc3 = start_watch(other, daemon_env, "--once")
    assert proc3.wait(timeout=60) == 0
    straight = load_model(other / "out" / "long" / "results.json", JobResults)
    assert resumed.videos == straight.videos
    np.testing.assert_array_equal(resumed.videos[0].poses3d, expected(job_dir / "v0.mp4"))
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]


def test_second_signal_aborts_at_once_and_restart_recovers(
    data_dir: Path, add_job: Callable[..., Path], daemon_env: dict[str, str]
) -> None:
    add_job("stuck", frames=(6,))
    # Each frame takes 3 s, so the graceful stop would wait for the current frame.
    proc = start_watch(data_dir, daemon_env, FAKE_PROC_COST_S="3")
    wait_for(lambda: frames_done(data_dir, "stuck") >= 0, what="job processing")
    time.sleep(0.5)  # inside the first 3-second frame
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert time.monotonic() - t0 < 1.5
    assert "second SIGTERM, aborting now" in err
    # Aborted: the job is left processing; the next start counts a crash and resumes.
    assert read_status(data_dir).jobs["stuck"].state is JobState.PROCESSING
    proc2 = start_watch(data_dir, daemon_env, "--once")
    _, err2 = proc2.communicate(timeout=60)
    assert proc2.returncode == 0, err2
    entry = read_status(data_dir).jobs["stuck"]
    assert entry.state is JobState.COMPLETED
    assert [h.outcome for h in entry.history] == [None, JobState.COMPLETED]
    assert "was processing when the daemon stopped (crash 1 of at most 3)" in err2


def test_graceful_stop_is_bounded_by_shutdown_grace(
    data_dir: Path, add_job: Callable[..., Path], daemon_env: dict[str, str]
) -> None:
    add_job("slowframe", frames=(3,))
    proc = start_watch(
        data_dir, daemon_env, FAKE_PROC_COST_S="20", NEUROPOSE_SHUTDOWN_GRACE_SECONDS="1"
    )
    wait_for(lambda: frames_done(data_dir, "slowframe") >= 0, what="job processing")
    time.sleep(0.5)  # inside the first 20-second frame
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert 0.8 < time.monotonic() - t0 < 4
    assert "graceful stop exceeded 1 s" in err


def test_two_daemons_racing_one_wins_other_exits_3(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    procs = [start_watch(data_dir, daemon_env) for _ in range(2)]
    wait_for(lambda: any(p.poll() is not None for p in procs), timeout=30, what="a loser")
    loser = next(p for p in procs if p.poll() is not None)
    winner = next(p for p in procs if p is not loser)
    _, err = loser.communicate(timeout=5)
    assert loser.returncode == 3
    assert f"held by pid {winner.pid}" in err
    assert "neuropose watch" in err
    assert winner.poll() is None
    winner.send_signal(signal.SIGTERM)
    assert winner.wait(timeout=15) == 130


@pytest.mark.slow
def test_slow_writer_is_not_picked_up_until_stable(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    job = data_dir / "in" / "copying"
    job.mkdir(parents=True)
    video = job / "v0.mp4"
    proc = start_watch(data_dir, daemon_env, NEUROPOSE_SETTLE_SECONDS="1.5")
    try:
        rng = np.random.default_rng(7)
        chunks = [rng.integers(0, 256, 64 * 4, dtype=np.uint8).tobytes() for _ in range(20)]
        t_end = time.monotonic() + 5.0
        with video.open("ab") as f:
            for chunk in chunks:  # 20 appends over ~5 s
                f.write(chunk)
                f.flush()
                time.sleep(0.25)
                entry = read_status(data_dir).jobs.get("copying")
                assert entry is None or entry.state is JobState.QUEUED, "picked up while writing"
        assert time.monotonic() >= t_end - 0.5
        wait_for(
            lambda: (data_dir / "out" / "copying" / "results.json").is_file(),
            timeout=30,
            what="results",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    results = load_model(data_dir / "out" / "copying" / "results.json", JobResults)
    assert results.videos[0].num_frames == 80  # the complete file, not a prefix
    np.testing.assert_array_equal(results.videos[0].poses3d, expected(video))
