"""The streaming estimator: decode ‖ infer ‖ collect with bounded frames in flight.

Pipeline
--------
Three stages connected by bounded queues::

    decode thread ──frames──▶ infer thread ──detections──▶ collect (caller's thread)

* **decode** (thread ``neuropose-decode``) reads frames with OpenCV, converts
  BGR→RGB, rotates them upright and records the container timestamp.
  Before decoding a frame it takes one of ``prefetch_frames`` slots; the
  collect stage returns the slot once that frame is collected. So at most
  ``prefetch_frames`` frames are ever decoded but not collected, and peak
  memory does not grow with video length.
* **infer** (thread ``neuropose-infer``) groups frames into batches of
  ``min(batch_size, model.max_batch_size, prefetch_frames)`` (a shorter last
  batch at the end) and calls the model; decoded pixels are released right
  after.
* **collect** runs on the calling thread: caps persons per frame at
  ``max_persons`` (highest score first), assigns track ids
  (:mod:`neuropose.estimator.tracking`), appends the rows of the prediction
  table, calls ``progress`` and ``on_checkpoint``, and watches for stalls.
  Callbacks therefore run on the caller's thread.

Output order is exactly decode order. ``sequential=True`` runs the same three
steps in one thread (no watchdog) and gives identical predictions.

Failure semantics
-----------------
Any stage failure stops the others (a shared abort flag; every blocking
queue operation polls it), joins both threads and raises one typed error
chaining the original: the model's exception → :class:`ModelFailedError`,
an unexpected decode/collect exception → :class:`StageFailedError`, a video
problem → its :class:`~neuropose.estimator.errors.VideoError`. No partial
predictions are returned. When no frame moves through any stage for
``stall_timeout_s`` seconds, :class:`StallError` is raised. A model call that
never returns cannot be interrupted from Python: the estimator waits up to
``stall_timeout_s`` more for the infer thread and then raises anyway, logging
that the (daemon) thread is still alive. In every other outcome no estimator
thread is left running.

Checkpoints and resume
----------------------
``on_checkpoint`` receives a :class:`~neuropose.schemas.VideoCheckpoint`
every ``checkpoint_every_frames`` collected frames and, when ``stop_event``
is set, once more before :class:`EstimationInterrupted` is raised (the
checkpoint is also attached to the exception). Passing it back as
``resume=`` continues exactly: with a deterministic model the predictions
equal those of an uninterrupted run in every field except
``metrics`` (timings, RSS, CPU of this run only) and
``provenance.created_at``. The model's frame-to-frame state (e.g. a ROI
tracker inside a landmark model) is reset at resume, so a model that uses
previous frames may differ on the frames right after the resume point.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.config import Settings
from neuropose.errors import NeuroPoseError
from neuropose.estimator.errors import (
    CheckpointMismatchError,
    EstimationInterrupted,
    ModelFailedError,
    NoFramesError,
    ShortReadError,
    StageFailedError,
    StallError,
    VideoUnreadableError,
)
from neuropose.estimator.metrics import ResourceMeter, StageClock, build_metrics
from neuropose.estimator.refine import RefineOptions, refine
from neuropose.estimator.tracking import Tracker, select_subject
from neuropose.estimator.video import (
    FramePool,
    FrameReader,
    VideoInfo,
    load_camera_file,
)
from neuropose.io import sha256_file
from neuropose.models.base import FrameDetections, PoseModel
from neuropose.schemas import (
    CameraIntrinsics,
    Provenance,
    VideoCheckpoint,
    VideoMetadata,
    VideoPredictions,
)
from neuropose.timefmt import utc_now

__all__ = ["CheckpointCallback", "Estimator", "ProgressCallback", "without_run_details"]

logger = logging.getLogger(__name__)

#: ``progress(frames_done, frames_expected)``; called after every collected frame.
ProgressCallback = Callable[[int, int | None], None]
#: ``on_checkpoint(checkpoint)``; the caller persists it.
CheckpointCallback = Callable[[VideoCheckpoint], None]

_END = object()
_POLL_S = 0.05
_MIN_IOU = 0.1


@dataclass
class _Decoded:
    index: int
    ts_ms: float | None
    rgb: np.ndarray | None
    t_start: float


@dataclass
class _Inferred:
    frames: list[_Decoded]
    dets: list[FrameDetections]


class _Stop(Exception):
    """Internal: the stop event was seen at a frame boundary."""


def without_run_details(vp: VideoPredictions) -> VideoPredictions:
    """``vp`` without the fields that legitimately differ between equal runs.

    Drops ``metrics`` (timings, RSS, CPU) and blanks ``provenance.created_at``;
    everything else — frames, timestamps, detections, track ids, metadata,
    model, options, intrinsics, input hash — is kept, so two runs of a
    deterministic model compare equal with ``==`` exactly when their
    predictions agree (threaded vs sequential, resumed vs uninterrupted).
    """
    prov = vp.provenance.model_copy(update={"created_at": ""})
    return vp.model_copy(update={"metrics": None, "provenance": prov})


def _now_iso() -> str:
    return utc_now()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("neuropose", "numpy", "opencv-python-headless", "scipy", "ai-edge-litert",
                 "tensorflow"):  # fmt: skip
        if dist == "tensorflow" and "tensorflow" not in sys.modules:
            continue  # installed (the metrabs extra) but not what ran this model
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


class _Collector:
    """The collect stage's state: tracker, growing tables, callbacks."""

    def __init__(
        self,
        est: Estimator,
        *,
        tracker: Tracker,
        resume: VideoCheckpoint | None,
        frames_expected: int | None,
        progress: ProgressCallback | None,
        stop_event: threading.Event | None,
        checkpoint_every: int | None,
        on_checkpoint: CheckpointCallback | None,
        make_checkpoint: Callable[[_Collector], VideoCheckpoint],
        num_joints: int,
    ) -> None:
        self.est = est
        self.tracker = tracker
        self.frames_expected = frames_expected
        self.progress = progress
        self.stop_event = stop_event
        self.every = checkpoint_every
        self.on_checkpoint = on_checkpoint
        self.make_checkpoint = make_checkpoint
        self.j = num_joints
        self.ts: list[float] = []
        self.det_frame: list[np.ndarray] = []
        self.track_id: list[np.ndarray] = []
        self.boxes: list[np.ndarray] = []
        self.poses3d: list[np.ndarray] = []
        self.poses2d: list[np.ndarray] = []
        self.conf: list[np.ndarray | None] = []
        self.any_conf = False
        self.count = 0
        self.latencies: list[float] = []
        if resume is not None:
            self.count = resume.next_frame
            self.ts = [float(v) for v in resume.timestamps_ms]
            self.det_frame = [resume.det_frame]
            self.track_id = [resume.track_id]
            self.boxes = [resume.boxes]
            self.poses3d = [resume.poses3d]
            self.poses2d = [resume.poses2d]
            self.conf = [resume.confidence]
            self.any_conf = resume.confidence is not None

    def check_stop(self) -> None:
        if self.stop_event is not None and self.stop_event.is_set():
            raise _Stop

    def add(self, frame: _Decoded, det: FrameDetections) -> None:
        self.check_stop()
        if frame.index != self.count:
            raise RuntimeError(f"frame {frame.index} arrived when {self.count} was expected")
        if det.poses3d.shape[1] != self.j:
            raise RuntimeError(
                f"model returned {det.poses3d.shape[1]} joints, its skeleton has {self.j}"
            )
        p = det.num_persons
        order = np.arange(p)
        if p:
            order = np.lexsort((np.arange(p), -det.boxes[:, 4].astype(np.float64)))
            order = order[: self.est.max_persons]
        boxes = det.boxes[order].astype(np.float32)
        ids = self.tracker.update(frame.index, boxes)
        srt = np.argsort(ids, kind="stable")
        sel = order[srt]
        self.det_frame.append(np.full(len(sel), frame.index, np.int32))
        self.track_id.append(ids[srt].astype(np.int32))
        self.boxes.append(boxes[srt])
        self.poses3d.append(det.poses3d[sel].astype(np.float32))
        self.poses2d.append(det.poses2d[sel].astype(np.float32))
        if det.confidence is not None:
            self.any_conf = True
            self.conf.append(det.confidence[sel].astype(np.float32))
        else:
            self.conf.append(None)
        self.ts.append(np.nan if frame.ts_ms is None else frame.ts_ms)
        self.count += 1
        self.latencies.append(time.perf_counter() - frame.t_start)
        if self.progress is not None:
            self.progress(self.count, self.frames_expected)
        if self.every and self.on_checkpoint is not None and self.count % self.every == 0:
            self.on_checkpoint(self.make_checkpoint(self))

    def tables(self) -> dict[str, Any]:
        def cat(parts: list[np.ndarray], shape: tuple[int, ...], dtype: str) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

        det_frame = cat(self.det_frame, (0,), "int32")
        conf: np.ndarray | None = None
        if self.any_conf:
            conf = np.concatenate(
                [
                    c if c is not None else np.full((len(f), self.j), np.nan, np.float32)
                    for c, f in zip(self.conf, self.det_frame, strict=True)
                ]
            ).astype(np.float32)
            conf = conf.reshape(-1, self.j)
        return {
            "det_frame": det_frame,
            "track_id": cat(self.track_id, (0,), "int32"),
            "boxes": cat(self.boxes, (0, 5), "float32").reshape(-1, 5),
            "poses3d": cat(self.poses3d, (0, self.j, 3), "float32").reshape(-1, self.j, 3),
            "poses2d": cat(self.poses2d, (0, self.j, 2), "float32").reshape(-1, self.j, 2),
            "confidence": conf,
        }


