"""Running one video's decode → infer → collect steps, sequentially or on threads.

:class:`Stages` holds the three steps of one video; each raises one typed
error (a :class:`~neuropose.errors.NeuroPoseError` passes through, anything
else becomes :class:`StageFailedError` naming the stage, the original
chained). :func:`run_sequential` calls them in a loop;
:class:`ThreadedRunner` runs decode and infer on two threads joined to the
caller's collect loop by bounded queues, with at most ``prefetch_frames``
frames decoded but not collected. Both return False when the caller's stop
event stopped them at a frame boundary and True at the end of the video.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neuropose.errors import NeuroPoseError
from neuropose.estimator.collect import Collector, Decoded, Inferred
from neuropose.estimator.errors import ModelFailedError, StageFailedError, StallError
from neuropose.estimator.metrics import ResourceMeter, StageClock
from neuropose.models.base import FrameDetections, PoseModel, model_state
from neuropose.schemas import CameraIntrinsics
from neuropose.video.reader import FramePool, FrameReader

__all__ = ["BatchInfer", "InFlight", "Stages", "ThreadedRunner", "run_sequential"]

logger = logging.getLogger(__name__)

#: How often a blocked queue operation re-checks the abort flag, seconds.
_POLL_S = 0.05
#: Queue item after the last frame.
_END = object()


def _stage_failed(message: str, exc: Exception) -> StageFailedError:
    return StageFailedError(f"{message}: {type(exc).__name__}: {exc}")


class InFlight:
    """Frames decoded but not yet collected, and the most there ever were (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self.peak = 0

    def add(self, n: int) -> None:
        """Count ``n`` more (negative: fewer) frames in flight."""
        with self._lock:
            self._count += n
            self.peak = max(self.peak, self._count)


class BatchInfer:
    """Calls the model on a batch of frames, stacking them into one reused buffer.

    The buffer is allocated for the first batch of more than one frame (the
    full batch size) and reused for every later batch of that frame size.

    Parameters
    ----------
    model : PoseModel
        The model; its exceptions become :class:`ModelFailedError`.
    """

    def __init__(self, model: PoseModel) -> None:
        self.model = model
        self._buf: np.ndarray | None = None

    def __call__(
        self,
        batch: list[Decoded],
        intrinsics: CameraIntrinsics,
        clock: StageClock,
        pool: FramePool | None,
    ) -> list[FrameDetections]:
        """Detections of each frame of ``batch``; the frames go back to ``pool``.

        Raises
        ------
        ModelFailedError
            The model raised (chained) or returned another number of results.
        """
        frames = [b.rgb for b in batch if b.rgb is not None]
        if len(frames) != len(batch):
            raise RuntimeError("a frame was released before inference")
        if len(frames) == 1:
            arr = frames[0][None]
        else:
            buf = self._buf
            if buf is None or buf.shape[1:] != frames[0].shape or len(buf) < len(frames):
                self._buf = buf = np.empty((len(frames), *frames[0].shape), np.uint8)
            arr = buf[: len(frames)]
            np.stack(frames, out=arr)
        t0 = time.perf_counter()
        try:
            dets = self.model.predict(arr, intrinsics)
        except Exception as exc:
            raise ModelFailedError(
                f"model {self.model.name} failed on frames {batch[0].index}..{batch[-1].index}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        clock.add(time.perf_counter() - t0)
        if len(dets) != len(batch):
            raise ModelFailedError(
                f"model {self.model.name} returned {len(dets)} results for {len(batch)} frames"
            )
        for b in batch:
            if pool is not None and b.rgb is not None:
                pool.release(b.rgb)
            b.rgb = None
        del arr, frames
        return list(dets)


class Stages:
    """The decode, infer and collect steps of one video, each raising one typed error.

    Parameters
    ----------
    reader : FrameReader
        The open input.
    infer : BatchInfer
        Model calls.
    intrinsics : CameraIntrinsics
        Passed to the model.
    collector : Collector
        The collect stage.
    meter : ResourceMeter
        Sampled after every collected batch.

    Attributes
    ----------
    clocks : dict of str to StageClock
        Busy time of ``decode``, ``infer`` (model call only) and ``collect``.
    inflight : InFlight
        Frames decoded but not yet collected.
    """

    def __init__(
        self,
        reader: FrameReader,
        infer: BatchInfer,
        intrinsics: CameraIntrinsics,
        collector: Collector,
        meter: ResourceMeter,
    ) -> None:
        self.reader = reader
        self.collector = collector
        self.clocks = {"decode": StageClock(), "infer": StageClock(), "collect": StageClock()}
        self.inflight = InFlight()
        self._infer = infer
        self._intrinsics = intrinsics
        self._meter = meter
        self._frames = iter(reader)

    def decode(self) -> Decoded | None:
        """The next frame, or None after the last one."""
        t0 = time.perf_counter()
        try:
            idx, ts, rgb = next(self._frames)
        except StopIteration:
            return None
        except NeuroPoseError:
            raise
        except Exception as exc:
            reader = self.reader
            raise _stage_failed(
                f"decode stage failed after {reader.decoded} frames of {reader.path.name}", exc
            ) from exc
        self.clocks["decode"].add(time.perf_counter() - t0)
        self.inflight.add(1)
        return Decoded(idx, ts, rgb, t0)

    def infer(self, batch: list[Decoded]) -> Inferred:
        """The model's detections for ``batch`` (the frames' pixels are released)."""
        try:
            dets = self._infer(batch, self._intrinsics, self.clocks["infer"], self.reader.pool)
            # Taken on the infer thread right after the batch, before the next one.
            state = model_state(self._infer.model)
        except NeuroPoseError:
            raise
        except Exception as exc:
            raise _stage_failed("infer stage failed", exc) from exc
        return Inferred(batch, dets, state)

    def collect(self, item: Inferred, release: Callable[[], None] | None = None) -> bool:
        """Collect each frame of ``item``; False when a stop was requested before one.

        ``release`` is called once per collected frame (the threaded runner
        returns a decode slot).
        """
        t0 = time.perf_counter()
        last = len(item.frames) - 1
        for k, (frame, det) in enumerate(zip(item.frames, item.dets, strict=True)):
            if self.collector.stop_requested():
                return False
            try:
                self.collector.add(frame, det, item.model_state if k == last else None)
            except NeuroPoseError:
                raise
            except Exception as exc:
                raise _stage_failed(f"collect stage failed on frame {frame.index}", exc) from exc
            self.inflight.add(-1)
            if release is not None:
                release()
        self._meter.sample()
        self.clocks["collect"].add(time.perf_counter() - t0)
        return True


def run_sequential(stages: Stages, batch_size: int) -> bool:
    """Run the three steps on the calling thread; False when stopped, True at the end."""
    batch: list[Decoded] = []
    while not stages.collector.stop_requested():
        frame = stages.decode()
        if frame is None:
            return not batch or stages.collect(stages.infer(batch))
        batch.append(frame)
        if len(batch) == batch_size:
            if not stages.collect(stages.infer(batch)):
                return False
            batch = []
    return False


class ThreadedRunner:
    """Decode and infer threads feeding the caller's collect loop (see the module docstring).

    A worker thread's failure is stored (the first one wins), every other
    stage sees the abort flag within ``_POLL_S`` and stops, and the collect
    loop raises the stored error. When no frame moves for
    ``stall_timeout_s``, :class:`StallError` is raised instead. In every
    outcome :meth:`run` joins both threads before returning, except a model
    call that never returns: it is waited for ``stall_timeout_s`` and then
    left behind as a daemon thread (logged).

    Parameters
    ----------
    stages : Stages
        The video's steps.
    batch_size : int
        Frames per model call (a shorter last batch at the end).
    prefetch_frames : int
        Most frames decoded but not yet collected.
    stall_timeout_s : float
        Longest time without progress before :class:`StallError`.
    """

    def __init__(
        self, stages: Stages, *, batch_size: int, prefetch_frames: int, stall_timeout_s: float
    ) -> None:
        self.stages = stages
        self.batch_size = batch_size
        self.stall_timeout_s = stall_timeout_s
        self._abort = threading.Event()
        self._slots = threading.Semaphore(prefetch_frames)
        self._frames: queue.Queue[Any] = queue.Queue(maxsize=prefetch_frames)
        self._dets: queue.Queue[Any] = queue.Queue(maxsize=prefetch_frames)
        self._failure: BaseException | None = None
        self._failure_lock = threading.Lock()
        self._last_move = time.monotonic()
        self._infer_busy: tuple[int, int, float] | None = None  # first, last frame, since
        self._stalled = False

    def run(self) -> bool:
        """Process the whole video; False when stopped, True at the end."""
        threads = [
            threading.Thread(target=self._decode_loop, name="neuropose-decode", daemon=True),
            threading.Thread(target=self._infer_loop, name="neuropose-infer", daemon=True),
        ]
        for t in threads:
            t.start()
        try:
            return self._collect_loop()
        finally:
            self._shut_down(threads)

    # ------------------------------------------------------------ caller thread
    def _collect_loop(self) -> bool:
        while True:
            self._raise_failure()
            if self.stages.collector.stop_requested():
                return False
            try:
                item = self._dets.get(timeout=_POLL_S)
            except queue.Empty:
                self._check_stall()
                continue
            if item is _END:
                self._raise_failure()
                return True
            if not self.stages.collect(item, self._slots.release):
                return False
            self._moved()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _check_stall(self) -> None:
        idle = time.monotonic() - self._last_move
        if idle <= self.stall_timeout_s or self._failure is not None:
            return
        self._stalled = True
        busy = self._infer_busy
        reader = self.stages.reader
        where = (
            f"the model call on frames {busy[0]}..{busy[1]} has not returned for "
            f"{time.monotonic() - busy[2]:.1f} s"
            if busy is not None
            else f"decoding frame {reader.decoded} has not finished"
        )
        raise StallError(
            f"{reader.path.name}: no frame moved for {idle:.1f} s "
            f"(stall_timeout_s={self.stall_timeout_s:g}) after {self.stages.collector.count} "
            f"frames; {where}",
            hint="raise stall_timeout_s if the model is just slow, or check the model/device",
        )

    def _shut_down(self, threads: list[threading.Thread]) -> None:
        self._abort.set()
        grace = self.stall_timeout_s if self._stalled else max(5.0, self.stall_timeout_s)
        deadline = time.monotonic() + grace
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                logger.error(
                    "%s: thread %s did not stop within %.1f s (a model call that never "
                    "returns cannot be interrupted); it is left as a daemon thread",
                    self.stages.reader.path.name,
                    t.name,
                    grace,
                )

    # ----------------------------------------------------------- worker threads
    def _fail(self, exc: BaseException) -> None:
        with self._failure_lock:
            if self._failure is None:
                self._failure = exc
        self._abort.set()

    def _moved(self) -> None:
        self._last_move = time.monotonic()

    def _put(self, q: queue.Queue[Any], item: Any) -> bool:
        """Put ``item``; False when the run was aborted first."""
        while not self._abort.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[Any]) -> Any:
        """The next item; None when the run was aborted first."""
        while not self._abort.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None

    def _take_slot(self) -> bool:
        """Wait for a free frame slot; False when the run was aborted first."""
        while not self._slots.acquire(timeout=_POLL_S):
            if self._abort.is_set():
                return False
        return not self._abort.is_set()

    def _decode_loop(self) -> None:
        try:
            while self._take_slot():
                frame = self.stages.decode()
                if frame is None:
                    self._put(self._frames, _END)
                    return
                self._moved()
                if not self._put(self._frames, frame):
                    return
        except Exception as exc:  # typed by Stages.decode
            self._fail(exc)

    def _next_batch(self) -> tuple[list[Decoded], bool] | None:
        """Up to ``batch_size`` frames and whether the video ended; None when aborted."""
        batch: list[Decoded] = []
        while len(batch) < self.batch_size:
            item = self._get(self._frames)
            if item is None:
                return None
            if item is _END:
                return batch, True
            batch.append(item)
        return batch, False

    def _infer_loop(self) -> None:
        try:
            while (got := self._next_batch()) is not None:
                batch, end = got
                if batch:
                    self._infer_busy = (batch[0].index, batch[-1].index, time.monotonic())
                    item = self.stages.infer(batch)
                    self._infer_busy = None
                    self._moved()
                    if not self._put(self._dets, item):
                        return
                if end:
                    self._put(self._dets, _END)
                    return
        except Exception as exc:  # typed by Stages.infer
            self._fail(exc)
