"""The Ray executor runs several queued jobs at once (one-video jobs fill the pool).

Concurrency is observed, not timed: the test polls ``workers.json`` and the
jobs' ``out/<job>/status.json`` while the daemon runs. Slow (starts Ray).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interfacer.fake_processor import expected, write_fake_video
from tests.interfacer.test_ray_executor import (
    FAKE,
    RECORDING,
    run_daemon,
    settings_for,
    videos_json,
)

from neuropose.datadir.status import read_job_status
from neuropose.errors import InvalidDocumentError
from neuropose.interfacer import Interfacer, RunSummary, build_executor
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.schemas.workers import WorkersFile

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A private Ray instance for this module (4 logical CPUs, no dashboard)."""
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def one_video_jobs(data_dir: Path, frames: dict[str, int]) -> None:
    """One fake video per job, named after its job (``in/<job>/<job>.mp4``)."""
    for j, (job, n) in enumerate(frames.items()):
        write_fake_video(data_dir / "in" / job / f"{job}.mp4", n, seed=7 + j)


class Watcher:
    """Polls the data directory while a daemon runs on a thread."""

    def __init__(self, data_dir: Path, settings: Any, model: str) -> None:
        self.data_dir = data_dir
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, args=(settings, model))
        self.thread.start()

    def _run(self, settings: Any, model: str) -> None:
        try:
            self.outcome["summary"] = run_daemon(settings, model)
        except BaseException as exc:  # reported by finish()
            self.outcome["error"] = exc

    def workers(self) -> WorkersFile | None:
        path = self.data_dir / "workers.json"
        try:
            return load_model(path, WorkersFile) if path.is_file() else None
        except InvalidDocumentError:
            return None

    def processing(self) -> set[str]:
        """Jobs whose live status file says ``processing`` now."""
        jobs = set()
        for path in (self.data_dir / "out").glob("*/status.json"):
            try:
                entry = load_model(path, JobStatusEntry)
            except (InvalidDocumentError, FileNotFoundError):
                continue
            if entry.state is JobState.PROCESSING:
                jobs.add(entry.job_id)
        return jobs

    def finish(self, timeout: float = 240) -> RunSummary:
        self.thread.join(timeout=timeout)
        assert not self.thread.is_alive(), "the daemon did not finish"
        assert "error" not in self.outcome, self.outcome.get("error")
        summary: RunSummary = self.outcome["summary"]
        return summary


def test_six_one_video_jobs_run_at_the_same_time_with_equal_results(
    tmp_path: Path, local_ray: None
) -> None:
    frames = {f"job{i}": 60 + 7 * i for i in range(6)}
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    one_video_jobs(local_dir, frames)
    one_video_jobs(ray_dir, frames)
    local = run_daemon(settings_for(local_dir), FAKE)
    assert sorted(local.completed) == sorted(frames)

    settings = settings_for(ray_dir, executor="ray", ray_workers=3)
    watcher = Watcher(ray_dir, settings, RECORDING)  # 20 ms a frame, on the actors
    busy_jobs: set[str] = set()  # most distinct jobs seen busy on workers at one moment
    processing: set[str] = set()  # most jobs seen processing in their status files at once
    while watcher.thread.is_alive():
        doc = watcher.workers()
        if doc is not None:
            now = {w.job for w in doc.workers if w.state == "busy" and w.job}
            busy_jobs = max(busy_jobs, now, key=len)
        processing = max(processing, watcher.processing(), key=len)
        time.sleep(0.02)
    summary = watcher.finish()

    assert sorted(summary.completed) == sorted(frames)
    assert summary.failed == summary.interrupted == []
    assert len(busy_jobs) >= 2, busy_jobs
    assert len(processing) >= 2, processing
    for job, n in frames.items():
        assert videos_json(ray_dir, job) == videos_json(local_dir, job)
        pred = load_model(ray_dir / "out" / job / "results.json", JobResults).videos[0]
        np.testing.assert_array_equal(pred.poses3d, expected(ray_dir / "in" / job / f"{job}.mp4"))
        entry = read_job_status(ray_dir, job)
        assert entry is not None and entry.state is JobState.COMPLETED
        assert entry.attempts == 1 and entry.frames_done == n
    calls = (tmp_path / "calls.log").read_text().split("\n")
    assert sorted(line for line in calls if line) == sorted(f"{job}.mp4 0" for job in frames)
    workers = load_model(ray_dir / "workers.json", WorkersFile)
    assert sum(w.videos_done for w in workers.workers) == 6
    assert sum(1 for w in workers.workers if w.videos_done) >= 2  # the pool was shared


