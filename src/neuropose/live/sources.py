"""Where live frames come from: a camera, a stream URL, a video file or a results file.

Every source hands the loop the newest frame it has not seen yet
(:meth:`Source.poll`) and says how many frames it skipped to get there (they
count as dropped). A file replayed at ``speed`` 1 releases frame *i* when
``(t_i - t_0) / speed`` seconds of wall time have passed since the start;
``speed`` 0 releases every frame in order, as fast as the loop takes them
(nothing is dropped). Capture times come from the source's clock: the
container's or results file's timestamps for files, the host's monotonic
clock at the moment a camera frame was read for cameras and streams.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuropose.analyzer.load import load_trial
from neuropose.errors import InputError
from neuropose.schemas import Skeleton

__all__ = [
    "CameraSource",
    "Capture",
    "ResultsReplay",
    "Source",
    "SourceError",
    "VideoReplay",
    "open_source",
]

#: Suffixes read as a results file (replayed poses) rather than a video.
_RESULTS_SUFFIXES = (".json",)


class SourceError(InputError):
    """A ``--source`` cannot be opened (exit code 2); the message names it."""


@dataclass
class Capture:
    """One frame of a source.

    Attributes
    ----------
    index : int
        Position in the source's frame sequence (0, 1, ...; gaps are drops).
    time_s : float
        Capture time on the source's clock, seconds.
    wall_s : float
        ``time.perf_counter()`` at which the frame became available (the
        start of the capture -> signal latency).
    rgb : ndarray (H, W, 3) uint8 or None
        The upright frame (video sources).
    pose : ndarray (J, 3) float64 or None
        The subject's joints, mm, NaN when absent (results replay).
    """

    index: int
    time_s: float
    wall_s: float
    rgb: np.ndarray | None = None
    pose: np.ndarray | None = None


class Source(ABC):
    """A live source (see the module docstring).

    Attributes
    ----------
    description : str
        The source as given by the user.
    nominal_fps : float or None
        Frames per second the source is expected to deliver.
    skeleton : Skeleton or None
        Set when the source delivers poses (no model is needed).
    paced : bool
        False for a file replayed at speed 0: the loop then takes every
        frame in order without waiting (nothing is dropped, no tick is stale).
    """

    description: str = ""
    nominal_fps: float | None = None
    skeleton: Skeleton | None = None
    paced: bool = True

    def start(self) -> None:  # noqa: B027  (optional hook)
        """Start the source's clock (called once, right before the first poll)."""

    @abstractmethod
    def poll(self) -> tuple[Capture | None, int]:
        """The newest frame not yet returned (None if there is none) and frames skipped."""

    @abstractmethod
    def done(self) -> bool:
        """Whether no frame will ever come again."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release the device or file."""


class _Timeline:
    """Release times of a file's frames at ``speed`` (0 = every frame, no waiting)."""

    def __init__(self, speed: float) -> None:
        if speed < 0:
            raise SourceError(f"--replay-speed {speed:g} is negative", hint="use 0 or more")
        self.speed = speed
        self.w0 = 0.0
        self.t0: float | None = None

    def start(self) -> None:
        self.w0 = time.perf_counter()

    def due_wall(self, t: float) -> float:
        """Wall time at which a frame of time ``t`` is released."""
        if self.t0 is None:
            self.t0 = t
        if self.speed == 0:
            return time.perf_counter()
        return self.w0 + (t - self.t0) / self.speed

    def due(self, t: float, now: float) -> bool:
        """Whether the frame of time ``t`` is released at wall time ``now``."""
        return self.speed == 0 or self.due_wall(t) <= now


class ResultsReplay(Source):
    """A results file's subject replayed as a stream of poses.

    Parameters
    ----------
    path : path
        ``results.json`` (``neuropose process`` / the daemon).
    speed : float
        1 = real time, 2 = twice as fast, 0 = as fast as the loop runs.
    video : str, optional
        Video inside the file (required when it holds several).
    """

    def __init__(self, path: Path | str, speed: float = 1.0, video: str | None = None) -> None:
        self.description = str(path)
        trial = load_trial(Path(path), video=video)
        self.poses = trial.poses
        self.times = trial.timestamps
        self.skeleton = trial.skeleton
        span = float(self.times[-1] - self.times[0]) if self.times.size > 1 else 0.0
        self.nominal_fps = (self.times.size - 1) / span if span > 0 else None
        self._clock = _Timeline(speed)
        self.paced = speed > 0
        self._next = 0

    def start(self) -> None:
        self._clock.start()

    def poll(self) -> tuple[Capture | None, int]:
        n = self.times.size
        first, last, now = self._next, None, time.perf_counter()
        while self._next < n and self._clock.due(float(self.times[self._next]), now):
            last = self._next
            self._next += 1
            if self._clock.speed == 0:
                break
        if last is None:
            return None, 0
        t = float(self.times[last])
        return Capture(last, t, self._clock.due_wall(t), pose=self.poses[last].copy()), last - first

    def done(self) -> bool:
        return self._next >= self.times.size


