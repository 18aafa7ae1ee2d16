"""One ``neuropose live`` session: its folder, its recording and its status file.

A session lives in ``<data_dir>/live/<session>/``
(:class:`~neuropose.datadir.layout.LivePaths`):

* ``live.json`` (:class:`~neuropose.schemas.live.LiveStatus`), rewritten
  atomically about once a second and once more at the end;
* with recording on, ``poses.jsonl`` (one line per predicted frame:
  ``{"frame", "t", "pose"}``, pose ``(J, 3)`` mm with ``null`` for NaN),
  ``signals.jsonl`` (``{"frame", "t", "values": {name: value}}``) and
  ``events.jsonl`` (one :class:`~neuropose.schemas.live.LiveEvent` per
  line), each finalised atomically at the stop
  (:class:`~neuropose.live.recording.JsonlRecording`);
* ``video.mp4`` only with ``record_video`` (privacy: frames are never
  stored otherwise).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.datadir.layout import DataDir, LivePaths, check_job_name
from neuropose.errors import InputError
from neuropose.io import write_model_atomic
from neuropose.live.events import Tick
from neuropose.live.loop import LoopStats
from neuropose.live.recording import JsonlRecording
from neuropose.live.states import StateMachine
from neuropose.schemas.live import LiveEvent, LiveStatus
from neuropose.timefmt import utc_iso

__all__ = ["Recorder", "SessionExistsError", "StatusWriter", "open_session"]

logger = logging.getLogger(__name__)


class SessionExistsError(InputError):
    """The session folder already holds files (exit code 2)."""


def open_session(data_dir: Path | str, name: str | None) -> LivePaths:
    """Create ``live/<name>/`` (default name ``live-<UTC time>``) and return its paths.

    Raises
    ------
    InvalidJobNameError
        ``name`` cannot name a folder.
    SessionExistsError
        The folder exists and is not empty.
    """
    if name is None:
        name = "live-" + utc_iso().replace(":", "").replace("-", "")[:15]
    check_job_name(name, source="--session")
    paths = DataDir(data_dir).live_session(name)
    if paths.folder.is_dir() and any(paths.folder.iterdir()):
        raise SessionExistsError(
            f"live session {name!r} already exists in {paths.folder.parent}",
            hint="choose another --session NAME (or delete the old folder)",
        )
    paths.folder.mkdir(parents=True, exist_ok=True)
    return paths


class Recorder:
    """Writes poses, signals and events of the recording (a loop sink).

    Parameters
    ----------
    paths : LivePaths
        The session's files.
    record_video : bool
        Also encode the frames into ``video.mp4``.
    fps : float or None
        Frame rate of that video (30 when unknown).
    """

    def __init__(self, paths: LivePaths, *, record_video: bool = False, fps: float | None = None):
        self.paths = paths
        self.poses = JsonlRecording(paths.poses)
        self.signals = JsonlRecording(paths.signals)
        self.events_file = JsonlRecording(paths.events)
        self.record_video = record_video
        self.fps = fps or 30.0
        self._video: object | None = None

    def frame(self, tick: Tick, latency_s: float) -> None:
        """Write one predicted frame's pose and signal values."""
        self.poses.write({"frame": tick.index, "t": tick.time_s, "pose": tick.pose})
        self.signals.write({"frame": tick.index, "t": tick.time_s, "values": tick.values})

    def video_frame(self, rgb: np.ndarray) -> None:
        """Append a frame to ``video.mp4`` (only with ``record_video``)."""
        if not self.record_video:
            return
        import cv2

        from neuropose.video.writer import VideoWriter

        if self._video is None:
            h, w = rgb.shape[:2]
            self._video = VideoWriter(self.paths.video, (w, h), self.fps)
        assert isinstance(self._video, VideoWriter)
        self._video.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def events(self, events: Sequence[LiveEvent]) -> None:
        """Write events."""
        for ev in events:
            self.events_file.write(ev.model_dump(mode="json"))

    def tick(self, stats: LoopStats, *, final: bool = False) -> None:
        """Nothing per tick (the files are finalised by :meth:`finalise`)."""

    def finalise(self) -> list[Path]:
        """Make every file visible (atomic rename each); the paths written."""
        out = []
        for rec in (self.poses, self.signals, self.events_file):
            rec.finalise()
            out.append(rec.path)
        if self._video is not None:
            self._video.close()  # type: ignore[attr-defined]
            out.append(self.paths.video)
        return out

    def discard(self) -> None:
        """Remove every temporary file (a failed session leaves no partial recording)."""
        for rec in (self.poses, self.signals, self.events_file):
            rec.discard()
        if self._video is not None:
            self._video.abort()  # type: ignore[attr-defined]


