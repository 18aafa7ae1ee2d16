"""Several jobs at once (the Ray pool): each attempt on its own thread, outcomes to the daemon.

With an executor that runs several videos at once (``parallel_videos`` > 1,
the Ray pool), the daemon keeps up to that many videos in flight across the
queue, oldest job first: a job is started only while the videos still to run
in the running jobs leave a slot free (:meth:`JobSlots.has_room`). That rule
reads the jobs' live entries, which mark a video completed a moment before its
processor call returns; so the processor calls themselves also pass through
one gate of ``capacity`` places shared by every job (:class:`GatedProcessor`),
which makes "never more videos in flight than the pool holds" exact.

Who writes what:

* the daemon's main thread makes every transition (:class:`JobBook`: start,
  complete, fail, interrupt, the aggregate ``status.json``, ``results.json``
  bookkeeping) and takes the outcomes from :meth:`JobSlots.collect`;
* a job's thread runs :class:`~neuropose.interfacer.jobrun.JobRun` (its own
  ``partial/`` files and ``results.json``) and writes only its own live
  ``out/<job>/status.json`` through ``JobBook.write_job_file``, which
  serialises every status write of the process under one lock.

Examples
--------
>>> slots = JobSlots(capacity=2)
>>> slots.has_room(), slots.running
(True, {})
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import JobPaths
from neuropose.interfacer.discovery import list_videos
from neuropose.interfacer.heartbeat import LiveJob
from neuropose.interfacer.jobrun import JobRun
from neuropose.interfacer.processor import VideoProcessor
from neuropose.schemas.predictions import JobResults, VideoPredictions
from neuropose.schemas.status import JobState

__all__ = ["GatedProcessor", "JobAttempt", "JobSlots"]


@dataclass
class JobAttempt:
    """One attempt at one job: its paths, live entry and run (built on the main thread)."""

    job_id: str
    paths: JobPaths
    live: LiveJob
    run: JobRun
    videos: int = field(default=1)  # videos of the job when it started (its demand)

    def remaining(self) -> int:
        """Videos of this attempt not completed yet (its claim on the pool)."""
        with self.live.lock:
            listed = self.live.entry.videos
        if not listed:
            return max(1, self.videos)
        return sum(1 for v in listed if v.state is not JobState.COMPLETED)


class GatedProcessor:
    """A :class:`VideoProcessor` whose ``process_video`` calls hold one of ``gate``'s places.

    Every job's :class:`JobRun` gets the same gate, so at most ``capacity``
    videos are inside the processor at once, whichever jobs they belong to.
    Everything else is the wrapped processor's.

    Examples
    --------
    >>> class Echo:
    ...     checkpoint_model = None
    ...     parallel_videos = 2
    ...     def process_video(self, path, **kw):
    ...         return path
    >>> gated = GatedProcessor(Echo(), threading.BoundedSemaphore(2))
    >>> gated.process_video("v.mp4"), gated.parallel_videos
    ('v.mp4', 2)
    """

    def __init__(self, processor: VideoProcessor, gate: threading.BoundedSemaphore) -> None:
        self._processor = processor
        self._gate = gate
        self.checkpoint_model = processor.checkpoint_model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._processor, name)

    def expected_frames(self, path: Path) -> int | None:
        return self._processor.expected_frames(path)

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        with self._gate:
            return self._processor.process_video(path, **kwargs)


#: What a job's thread hands back: the results, or what the attempt raised.
Outcome = JobResults | BaseException


class JobSlots:
    """Attempts of several jobs running at once, each on its own thread.

    Parameters
    ----------
    capacity : int
        Videos the executor runs at once (``parallel_videos``).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._gate = threading.BoundedSemaphore(capacity)
        self.running: dict[str, JobAttempt] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._done: queue.Queue[tuple[JobAttempt, Outcome]] = queue.Queue()

    def demand(self) -> int:
        """Videos still to run in the running jobs."""
        return sum(a.remaining() for a in self.running.values())

    def has_room(self) -> bool:
        """Whether a slot of the pool would be left idle by the running jobs."""
        return self.demand() < self.capacity

    def start(self, attempt: JobAttempt, execute: Callable[[JobAttempt], JobResults]) -> None:
        """Run ``execute(attempt)`` on a new thread; its outcome goes to :meth:`collect`."""
        attempt.videos = len(list_videos(attempt.paths.input))
        attempt.run.processor = GatedProcessor(attempt.run.processor, self._gate)
        self.running[attempt.job_id] = attempt

        def target() -> None:
            outcome: Outcome
            try:
                outcome = execute(attempt)
            except BaseException as exc:  # handed to the main thread, which decides
                outcome = exc
            self._done.put((attempt, outcome))

        thread = threading.Thread(target=target, name=f"job-{attempt.job_id}", daemon=True)
        self._threads[attempt.job_id] = thread
        thread.start()

    def collect(self, timeout: float) -> list[tuple[JobAttempt, Outcome]]:
        """Finished attempts (waits up to ``timeout`` s for the first when none is ready)."""
        finished: list[tuple[JobAttempt, Outcome]] = []
        try:
            finished.append(
                self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait()
            )
            while True:
                finished.append(self._done.get_nowait())
        except queue.Empty:
            pass
        for attempt, _ in finished:
            self.running.pop(attempt.job_id, None)
            self._threads.pop(attempt.job_id).join()
        return finished

    def join(self) -> None:
        """Wait for every running thread (their outcomes are dropped)."""
        for thread in list(self._threads.values()):
            thread.join()
        self._threads.clear()
        self.running.clear()