class _Grabber:
    """A thread filling a newest-wins slot from ``produce(stop)``, an iterator of captures.

    :meth:`poll` returns the newest capture not yet returned and how many were
    overwritten before the loop took them. An exception of the producer is
    raised by the next :meth:`poll`.
    """

    def __init__(self, produce: Callable[[threading.Event], Iterator[Capture]]) -> None:
        self._produce = produce
        self._lock = threading.Lock()
        self._latest: Capture | None = None
        self._last_returned = -1
        self._error: BaseException | None = None
        self.ended = threading.Event()
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neuropose-live-capture")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for cap in self._produce(self.stop):
                with self._lock:
                    self._latest = cap
                if self.stop.is_set():
                    break
        except BaseException as exc:  # handed to the loop's thread by poll()
            self._error = exc
        finally:
            self.ended.set()

    def poll(self) -> tuple[Capture | None, int]:
        with self._lock:
            cap, self._latest = self._latest, None
        if cap is None:
            if self._error is not None:
                raise self._error
            return None, 0
        skipped = cap.index - self._last_returned - 1
        self._last_returned = cap.index
        return cap, skipped

    def done(self) -> bool:
        with self._lock:
            pending = self._latest is not None
        return self.ended.is_set() and not pending and self._error is None

    def close(self) -> None:
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)


class VideoReplay(Source):
    """A video file's frames (container timestamps) released at ``speed``.

    At speed 0 frames are decoded on the loop's thread, in order, one per
    poll. At a real-time speed a thread decodes them like a camera delivers
    them: each frame is published when it comes due (or as soon as it is
    decoded, when decoding falls behind), the newest wins, and the ones the
    loop did not take are counted as skipped. Its capture time is its due
    time, so decoding delays count in the latency.
    """

    def __init__(self, path: Path | str, speed: float = 1.0) -> None:
        from neuropose.video.reader import FrameReader

        self.description = str(path)
        self._reader = FrameReader(Path(path))
        info = self._reader.info
        self.nominal_fps = info.fps_reported or None
        self.width, self.height = info.width, info.height
        self._frames = iter(self._reader)
        self._clock = _Timeline(speed)
        self.paced = speed > 0
        self._grabber = _Grabber(self._paced_frames) if self.paced else None
        self._ended = False

    def start(self) -> None:
        self._clock.start()
        if self._grabber is not None:
            self._grabber.start()

    def _next(self) -> Capture | None:
        try:
            idx, ts_ms, rgb = next(self._frames)
        except StopIteration:
            self._ended = True
            return None
        t = (ts_ms / 1000.0) if ts_ms is not None else idx / (self.nominal_fps or 30.0)
        return Capture(idx, t, self._clock.due_wall(t), rgb=rgb)  # a new array per frame

    def _paced_frames(self, stop: threading.Event) -> Iterator[Capture]:
        while not stop.is_set() and (cap := self._next()) is not None:
            wait = cap.wall_s - time.perf_counter()
            if wait > 0 and stop.wait(wait):
                return
            yield cap

    def poll(self) -> tuple[Capture | None, int]:
        if self._grabber is not None:
            return self._grabber.poll()
        cap = self._next() if not self._ended else None
        return cap, 0

    def done(self) -> bool:
        if self._grabber is not None:
            return self._grabber.done()
        return self._ended

    def close(self) -> None:
        if self._grabber is not None:
            self._grabber.close()
        self._reader.close()


class CameraSource(Source):
    """A webcam (index) or stream URL read by OpenCV on a thread; the newest frame wins.

    Frames the loop did not take before a newer one arrived are counted as
    skipped. ``time_s`` is the host's monotonic clock at the end of the read,
    relative to :meth:`start`.
    """

    def __init__(self, target: int | str) -> None:
        import cv2

        self.description = str(target)
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            kind = "camera" if isinstance(target, int) else "stream"
            raise SourceError(
                f"--source {target}: cannot open the {kind}",
                hint="check the camera index (0, 1, ...) or the URL, and that no other "
                "program uses the camera",
            )
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.nominal_fps = fps if 0 < fps < 1000 else None
        self._grabber = _Grabber(self._read)
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._grabber.start()

    def _read(self, stop: threading.Event) -> Iterator[Capture]:
        import cv2

        index = 0
        while not stop.is_set():
            ok, bgr = self._cap.read()
            if not ok:
                return
            now = time.perf_counter()
            yield Capture(index, now - self._t0, now, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1

    def poll(self) -> tuple[Capture | None, int]:
        return self._grabber.poll()

    def done(self) -> bool:
        return self._grabber.done()

    def close(self) -> None:
        self._grabber.close()
        self._cap.release()


def open_source(spec: str, *, speed: float = 1.0, video: str | None = None) -> Source:
    """The source named by ``--source`` (see :doc:`live`).

    ``0``, ``1``, ... is a webcam index; ``rtsp://``, ``http(s)://`` ... a
    stream URL; a ``.json`` file a results file to replay; any other file a
    video to replay.

    Raises
    ------
    SourceError
        A missing file or a device/URL that does not open.
    VideoError
        A video file that cannot be decoded.
    """
    if spec.isdigit():
        return CameraSource(int(spec))
    if "://" in spec:
        return CameraSource(spec)
    path = Path(spec)
    if not path.is_file():
        raise SourceError(
            f"--source {spec}: no such file",
            hint="give a camera index (0), a stream URL (rtsp://...), a video file or a "
            "results.json to replay",
        )
    if path.suffix.lower() in _RESULTS_SUFFIXES:
        return ResultsReplay(path, speed, video)
    return VideoReplay(path, speed)
