"""The Ray executor on a local Ray instance: same results as local, faults, both transfers.

Every test here starts Ray (``ray.init`` with a few CPUs, no dashboard) and
is marked slow; ``tests/interfacer/test_ray_cli.py`` holds the fast checks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interfacer.fake_processor import expected, write_fake_video

from neuropose.config import Settings, load_settings
from neuropose.datadir.status import read_job_status
from neuropose.interfacer import Interfacer, RunSummary, build_executor
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState
from neuropose.schemas.workers import WorkersFile

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

FAKE = "python:tests.interfacer.fake_processor:make_processor"
SLOW = "python:tests.interfacer.ray_fakes:make_slow"
RECORDING = "python:tests.interfacer.ray_fakes:make_recording"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A private Ray instance for this module (4 logical CPUs, no dashboard)."""
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    flags: dict[str, Any] = {
        "data_dir": data_dir,
        "settle_seconds": 0.0,
        "poll_interval_s": 0.05,
        "checkpoint_every_frames": 5,
        "render_after_job": False,
        "ray_cpus_per_worker": 0.5,
    }
    flags.update(overrides)
    return load_settings(None, flags, environ={}).settings


def make_queue(data_dir: Path, jobs: dict[str, tuple[int, ...]]) -> None:
    """Jobs of fake videos (``in/<job>/v<i>.mp4``, deterministic content)."""
    for j, (job, frames) in enumerate(jobs.items()):
        for i, n in enumerate(frames):
            write_fake_video(data_dir / "in" / job / f"v{i}.mp4", n, seed=100 * j + i)


def run_daemon(settings: Settings, model: str) -> RunSummary:
    return Interfacer(settings, lambda: build_executor(settings, model), once=True).run()


def videos_json(data_dir: Path, job: str) -> list[dict[str, Any]]:
    """The ``videos`` of ``results.json`` as written (JSON: arrays compared exactly)."""
    doc = json.loads((data_dir / "out" / job / "results.json").read_text())
    videos: list[dict[str, Any]] = doc["videos"]
    return videos


QUEUE = {"walk1": (23, 17, 11), "walk2": (9, 30), "sit": (14,)}  # 6 videos


@pytest.mark.parametrize("transfer", ["path", "bytes"])
def test_six_video_queue_equals_the_local_executor(
    tmp_path: Path, local_ray: None, transfer: str
) -> None:
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    make_queue(local_dir, QUEUE)
    make_queue(ray_dir, QUEUE)

    local = run_daemon(settings_for(local_dir), FAKE)
    settings = settings_for(ray_dir, executor="ray", ray_workers=3, ray_video_transfer=transfer)
    remote = run_daemon(settings, FAKE)

    assert sorted(local.completed) == sorted(remote.completed) == sorted(QUEUE)
    assert remote.failed == remote.interrupted == []
    for job, frames in QUEUE.items():
        ray_videos = videos_json(ray_dir, job)
        assert ray_videos == videos_json(local_dir, job)  # bit-identical arrays (base64)
        assert [v["video"] for v in ray_videos] == [f"v{i}.mp4" for i in range(len(frames))]
        results = load_model(ray_dir / "out" / job / "results.json", JobResults)
        for i, pred in enumerate(results.videos):
            truth = expected(ray_dir / "in" / job / f"v{i}.mp4")
            np.testing.assert_array_equal(pred.poses3d, truth)
        entry = read_job_status(ray_dir, job)
        assert entry is not None and entry.state is JobState.COMPLETED
        assert entry.attempts == 1 and entry.frames_done == sum(frames)
        # With bytes the daemon cannot probe the files: expected frames come from progress.
        assert entry.frames_expected == sum(frames)
        assert [v.frames_expected for v in entry.videos] == list(frames)
    workers = load_model(ray_dir / "workers.json", WorkersFile)
    assert workers.transfer == transfer
    assert [w.slot for w in workers.workers] == [0, 1, 2]
    assert {w.state for w in workers.workers} == {"stopped"}
    assert sum(w.videos_done for w in workers.workers) == 6
    assert sum(w.frames_total for w in workers.workers) == sum(map(sum, QUEUE.values()))
    assert all(w.pid and w.node for w in workers.workers)


def _busy_worker(
    data_dir: Path, min_frames: int, deadline: float, daemon: threading.Thread
) -> tuple[int, str]:
    """(pid, video) of a worker past ``min_frames`` frames of its video."""
    path = data_dir / "workers.json"
    while time.monotonic() < deadline and daemon.is_alive():
        if path.is_file():
            doc = load_model(path, WorkersFile)
            for w in doc.workers:
                if w.state == "busy" and w.frames_done >= min_frames and w.pid and w.video:
                    return w.pid, w.video
        time.sleep(0.05)
    raise AssertionError("no worker got busy")