class Estimator:
    """Runs a :class:`~neuropose.models.base.PoseModel` over videos and images.

    Parameters
    ----------
    model : PoseModel
        A loaded pose model.
    settings : Settings, optional
        Source of every default below (``Settings()`` when omitted).
    batch_size, prefetch_frames, max_persons, subject_rule, max_unseen_frames,
    stall_timeout_s, fov_degrees, camera_file
        Override the setting of the same name.
    sequential : bool
        Run all stages on the calling thread (debugging; no stall watchdog).
    allow_short_read : bool
        Accept a video that decodes fewer frames than it declares (recorded
        as ``metadata.short_read``) instead of raising :class:`ShortReadError`.
    decode_threads : int, optional
        FFmpeg decoder threads; None keeps OpenCV's default (one per core).
        Does not change predictions.
    opencv_threads : int, optional
        When given, ``cv2.setNumThreads(opencv_threads)`` is called at the
        start of each video. This is process-wide (it also affects OpenCV
        calls inside the model); None leaves OpenCV's setting alone. On a
        2-core machine ``1`` keeps OpenCV's worker pool from competing with
        the model's threads (see docs/benchmarks.md, "Estimator").
    model_load_s : float
        Model load time, copied into the metrics.
    device : str
        Where inference runs, copied into the metrics.

    Attributes
    ----------
    peak_frames_in_flight : int
        Most frames decoded but not yet collected at any moment of the last
        run (never more than ``prefetch_frames``).
    last_frame_latencies_s : ndarray
        Per-frame decode-start → collected latency of the last run, seconds.

    Notes
    -----
    One video at a time per instance (reuse it for many videos; make one
    instance per thread for concurrent videos). Frame buffers are reused, so
    a model must not keep references to the frames after ``predict`` returns.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> from tests.fakes import FakeModel
    >>> img = pathlib.Path(tempfile.mkdtemp()) / "still.png"
    >>> _ = cv2.imwrite(str(img), np.full((60, 80, 3), 128, np.uint8))
    >>> vp = Estimator(FakeModel()).process_video(img)
    >>> vp.num_frames, vp.metadata.timestamp_source, vp.poses3d[0, 0].tolist()
    (1, 'image', [0.0, 0.0, 3280.0])
    """

    def __init__(
        self,
        model: PoseModel,
        settings: Settings | None = None,
        *,
        batch_size: int | None = None,
        prefetch_frames: int | None = None,
        max_persons: int | None = None,
        subject_rule: str | None = None,
        max_unseen_frames: int | None = None,
        stall_timeout_s: float | None = None,
        fov_degrees: float | None = None,
        camera_file: str | Path | None = None,
        sequential: bool = False,
        allow_short_read: bool = False,
        decode_threads: int | None = None,
        opencv_threads: int | None = None,
        model_load_s: float = 0.0,
        device: str = "cpu",
    ) -> None:
        s = settings if settings is not None else Settings()
        self.model = model
        self.batch_size = int(batch_size if batch_size is not None else s.batch_size)
        self.prefetch_frames = int(
            prefetch_frames if prefetch_frames is not None else s.prefetch_frames
        )
        self.max_persons = int(max_persons if max_persons is not None else s.max_persons)
        self.subject_rule = str(subject_rule if subject_rule is not None else s.subject_rule)
        self.max_unseen_frames = int(
            max_unseen_frames if max_unseen_frames is not None else s.max_unseen_frames
        )
        self.stall_timeout_s = float(
            stall_timeout_s if stall_timeout_s is not None else s.stall_timeout_s
        )
        self.fov_degrees = float(fov_degrees if fov_degrees is not None else s.fov_degrees)
        cam = camera_file if camera_file is not None else s.camera_file
        self.camera_file = Path(cam) if cam is not None else None
        self.sequential = sequential
        self.allow_short_read = allow_short_read
        self.decode_threads = decode_threads
        self.opencv_threads = opencv_threads
        self.model_load_s = model_load_s
        self.device = device
        self.refine_options = RefineOptions.from_settings(s)
        for name in ("batch_size", "prefetch_frames", "max_persons"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.stall_timeout_s <= 0:
            raise ValueError("stall_timeout_s must be > 0")
        self.peak_frames_in_flight = 0
        self.last_frame_latencies_s = np.zeros(0)
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._pool: FramePool | None = None
        self._batch_buf: np.ndarray | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def effective_batch_size(self) -> int:
        """Frames per model call: min(batch_size, model.max_batch_size, prefetch_frames)."""
        return max(1, min(self.batch_size, int(self.model.max_batch_size), self.prefetch_frames))

    def result_options(self) -> dict[str, Any]:
        """Options that change predictions; a checkpoint is only resumed with equal values."""
        opts: dict[str, Any] = {
            "max_persons": self.max_persons,
            "max_unseen_frames": self.max_unseen_frames,
            "tracker_min_iou": _MIN_IOU,
        }
        for key, value in sorted(dict(self.model.options).items()):
            opts[f"model.{key}"] = (
                value
                if isinstance(value, str | int | float | bool) or value is None
                else str(value)
            )
        return opts

    def _provenance_options(self) -> dict[str, Any]:
        return {
            **self.result_options(),
            "batch_size": self.effective_batch_size,
            "prefetch_frames": self.prefetch_frames,
            "subject_rule": self.subject_rule,
            "allow_short_read": self.allow_short_read,
        }

    def _intrinsics(self, info: VideoInfo, override: CameraIntrinsics | None) -> CameraIntrinsics:
        if override is not None:
            return override
        if self.camera_file is not None:
            return load_camera_file(self.camera_file)
        return CameraIntrinsics.from_fov(info.width, info.height, self.fov_degrees)

    def _inflight_add(self, n: int) -> None:
        with self._inflight_lock:
            self._inflight += n
            self.peak_frames_in_flight = max(self.peak_frames_in_flight, self._inflight)

    # --------------------------------------------------------------- public API
    def process_video(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        stop_event: threading.Event | None = None,
        checkpoint_every_frames: int | None = None,
        on_checkpoint: CheckpointCallback | None = None,
        resume: VideoCheckpoint | None = None,
        intrinsics: CameraIntrinsics | None = None,
    ) -> VideoPredictions:
        """Predict poses for every frame of a video (or a still image).

        Parameters
        ----------
        path : path
            Video (anything OpenCV/FFmpeg decodes) or image (.jpg, .png, ...).
        progress : callable, optional
            ``progress(frames_done, frames_expected)`` after every collected
            frame, on the calling thread; ``frames_expected`` is the declared
            frame count (None when unknown).
        stop_event : threading.Event, optional
            When set, processing stops at the next frame boundary, a
            checkpoint is emitted and :class:`EstimationInterrupted` raised.
        checkpoint_every_frames : int, optional
            Emit a checkpoint via ``on_checkpoint`` every this many frames.
        on_checkpoint : callable, optional
            Receives each :class:`~neuropose.schemas.VideoCheckpoint`.
        resume : VideoCheckpoint, optional
            Continue from this checkpoint (same file, model and options).
        intrinsics : CameraIntrinsics, optional
            Overrides ``camera_file`` / ``fov_degrees``.

        Returns
        -------
        VideoPredictions
            Validated predictions with ``metrics`` filled in.

        Raises
        ------
        VideoError
            Missing, unreadable, non-video, zero-frame or short-read input.
        CheckpointMismatchError
            ``resume`` belongs to another file, model or options.
        ModelFailedError, StageFailedError, StallError
            Processing failed; the original exception is chained.
        EstimationInterrupted
            ``stop_event`` was set; carries the checkpoint.
        """
        path = Path(path)
        if self.opencv_threads is not None:
            import cv2

            cv2.setNumThreads(int(self.opencv_threads))
        meter = ResourceMeter()
        t_start = time.perf_counter()
        reader = FrameReader(
            path,
            start=resume.next_frame if resume is not None else 0,
            decode_threads=self.decode_threads,
            pool=FramePool(),
        )
        self._pool = reader.pool
        try:
            info = reader.info
            input_sha = sha256_file(path)
            if resume is not None:
                self._check_resume(resume, path, info, input_sha, intrinsics)
                intr = resume.intrinsics
            else:
                intr = self._intrinsics(info, intrinsics)
            self.model.reset()
            j = len(self.model.skeleton.joints)
            tracker = Tracker(
                self.max_unseen_frames, _MIN_IOU, resume.tracker if resume is not None else None
            )

            def make_checkpoint(col: _Collector) -> VideoCheckpoint:
                t = col.tables()
                return VideoCheckpoint(
                    input_name=path.name,
                    input_sha256=input_sha,
                    input_size_bytes=info.size_bytes,
                    model_name=self.model.name,
                    model_sha256=self.model.weights_sha256,
                    options=self.result_options(),
                    intrinsics=intr,
                    created_at=_now_iso(),
                    next_frame=col.count,
                    timestamps_ms=np.asarray(col.ts, np.float64),
                    tracker=col.tracker.state(),
                    **t,
                )

            collector = _Collector(
                self,
                tracker=tracker,
                resume=resume,
                frames_expected=info.declared_frame_count,
                progress=progress,
                stop_event=stop_event,
                checkpoint_every=checkpoint_every_frames,
                on_checkpoint=on_checkpoint,
                make_checkpoint=make_checkpoint,
                num_joints=j,
            )
            clocks = {"decode": StageClock(), "infer": StageClock(), "collect": StageClock()}
            self.peak_frames_in_flight = 0
            self._inflight = 0
            try:
                if self.sequential:
                    self._run_sequential(reader, intr, collector, clocks, meter)
                else:
                    self._run_threaded(reader, intr, collector, clocks, meter)
            except _Stop:
                cp = make_checkpoint(collector)
                if on_checkpoint is not None:
                    on_checkpoint(cp)
                raise EstimationInterrupted(
                    f"{path.name}: stopped after {collector.count} frames", checkpoint=cp
                ) from None
        finally:
            reader.close()
        self.last_frame_latencies_s = np.asarray(collector.latencies, np.float64)
        return self._finish(path, info, input_sha, intr, collector, clocks, meter, t_start)

    # ----------------------------------------------------------------- running
    def _check_resume(
        self,
        cp: VideoCheckpoint,
        path: Path,
        info: VideoInfo,
        sha: str,
        intrinsics: CameraIntrinsics | None,
    ) -> None:
        hint = "delete the checkpoint to restart this video from the beginning"
        if cp.input_sha256 != sha or cp.input_size_bytes != info.size_bytes:
            raise CheckpointMismatchError(
                f"checkpoint for {cp.input_name} does not match {path.name}: the file changed "
                f"(sha256 {sha[:12]}… vs {cp.input_sha256[:12]}…)",
                hint=hint,
            )
        if cp.model_name != self.model.name or cp.model_sha256 != self.model.weights_sha256:
            raise CheckpointMismatchError(
                f"checkpoint of {path.name} was made with model {cp.model_name} "
                f"({cp.model_sha256[:12]}…), not {self.model.name} "
                f"({self.model.weights_sha256[:12]}…)",
                hint=hint,
            )
        opts = self.result_options()
        if cp.options != opts:
            diff = sorted(
                k for k in set(opts) | set(cp.options) if opts.get(k) != cp.options.get(k)
            )
            raise CheckpointMismatchError(
                f"checkpoint of {path.name} was made with other options: "
                + ", ".join(f"{k}={cp.options.get(k)!r} (now {opts.get(k)!r})" for k in diff),
                hint=hint,
            )
        if intrinsics is not None and intrinsics != cp.intrinsics:
            raise CheckpointMismatchError(
                f"checkpoint of {path.name} was made with other camera intrinsics", hint=hint
            )

    def _infer(
        self, batch: list[_Decoded], intr: CameraIntrinsics, clock: StageClock
    ) -> list[FrameDetections]:
        frames = [b.rgb for b in batch if b.rgb is not None]
        if len(frames) != len(batch):
            raise RuntimeError("a frame was released before inference")
        if len(frames) == 1:
            arr = frames[0][None]
        else:
            shape = (self.effective_batch_size, *frames[0].shape)
            if self._batch_buf is None or self._batch_buf.shape != shape:
                self._batch_buf = np.empty(shape, np.uint8)
            arr = self._batch_buf[: len(frames)]
            np.stack(frames, out=arr)
        t0 = time.perf_counter()
        try:
            dets = self.model.predict(arr, intr)
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
        pool = self._pool
        for b in batch:
            if pool is not None and b.rgb is not None:
                pool.release(b.rgb)
            b.rgb = None
        del arr, frames
        return list(dets)

    def _collect(
        self,
        item: _Inferred,
        col: _Collector,
        clock: StageClock,
        meter: ResourceMeter,
        release: Callable[[], None] | None,
    ) -> None:
        t0 = time.perf_counter()
        for frame, det in zip(item.frames, item.dets, strict=True):
            try:
                col.add(frame, det)
            except (_Stop, NeuroPoseError):
                raise
            except Exception as exc:
                raise StageFailedError(
                    f"collect stage failed on frame {frame.index}: {type(exc).__name__}: {exc}"
                ) from exc
            self._inflight_add(-1)
            if release is not None:
                release()
        meter.sample()
        clock.add(time.perf_counter() - t0)

    def _run_sequential(
        self,
        reader: FrameReader,
        intr: CameraIntrinsics,
        col: _Collector,
        clocks: dict[str, StageClock],
        meter: ResourceMeter,
    ) -> None:
        bs = self.effective_batch_size
        it = iter(reader)
        batch: list[_Decoded] = []
        while True:
            col.check_stop()
            t0 = time.perf_counter()
            try:
                idx, ts, rgb = next(it)
            except StopIteration:
                break
            except NeuroPoseError:
                raise
            except Exception as exc:
                raise StageFailedError(
                    f"decode stage failed after {reader.decoded} frames of {reader.path.name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            clocks["decode"].add(time.perf_counter() - t0)
            self._inflight_add(1)
            batch.append(_Decoded(idx, ts, rgb, t0))
            if len(batch) == bs:
                dets = self._infer(batch, intr, clocks["infer"])
                self._collect(_Inferred(batch, dets), col, clocks["collect"], meter, None)
                batch = []
        if batch:
            dets = self._infer(batch, intr, clocks["infer"])
            self._collect(_Inferred(batch, dets), col, clocks["collect"], meter, None)

    def _run_threaded(
        self,
        reader: FrameReader,
        intr: CameraIntrinsics,
        col: _Collector,
        clocks: dict[str, StageClock],
        meter: ResourceMeter,
    ) -> None:
        abort = threading.Event()
        slots = threading.Semaphore(self.prefetch_frames)
        q_frames: queue.Queue[Any] = queue.Queue(maxsize=self.prefetch_frames)
        q_dets: queue.Queue[Any] = queue.Queue(maxsize=self.prefetch_frames)
        errors: list[BaseException] = []
        last_move = [time.monotonic()]
        infer_busy: list[Any] = [None]  # (first frame, last frame, since) while in predict
        bs = self.effective_batch_size

        def moved() -> None:
            last_move[0] = time.monotonic()

        def put(q: queue.Queue[Any], item: Any) -> bool:
            while not abort.is_set():
                try:
                    q.put(item, timeout=_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False

        def get(q: queue.Queue[Any]) -> Any:
            while not abort.is_set():
                try:
                    return q.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
            return None

        def fail(exc: BaseException) -> None:
            errors.append(exc)
            abort.set()

        def decode() -> None:
            it = iter(reader)
            try:
                while True:
                    while not slots.acquire(timeout=_POLL_S):
                        if abort.is_set():
                            return
                    if abort.is_set():
                        return
                    t0 = time.perf_counter()
                    try:
                        idx, ts, rgb = next(it)
                    except StopIteration:
                        put(q_frames, _END)
                        return
                    clocks["decode"].add(time.perf_counter() - t0)
                    self._inflight_add(1)
                    moved()
                    if not put(q_frames, _Decoded(idx, ts, rgb, t0)):
                        return
            except NeuroPoseError as exc:
                fail(exc)
            except Exception as exc:
                try:
                    raise StageFailedError(
                        f"decode stage failed after {reader.decoded} frames of "
                        f"{reader.path.name}: {type(exc).__name__}: {exc}"
                    ) from exc
                except StageFailedError as wrapped:
                    fail(wrapped)

        def infer() -> None:
            try:
                while True:
                    batch: list[_Decoded] = []
                    end = False
                    while len(batch) < bs:
                        item = get(q_frames)
                        if item is None:
                            return
                        if item is _END:
                            end = True
                            break
                        batch.append(item)
                    if batch:
                        infer_busy[0] = (batch[0].index, batch[-1].index, time.monotonic())
                        dets = self._infer(batch, intr, clocks["infer"])
                        infer_busy[0] = None
                        moved()
                        if not put(q_dets, _Inferred(batch, dets)):
                            return
                    if end:
                        put(q_dets, _END)
                        return
            except NeuroPoseError as exc:
                fail(exc)
            except Exception as exc:
                try:
                    raise StageFailedError(
                        f"infer stage failed: {type(exc).__name__}: {exc}"
                    ) from exc
                except StageFailedError as wrapped:
                    fail(wrapped)

        threads = [
            threading.Thread(target=decode, name="neuropose-decode", daemon=True),
            threading.Thread(target=infer, name="neuropose-infer", daemon=True),
        ]
        for t in threads:
            t.start()
        stalled = False
        try:
            while True:
                if errors:
                    raise errors[0]
                col.check_stop()
                try:
                    item = q_dets.get(timeout=_POLL_S)
                except queue.Empty:
                    idle = time.monotonic() - last_move[0]
                    if idle > self.stall_timeout_s and not errors:
                        stalled = True
                        raise StallError(
                            self._stall_message(reader, col, infer_busy[0], idle),
                            hint="raise stall_timeout_s if the model is just slow, "
                            "or check the model/device",
                        ) from None
                    continue
                if item is _END:
                    if errors:
                        raise errors[0]
                    return
                self._collect(item, col, clocks["collect"], meter, slots.release)
                moved()
        finally:
            abort.set()
            grace = self.stall_timeout_s if stalled else max(5.0, self.stall_timeout_s)
            deadline = time.monotonic() + grace
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
                if t.is_alive():
                    logger.error(
                        "%s: thread %s did not stop within %.1f s (a model call that never "
                        "returns cannot be interrupted); it is left as a daemon thread",
                        reader.path.name,
                        t.name,
                        grace,
                    )

    def _stall_message(self, reader: FrameReader, col: _Collector, busy: Any, idle: float) -> str:
        where = (
            f"the model call on frames {busy[0]}..{busy[1]} has not returned for "
            f"{time.monotonic() - busy[2]:.1f} s"
            if busy is not None
            else f"decoding frame {reader.decoded} has not finished"
        )
        return (
            f"{reader.path.name}: no frame moved for {idle:.1f} s "
            f"(stall_timeout_s={self.stall_timeout_s:g}) after {col.count} frames; {where}"
        )

    # ----------------------------------------------------------------- results
    def _finish(
        self,
        path: Path,
        info: VideoInfo,
        input_sha: str,
        intr: CameraIntrinsics,
        col: _Collector,
        clocks: dict[str, StageClock],
        meter: ResourceMeter,
        t_start: float,
    ) -> VideoPredictions:
        n = col.count
        if n == 0:
            raise NoFramesError(
                f"{path.name}: no frame could be decoded"
                + (
                    f" (the container declares {info.declared_frame_count})"
                    if info.declared_frame_count
                    else ""
                ),
                hint="the file may hold no video stream or be corrupt",
            )
        declared = info.declared_frame_count
        short = declared is not None and n < declared
        if short and not self.allow_short_read:
            assert declared is not None
            raise ShortReadError(
                f"{path.name}: only {n} of the {declared} frames the container declares "
                "could be decoded (truncated or corrupt file; `neuropose process "
                "--allow-short-read` accepts the frames that decode)",
                declared=declared,
                decoded=n,
                hint="re-export or re-copy the video, or accept the frames that decode with "
                "--allow-short-read",
            )
        if short:
            logger.warning("%s: short read, %d of %s declared frames", path.name, n, declared)
        ts_ms = np.asarray(col.ts, np.float64)
        fps = info.fps_reported
        if info.is_image:
            ts = np.zeros(1)
            source = "image"
        elif np.all(np.isfinite(ts_ms)) and (n == 1 or np.all(np.diff(ts_ms) > 0)):
            ts = ts_ms / 1000.0
            source = "container"
        else:
            if not fps:
                raise VideoUnreadableError(
                    f"{path.name}: the container gives neither usable frame timestamps nor a "
                    "frame rate",
                    hint="remux the file (e.g. ffmpeg -i in -c copy out.mp4)",
                )
            logger.warning(
                "%s: container timestamps are missing or not increasing; using index / fps",
                path.name,
            )
            ts = np.arange(n) / fps
            source = "fps_fallback"
        diffs = np.diff(ts)
        vfr = False
        if diffs.size >= 2:
            med = float(np.median(diffs))
            vfr = bool(np.any(np.abs(diffs - med) > 0.1 * med))
        interval = 1.0 / fps if fps else (float(np.median(diffs)) if diffs.size else 0.0)
        duration = float(ts[-1] - ts[0]) + (interval if not info.is_image else 0.0)
        metadata = VideoMetadata(
            width=info.width,
            height=info.height,
            rotation_degrees=info.rotation_degrees,
            codec=info.codec,
            declared_frame_count=declared,
            decoded_frame_count=n,
            fps_reported=fps,
            timestamp_source=source,
            duration_s=max(0.0, duration),
            variable_frame_rate=vfr,
            short_read=short,
        )
        tables = col.tables()
        primary = select_subject(
            self.subject_rule,
            tables["track_id"],
            tables["boxes"],
            info.width,
            info.height,
            video=path.name,
        )
        wall = time.perf_counter() - t_start
        metrics = build_metrics(
            clocks,
            frames=n,
            wall_s=wall,
            meter=meter,
            mode="sequential" if self.sequential else "threaded",
            model_load_s=self.model_load_s,
            device=self.device,
        )
        provenance = Provenance(
            model_name=self.model.name,
            model_sha256=self.model.weights_sha256,
            root_relative=bool(self.model.root_relative),
            options=self._provenance_options(),
            intrinsics=intr,
            versions=_versions(),
            platform=platform.platform(),
            input_sha256=input_sha,
            input_name=path.name,
            created_at=_now_iso(),
        )
        predictions = VideoPredictions(
            video=path.name,
            skeleton=self.model.skeleton,
            metadata=metadata,
            provenance=provenance,
            metrics=metrics,
            subject_rule=self.subject_rule,
            primary_track_id=primary,
            frame_index=np.arange(n, dtype=np.int32),
            timestamp_s=ts,
            **tables,
        )
        return refine(predictions, self.refine_options)