class StatusWriter:
    """Keeps ``live.json`` current (a loop sink; written at most every ``every_s``).

    Parameters
    ----------
    paths : LivePaths
        The session's files.
    machine : StateMachine
        Its state is reported.
    source : str
        The source as given.
    plot : sequence of str, optional
        Signals whose newest ``window_s`` seconds are kept in the status
        (default: every scalar output, at most 8).
    window_s : float
        Seconds of signal history in the status.
    every_s : float
        Shortest interval between two writes.
    spec_sha256 : str, optional
        Recorded in the status.
    """

    def __init__(
        self,
        paths: LivePaths,
        machine: StateMachine,
        source: str,
        *,
        plot: Sequence[str] | None = None,
        window_s: float = 10.0,
        every_s: float = 1.0,
        spec_sha256: str | None = None,
    ) -> None:
        self.paths = paths
        self.machine = machine
        self.source = source
        self.plot = list(plot) if plot else None
        self.window_s = window_s
        self.every_s = every_s
        self.spec_sha256 = spec_sha256
        self.recording = False
        self.error: str | None = None
        self._series: dict[str, deque[tuple[float, float | None]]] = {}
        self._events: deque[LiveEvent] = deque(maxlen=20)
        self._last_write = -math.inf
        self.writes = 0
        self._writer = _BackgroundWriter(self._write_snapshot)

    def frame(self, tick: Tick, latency_s: float) -> None:
        """Append the plotted signals' values of this frame to their windows."""
        if self.plot is None:
            self.plot = [k for k, v in tick.values.items() if np.asarray(v).size == 1][:8]
        for name in self.plot:
            v = tick.values.get(name)
            if v is None:
                continue
            x = float(np.asarray(v).reshape(-1)[0]) if np.asarray(v).size == 1 else math.nan
            series = self._series.setdefault(name, deque())
            series.append((tick.time_s, x if math.isfinite(x) else None))
            while series and series[0][0] < tick.time_s - self.window_s:
                series.popleft()

    def events(self, events: Sequence[LiveEvent]) -> None:
        """Remember the newest events."""
        self._events.extend(events)

    def tick(self, stats: LoopStats, *, final: bool = False) -> None:
        """Write ``live.json`` when ``every_s`` has passed (always when ``final``).

        Periodic writes happen on a background thread (the loop only takes a
        snapshot), so a slow ``fsync`` never delays a frame; the final write
        waits for them and runs on the caller's thread.
        """
        if final:
            self._writer.close()
            self.write(stats)
            return
        now = time.monotonic()
        if now - self._last_write < self.every_s:
            return
        self._last_write = now
        self._writer.submit(self._snapshot(stats))

    def _snapshot(self, stats: LoopStats) -> dict[str, Any]:
        elapsed = stats.elapsed_s
        span = (
            (stats.last_time_s - stats.first_time_s)
            if stats.first_time_s is not None and stats.last_time_s is not None
            else 0.0
        )
        med, p95 = stats.latency_ms(last=1000)
        return {
            "session": self.paths.name,
            "state": self.machine.state,
            "source": self.source,
            "source_fps": (stats.frames_in - 1) / span
            if span > 0 and stats.frames_in > 1
            else None,
            "predict_fps": stats.frames_predicted / elapsed if elapsed > 0 else None,
            "frames_in": stats.frames_in,
            "frames_predicted": stats.frames_predicted,
            "frames_dropped": stats.frames_dropped,
            "stale_ticks": stats.stale_ticks,
            "elapsed_s": elapsed,
            "latency_median_ms": med,
            "latency_p95_ms": p95,
            "signals": {k: list(v) for k, v in self._series.items()},
            "events": list(self._events),
            "spec_sha256": self.spec_sha256,
            "recording": self.recording,
            "error": self.error,
        }

    def _write_snapshot(self, snapshot: dict[str, Any]) -> LiveStatus:
        status = LiveStatus(**snapshot, updated_at=utc_iso())
        write_model_atomic(self.paths.status, status)
        self.writes += 1
        return status

    def write(self, stats: LoopStats) -> LiveStatus:
        """Write ``live.json`` now, on this thread; the status written."""
        return self._write_snapshot(self._snapshot(stats))


class _BackgroundWriter:
    """Runs ``write(item)`` on one thread for the newest submitted item (older ones are skipped).

    A failed write is logged and the next one tried; :meth:`close` waits for
    the pending write and stops the thread.
    """

    def __init__(self, write: Callable[[Any], object]) -> None:
        self._write = write
        self._cv = threading.Condition()
        self._item: Any = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, item: Any) -> None:
        with self._cv:
            self._item = item
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="neuropose-live-status", daemon=True
                )
                self._thread.start()
            self._cv.notify_all()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._item is not None or self._closed)
                if self._item is None:
                    return
                item, self._item, self._busy = self._item, None, True
            try:
                self._write(item)
            except Exception as exc:  # the final, synchronous write reports for real
                logger.warning("live.json not updated: %s", exc)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._item = None  # the final write supersedes a pending one
            self._cv.wait_for(lambda: not self._busy)
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