@pytest.mark.parametrize("transfer", ["path", "bytes"])
def test_killed_worker_reruns_its_video_from_the_checkpoint(
    tmp_path: Path, local_ray: None, transfer: str
) -> None:
    queue = {"walk": (120, 120)}
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    make_queue(local_dir, queue)
    make_queue(ray_dir, queue)
    run_daemon(settings_for(local_dir), FAKE)
    settings = settings_for(ray_dir, executor="ray", ray_workers=2, ray_video_transfer=transfer)
    outcome: dict[str, Any] = {}

    def daemon() -> None:
        try:
            outcome["summary"] = run_daemon(settings, RECORDING)
        except BaseException as exc:  # reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=daemon)
    thread.start()
    # Past the checkpoint at frame 10 (every 5 frames; 20 ms a frame).
    pid, video = _busy_worker(ray_dir, 12, time.monotonic() + 120, thread)
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=180)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    summary = outcome["summary"]
    assert summary.completed == ["walk"] and summary.failed == []

    # Exactly once, equal to the local executor.
    assert videos_json(ray_dir, "walk") == videos_json(local_dir, "walk")
    # The killed video ran twice: from frame 0, then from a checkpoint (not from 0).
    calls = (tmp_path / "calls.log").read_text().split("\n")
    starts = [int(line.split()[1]) for line in calls if line.startswith(video + " ")]
    assert len(starts) == 2 and starts[0] == 0 and starts[1] >= 10, calls
    other = [line for line in calls if line and not line.startswith(video + " ")]
    assert len(other) == 1  # the other video was not re-run
    # The lost attempt is in the job's history.
    entry = read_job_status(ray_dir, "walk")
    assert entry is not None and entry.state is JobState.COMPLETED
    assert entry.attempts == 2
    first, second = entry.history
    assert first.outcome is JobState.INTERRUPTED
    assert first.error is not None and first.error.startswith("WorkerLostError: worker")
    assert f"pid {pid}" in first.error and video in first.error
    assert second.outcome is JobState.COMPLETED
    # The slot got a new actor; the dashboard file says which one was lost.
    workers = load_model(ray_dir / "workers.json", WorkersFile)
    assert len(workers.workers) == 2 and pid not in {w.pid for w in workers.workers}
    lost = [w for w in workers.workers if w.restarts]
    assert len(lost) == 1 and lost[0].error is not None and f"pid {pid}" in lost[0].error


def test_a_raising_video_fails_its_job_and_the_pool_goes_on(
    tmp_path: Path, local_ray: None
) -> None:
    data_dir = tmp_path / "data"
    make_queue(data_dir, {"a_poison": (8,), "b_fine": (12, 6)})
    (data_dir / "in" / "a_poison" / "v1.mp4").write_bytes(b"BAD" + bytes(200))
    settings = settings_for(data_dir, executor="ray", ray_workers=2)
    summary = run_daemon(settings, FAKE)

    assert summary.failed == ["a_poison"] and summary.completed == ["b_fine"]
    entry = read_job_status(data_dir, "a_poison")
    assert entry is not None and entry.state is JobState.FAILED
    # The original error type, raised on the actor, recorded by the daemon.
    assert entry.error is not None and entry.error.startswith("FakeUndecodableError: v1.mp4")
    assert (data_dir / "failed" / "a_poison").is_dir()
    for i, truth_video in enumerate(sorted((data_dir / "in" / "b_fine").glob("*.mp4"))):
        pred = load_model(data_dir / "out" / "b_fine" / "results.json", JobResults).videos[i]
        np.testing.assert_array_equal(pred.poses3d, expected(truth_video))
    # No actor was lost or replaced; one of them recorded the failure.
    workers = load_model(data_dir / "workers.json", WorkersFile)
    assert [w.slot for w in workers.workers] == [0, 1]
    assert [w.restarts for w in workers.workers] == [0, 0]
    errors = [w.error for w in workers.workers if w.error]
    assert len(errors) == 1 and errors[0].startswith("FakeUndecodableError")
    assert sum(w.videos_done for w in workers.workers) == 3  # a_poison/v0, b_fine/v0, v1


def test_a_stop_checkpoints_on_the_actors_and_the_next_start_resumes(
    tmp_path: Path, local_ray: None
) -> None:
    queue = {"walk": (120, 120)}
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    make_queue(local_dir, queue)
    make_queue(ray_dir, queue)
    run_daemon(settings_for(local_dir), FAKE)
    settings = settings_for(ray_dir, executor="ray", ray_workers=2)
    daemon = Interfacer(settings, lambda: build_executor(settings, RECORDING), once=True)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            daemon.run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    _busy_worker(ray_dir, 12, time.monotonic() + 120, thread)
    daemon.stop.event.set()
    thread.join(timeout=120)
    assert type(outcome.get("error")).__name__ == "DaemonStopped"
    entry = read_job_status(ray_dir, "walk")
    assert entry is not None and entry.state is JobState.INTERRUPTED
    assert list((ray_dir / "out" / "walk" / "partial").glob("*.ckpt.json"))

    summary = run_daemon(settings, RECORDING)
    assert summary.completed == ["walk"]
    assert videos_json(ray_dir, "walk") == videos_json(local_dir, "walk")
    calls = (tmp_path / "calls.log").read_text().split()
    resumed = [int(s) for s in calls[1::2][2:]]
    assert resumed and all(s >= 10 for s in resumed), calls
    shutil.rmtree(ray_dir / "in")
