"""The live status of the job being processed, and the heartbeat that writes it.

:class:`LiveJob` holds the job's :class:`~neuropose.schemas.status.JobStatusEntry`
under a lock (the processing thread updates it, the heartbeat thread writes
it). :class:`Heartbeat` is a context manager: inside the block a thread
rewrites ``out/<job>/status.json`` every ``interval_s`` seconds (so readers
can tell a live daemon from a stuck one), and leaving the block, however it
is left, stops and joins that thread before anything else is written.

Examples
--------
>>> from neuropose.schemas.status import JobState, JobStatusEntry
>>> live = LiveJob(JobStatusEntry(job_id="a", state=JobState.PROCESSING, last_update="t"))
>>> written = []
>>> with Heartbeat(live, written.append, interval_s=60):
...     pass
>>> written  # stopped before its first beat
[]
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from neuropose.errors import NeuroPoseError
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry, VideoProgress
from neuropose.timefmt import utc_now

__all__ = ["Heartbeat", "LiveJob"]

logger = logging.getLogger(__name__)

#: Progress callbacks write the live file at most this often (seconds).
PROGRESS_WRITE_INTERVAL_S = 0.5


class LiveJob:
    """Mutable progress of the job being processed (shared with the heartbeat).

    Parameters
    ----------
    entry : JobStatusEntry
        The job's entry at the start of the attempt (state ``processing``).

    Attributes
    ----------
    entry : JobStatusEntry
        The current entry; replace it only under :attr:`lock`.
    lock : threading.Lock
        Guards :attr:`entry` and the counters.
    """

    def __init__(self, entry: JobStatusEntry) -> None:
        self.entry = entry
        self.lock = threading.Lock()
        self.attempt_frames = 0
        self._attempt_frames: dict[str, int] = {}  # per video (several may run at once)
        self.attempt_start = time.monotonic()
        self.last_write = 0.0

    def stamp(self) -> JobStatusEntry:
        """The entry with ``last_update`` = now, recorded as written now."""
        with self.lock:
            self.entry = self.entry.model_copy(update={"last_update": utc_now()})
            self.last_write = time.monotonic()
            return self.entry

    def write_due(self) -> bool:
        """Whether the last write is older than :data:`PROGRESS_WRITE_INTERVAL_S`."""
        with self.lock:
            return time.monotonic() - self.last_write >= PROGRESS_WRITE_INTERVAL_S

    def update(self, **changes: Any) -> None:
        """Replace fields of the entry."""
        with self.lock:
            self.entry = self.entry.model_copy(update=changes)

    def set_videos(self, progress: list[VideoProgress]) -> None:
        """Declare the job's videos; ``frames_expected`` is their sum when all are known."""
        known = [p.frames_expected for p in progress]
        total = sum(k for k in known if k is not None) if None not in known else None
        self.update(videos=tuple(progress), frames_expected=total, frames_done=0)

    def new_attempt(self, reason: str) -> int:
        """Close the running attempt record as ``interrupted`` with ``reason``; open the next.

        Used when an executor lost the worker of a video (the job goes on,
        its history counts the lost attempt). Returns the new attempt number.
        """
        now = utc_now()
        with self.lock:
            history = list(self.entry.history)
            if history and history[-1].outcome is None:
                history[-1] = history[-1].model_copy(
                    update={"finished_at": now, "outcome": JobState.INTERRUPTED, "error": reason}
                )
            attempt = self.entry.attempts + 1
            history.append(AttemptRecord(attempt=attempt, started_at=now, pid=os.getpid()))
            self.entry = self.entry.model_copy(
                update={"attempts": attempt, "history": tuple(history), "started_at": now}
            )
            return attempt

    def update_video(self, name: str, **changes: Any) -> None:
        """Replace fields of video ``name``; the job's ``frames_done`` follows."""
        with self.lock:
            self._update_video(name, **changes)

    def _update_video(self, name: str, **changes: Any) -> None:
        videos = tuple(
            v.model_copy(update=changes) if v.name == name else v for v in self.entry.videos
        )
        done = sum(v.frames_done for v in videos)
        known = [v.frames_expected for v in videos]
        total = sum(k for k in known if k is not None) if None not in known else None
        self.entry = self.entry.model_copy(
            update={"videos": videos, "frames_done": done, "frames_expected": total}
        )

    def progress(
        self, name: str, frames_done: int, frames_expected: int | None, attempt_frames: int
    ) -> None:
        """Record a video's progress and this attempt's speed (fps) and ETA.

        ``attempt_frames`` counts the frames of video ``name`` processed in
        this attempt; the job's speed is the sum over its videos (several run
        at once on the Ray executor) divided by the attempt's wall time.
        """
        with self.lock:
            self._attempt_frames[name] = attempt_frames
            self.attempt_frames = sum(self._attempt_frames.values())
            changes: dict[str, Any] = {"frames_done": frames_done}
            if frames_expected is not None:
                changes["frames_expected"] = frames_expected
            self._update_video(name, **changes)
            elapsed = time.monotonic() - self.attempt_start
            frames = self.attempt_frames
            fps = frames / elapsed if elapsed > 0 and frames > 0 else None
            eta = None
            if fps and self.entry.frames_expected is not None:
                eta = max(0.0, (self.entry.frames_expected - self.entry.frames_done) / fps)
            self.entry = self.entry.model_copy(update={"fps": fps, "eta_s": eta})


class Heartbeat:
    """Context manager: rewrite the live status every ``interval_s`` seconds inside the block.

    Parameters
    ----------
    live : LiveJob
        The job whose entry is written.
    write : callable
        Writes one entry (``out/<job>/status.json``). A failing write is
        skipped: the next progress write (which stops the daemon on a real
        failure) or the next beat tries again.
    interval_s : float
        Seconds between beats.
    """

    def __init__(
        self, live: LiveJob, write: Callable[[JobStatusEntry], None], *, interval_s: float
    ) -> None:
        self._live = live
        self._write = write
        self._interval_s = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{live.entry.job_id}", daemon=True
        )

    def _beat(self) -> None:
        while not self._done.wait(self._interval_s):
            with contextlib.suppress(OSError, NeuroPoseError):
                self._write(self._live.stamp())

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