def test_a_killed_worker_while_three_jobs_run_completes_each_job_once(
    tmp_path: Path, local_ray: None
) -> None:
    frames = {"a": 150, "b": 150, "c": 150}
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    one_video_jobs(local_dir, frames)
    one_video_jobs(ray_dir, frames)
    run_daemon(settings_for(local_dir), FAKE)

    settings = settings_for(ray_dir, executor="ray", ray_workers=3)
    watcher = Watcher(ray_dir, settings, RECORDING)
    victim: tuple[int, str, str] | None = None
    deadline = time.monotonic() + 120
    while victim is None and watcher.thread.is_alive() and time.monotonic() < deadline:
        doc = watcher.workers()
        busy = [w for w in doc.workers if w.state == "busy"] if doc is not None else []
        if len({w.job for w in busy}) == 3:  # three jobs on three actors
            late = [w for w in busy if w.frames_done >= 12 and w.pid and w.job and w.video]
            if late:
                victim = (late[0].pid, late[0].job, late[0].video)  # type: ignore[assignment]
        time.sleep(0.02)
    assert victim is not None, "three jobs were never busy at once"
    pid, job, video = victim
    os.kill(pid, signal.SIGKILL)
    summary = watcher.finish()

    assert sorted(summary.completed) == ["a", "b", "c"]  # each exactly once
    assert summary.failed == summary.interrupted == []
    for name in frames:
        assert videos_json(ray_dir, name) == videos_json(local_dir, name)
        entry = read_job_status(ray_dir, name)
        assert entry is not None and entry.state is JobState.COMPLETED
        assert entry.attempts == (2 if name == job else 1)
    calls = [line for line in (tmp_path / "calls.log").read_text().split("\n") if line]
    starts = [int(line.split()[1]) for line in calls if line.startswith(video + " ")]
    assert len(starts) == 2 and starts[0] == 0 and starts[1] >= 10, calls
    assert sorted(line for line in calls if not line.startswith(video + " ")) == sorted(
        f"{n}.mp4 0" for n in frames if n != job
    )
    entry = read_job_status(ray_dir, job)
    assert entry is not None
    first, second = entry.history
    assert first.outcome is JobState.INTERRUPTED and f"pid {pid}" in (first.error or "")
    assert second.outcome is JobState.COMPLETED


def test_a_stop_while_three_jobs_run_interrupts_each_and_the_next_start_resumes(
    tmp_path: Path, local_ray: None
) -> None:
    frames = {"a": 150, "b": 150, "c": 150}
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    one_video_jobs(local_dir, frames)
    one_video_jobs(ray_dir, frames)
    run_daemon(settings_for(local_dir), FAKE)
    settings = settings_for(ray_dir, executor="ray", ray_workers=3)
    daemon = Interfacer(settings, lambda: build_executor(settings, RECORDING), once=True)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            daemon.run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while thread.is_alive() and time.monotonic() < deadline:
        doc = (
            load_model(ray_dir / "workers.json", WorkersFile)
            if (ray_dir / "workers.json").is_file()
            else None
        )
        busy = [w for w in doc.workers if w.state == "busy"] if doc is not None else []
        if len({w.job for w in busy}) == 3 and all(w.frames_done >= 12 for w in busy):
            break
        time.sleep(0.02)
    daemon.stop.event.set()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert type(outcome.get("error")).__name__ == "DaemonStopped"
    assert sorted(daemon.summary.interrupted) == ["a", "b", "c"]
    for name in frames:
        entry = read_job_status(ray_dir, name)
        assert entry is not None and entry.state is JobState.INTERRUPTED
        assert (ray_dir / "out" / name / "partial" / f"{name}.mp4.ckpt.json").is_file()

    summary = run_daemon(settings, RECORDING)
    assert sorted(summary.completed) == ["a", "b", "c"]
    for name in frames:
        assert videos_json(ray_dir, name) == videos_json(local_dir, name)
    calls = [line.split() for line in (tmp_path / "calls.log").read_text().split("\n") if line]
    assert sorted(video for video, start in calls if start == "0") == [
        f"{n}.mp4" for n in sorted(frames)
    ]  # each video started from frame 0 once, then resumed from its checkpoint
    resumed = [int(start) for _, start in calls if start != "0"]
    assert len(resumed) == 3 and min(resumed) >= 10, calls
