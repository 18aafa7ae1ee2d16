"""Several jobs at once (JobSlots) with a processor that runs videos in parallel, without Ray.

The processor counts the videos in flight; the first call waits until a
second one has entered, so "two jobs at once" is observed, not timed.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.interfacer.fake_processor import FakeProcessor

from neuropose.datadir.status import read_job_status
from neuropose.interfacer import Interfacer
from neuropose.schemas import VideoPredictions
from neuropose.schemas.status import JobState


class ParallelProcessor(FakeProcessor):
    """A thread-safe fake that runs ``parallel_videos`` videos at once and records them."""

    def __init__(self, parallel_videos: int) -> None:
        super().__init__(cost_s=0.002)
        self.parallel_videos = parallel_videos
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}  # job -> videos running now
        self.peak = 0  # most videos running at once
        self.peak_jobs = 0  # most distinct jobs running at once
        self.started: list[str] = []  # "job/video", in start order
        self.second = threading.Event()

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        job = path.parent.name
        with self.lock:
            self.in_flight[job] = self.in_flight.get(job, 0) + 1
            self.started.append(f"{job}/{path.name}")
            self.peak = max(self.peak, sum(self.in_flight.values()))
            self.peak_jobs = max(self.peak_jobs, sum(1 for n in self.in_flight.values() if n))
            if self.peak_jobs >= 2:
                self.second.set()
        try:
            self.second.wait(timeout=30)  # the first video waits for a second job's video
            return super().process_video(path, **kwargs)
        finally:
            with self.lock:
                self.in_flight[job] -= 1


def results_videos(data_dir: Path, job: str) -> list[dict[str, Any]]:
    doc = json.loads((data_dir / "out" / job / "results.json").read_text())
    videos: list[dict[str, Any]] = doc["videos"]
    return videos


def test_jobs_share_the_pool_oldest_first_within_capacity(
    tmp_path: Path,
    make_settings: Callable[..., Any],
    add_job: Callable[..., Path],
    data_dir: Path,
) -> None:
    jobs = {"j1": (30, 20, 25), "j2": (15,), "j3": (12,), "j4": (9, 14), "j5": (11,)}
    for seed, (job, frames) in enumerate(jobs.items()):
        add_job(job, frames, seed=seed)
    settings = make_settings()
    # The same inputs, processed one job at a time by the local path.
    shutil.copytree(data_dir / "in", tmp_path / "local" / "in")
    local = Interfacer(make_settings(data_dir=tmp_path / "local"), FakeProcessor, once=True)
    assert sorted(local.run().completed) == sorted(jobs)

    processor = ParallelProcessor(parallel_videos=4)
    summary = Interfacer(settings, lambda: processor, once=True).run()

    assert sorted(summary.completed) == sorted(jobs) and summary.failed == []
    assert processor.peak_jobs >= 2  # two jobs' videos ran at the same time
    assert processor.peak <= 4  # never more videos in flight than the pool holds
    # Each video ran once; jobs were started oldest first.
    assert sorted(processor.started) == sorted(
        f"{job}/v{i}.mp4" for job, frames in jobs.items() for i in range(len(frames))
    )
    for job, frames in jobs.items():
        assert results_videos(data_dir, job) == results_videos(tmp_path / "local", job)
        assert [v["video"] for v in results_videos(data_dir, job)] == [
            f"v{i}.mp4" for i in range(len(frames))
        ]
        entry = read_job_status(data_dir, job)
        assert entry is not None and entry.state is JobState.COMPLETED and entry.attempts == 1
        assert entry.frames_done == sum(frames)
    starts = [read_job_status(data_dir, job).history[0].started_at for job in jobs]  # type: ignore[union-attr]
    assert starts == sorted(starts)
