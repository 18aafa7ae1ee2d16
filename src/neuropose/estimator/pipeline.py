"""The estimator's public API: :class:`Estimator` turns a video into validated predictions.

Pipeline
--------
Three stages connected by bounded queues (:mod:`neuropose.estimator.runner`)::

    decode thread ──frames──▶ infer thread ──detections──▶ collect (caller's thread)

* **decode** (thread ``neuropose-decode``) reads upright RGB frames with
  their container timestamps (:class:`~neuropose.video.reader.FrameReader`).
  Before decoding a frame it takes one of ``prefetch_frames`` slots; the
  collect stage returns the slot once that frame is collected. So at most
  ``prefetch_frames`` frames are ever decoded but not collected, and peak
  memory does not grow with video length.
* **infer** (thread ``neuropose-infer``) groups frames into batches of
  ``min(batch_size, model.max_batch_size, prefetch_frames)`` (a shorter last
  batch at the end) and calls the model; decoded pixels are released right
  after.
* **collect** runs on the calling thread
  (:class:`~neuropose.estimator.collect.Collector`): caps persons per frame
  at ``max_persons``, assigns track ids, appends the rows of the prediction
  table, calls ``progress`` and ``on_checkpoint``, and watches for stalls.
  Callbacks therefore run on the caller's thread.

Output order is exactly decode order. ``sequential=True`` runs the same three
steps in one thread (no watchdog) and gives identical predictions.

Failure semantics
-----------------
Any stage failure stops the others, joins both threads and raises one typed
error chaining the original: the model's exception → :class:`ModelFailedError`,
an unexpected decode/infer/collect exception → :class:`StageFailedError`, a
video problem → its :class:`~neuropose.video.errors.VideoError`. No partial
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
``provenance.created_at``. This holds for models with frame-to-frame state
too: a :class:`~neuropose.models.base.StatefulPoseModel` (BlazePose's ROI
tracker and its auxiliary-landmark filters) is asked for its state on the
infer thread right after each batch, the checkpoint carries the state after
its last frame, and resume restores it, so the resumed predictions are
bit-identical (float32 outputs equal, not merely close). A version 1
checkpoint (no model state) still resumes, with the model reset and a logged
warning that the frames after the resume point may differ. Per-video state
is reset or restored in :meth:`Estimator._start_video` and captured in
:meth:`Estimator._checkpoint`, and nowhere else.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.config import Settings
from neuropose.estimator.camera import intrinsics_for
from neuropose.estimator.collect import CheckpointCallback, Collector, ProgressCallback
from neuropose.estimator.errors import CheckpointMismatchError, EstimationInterrupted
from neuropose.estimator.metrics import ResourceMeter, StageClock, build_metrics
from neuropose.estimator.provenance import build_provenance, video_metadata
from neuropose.estimator.refine import RefineOptions, refine
from neuropose.estimator.runner import BatchInfer, Stages, ThreadedRunner, run_sequential
from neuropose.estimator.tracking import Tracker, select_subject
from neuropose.io import sha256_file
from neuropose.models.base import PoseModel, StatefulPoseModel
from neuropose.schemas import CameraIntrinsics, VideoCheckpoint, VideoPredictions
from neuropose.timefmt import utc_now
from neuropose.video.reader import FramePool, FrameReader, VideoInfo

__all__ = ["Estimator"]

logger = logging.getLogger(__name__)

#: Smallest box IoU that continues a track (recorded in the result options).
_MIN_IOU = 0.1


@dataclass(frozen=True)
class _Video:
    """What is fixed about the video being processed."""

    path: Path
    info: VideoInfo
    input_sha256: str
    intrinsics: CameraIntrinsics


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
    A minimal :class:`~neuropose.models.base.PoseModel`: one person whose
    single joint sits at the frame centre, 2 m in front of the camera.

    >>> import tempfile, pathlib, numpy as np, cv2
    >>> from neuropose.models.base import FrameDetections
    >>> from neuropose.schemas import Skeleton
    >>> class Centre:
    ...     name, weights_sha256, root_relative = "centre", "0" * 64, False
    ...     max_batch_size, options = 4, {}
    ...     skeleton = Skeleton(name="one", joints=("root",), edges=())
    ...     def reset(self): pass
    ...     def predict(self, frames, intrinsics):
    ...         n, h, w, _ = frames.shape
    ...         box = np.array([[0, 0, w, h, 1.0]], np.float32)
    ...         return [FrameDetections(box, np.array([[[0, 0, 2000.0]]], np.float32),
    ...                                 np.array([[[w / 2, h / 2]]], np.float32), None)] * n
    >>> img = pathlib.Path(tempfile.mkdtemp()) / "still.png"
    >>> _ = cv2.imwrite(str(img), np.full((60, 80, 3), 128, np.uint8))
    >>> vp = Estimator(Centre()).process_video(img)
    >>> vp.num_frames, vp.metadata.timestamp_source, vp.poses2d[0, 0].tolist()
    (1, 'image', [40.0, 30.0])
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
        #: Use a focal length the container declares before ``fov_degrees`` (False: --fov given).
        self.use_container_focal = True
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
        self._infer = BatchInfer(model)

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
        return intrinsics_for(
            info,
            fov_degrees=self.fov_degrees,
            camera_file=self.camera_file,
            calibration=override,
            use_container=self.use_container_focal,
        )

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
            A calibration's intrinsics; overrides ``camera_file``, the container's
            focal length and ``fov_degrees`` (:func:`~neuropose.estimator.camera.intrinsics_for`).

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
        try:
            info = reader.info
            input_sha = sha256_file(path)
            if resume is not None:
                self._check_resume(resume, path, info, input_sha, intrinsics)
                intr = resume.intrinsics
            else:
                intr = self._intrinsics(info, intrinsics)
            video = _Video(path, info, input_sha, intr)
            collector = Collector(
                tracker=self._start_video(resume),
                max_persons=self.max_persons,
                num_joints=len(self.model.skeleton.joints),
                resume=resume,
                frames_expected=info.declared_frame_count,
                progress=progress,
                stop_event=stop_event,
                checkpoint_every=checkpoint_every_frames,
                on_checkpoint=on_checkpoint,
                make_checkpoint=functools.partial(self._checkpoint, video),
            )
            stages = Stages(reader, self._infer, intr, collector, meter)
            try:
                finished = self._run(stages)
            finally:
                self.peak_frames_in_flight = stages.inflight.peak
            if not finished:
                cp = self._checkpoint(video, collector)
                if on_checkpoint is not None:
                    on_checkpoint(cp)
                raise EstimationInterrupted(
                    f"{path.name}: stopped after {collector.count} frames", checkpoint=cp
                )
            short = reader.check_frame_count(allow_short_read=self.allow_short_read)
        finally:
            reader.close()
        self.last_frame_latencies_s = np.asarray(collector.latencies, np.float64)
        return self._finalise(video, collector, short, stages.clocks, meter, t_start)

    # ----------------------------------------------------------------- running
    def _run(self, stages: Stages) -> bool:
        """Run the stages; False when ``stop_event`` stopped them, True at the end."""
        if self.sequential:
            return run_sequential(stages, self.effective_batch_size)
        runner = ThreadedRunner(
            stages,
            batch_size=self.effective_batch_size,
            prefetch_frames=self.prefetch_frames,
            stall_timeout_s=self.stall_timeout_s,
        )
        return runner.run()

    def _start_video(self, resume: VideoCheckpoint | None) -> Tracker:
        """Reset the per-video state, or restore it from ``resume``; the fresh tracker.

        The one place where frame-to-frame state is set up before the first
        frame: the model's (reset) and the tracker's (restored from the
        checkpoint when resuming).
        """
        self.model.reset()
        if resume is not None:
            self._restore_model(resume)
        return Tracker(
            self.max_unseen_frames, _MIN_IOU, resume.tracker if resume is not None else None
        )

    def _restore_model(self, resume: VideoCheckpoint) -> None:
        """Give a stateful model the state saved in ``resume`` (see the module docstring)."""
        if not isinstance(self.model, StatefulPoseModel) or resume.next_frame == 0:
            return
        if resume.model_state is None:
            logger.warning(
                "checkpoint of %s carries no model state (made by an older NeuroPose): "
                "model %s restarts its tracking at frame %d, so the frames after it may "
                "differ from an uninterrupted run",
                resume.input_name,
                self.model.name,
                resume.next_frame,
            )
            return
        try:
            self.model.set_state(dict(resume.model_state))
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise CheckpointMismatchError(
                f"checkpoint of {resume.input_name} holds a model state that model "
                f"{self.model.name} cannot use: {exc}",
                hint="delete the checkpoint to restart this video from the beginning",
            ) from exc

    def _checkpoint(self, video: _Video, col: Collector) -> VideoCheckpoint:
        """The state from which :meth:`process_video` resumes after ``col.count`` frames."""
        state = col.model_state if col.model_state_next == col.count else None
        if state is None and isinstance(self.model, StatefulPoseModel) and col.count:
            logger.warning(
                "checkpoint of %s after %d frames has no model state (a model batch was "
                "cut); resuming from it may differ from an uninterrupted run",
                video.path.name,
                col.count,
            )
        return VideoCheckpoint(
            input_name=video.path.name,
            input_sha256=video.input_sha256,
            input_size_bytes=video.info.size_bytes,
            model_name=self.model.name,
            model_sha256=self.model.weights_sha256,
            options=self.result_options(),
            intrinsics=video.intrinsics,
            created_at=utc_now(),
            next_frame=col.count,
            timestamps_ms=np.asarray(col.ts, np.float64),
            tracker=col.tracker.state(),
            model_state=state,
            **col.tables(),
        )

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

    # ----------------------------------------------------------------- results
    def _finalise(
        self,
        video: _Video,
        col: Collector,
        short_read: bool,
        clocks: dict[str, StageClock],
        meter: ResourceMeter,
        t_start: float,
    ) -> VideoPredictions:
        """Assemble the video's :class:`VideoPredictions` from everything collected.

        The single place where a whole video's predictions are finalised:
        time axis and metadata, subject selection, metrics and provenance,
        then the whole-video post-processing (:func:`~neuropose.estimator.refine.refine`:
        left/right swap correction and landmark smoothing).
        """
        ts, metadata = video_metadata(
            video.info, np.asarray(col.ts, np.float64), short_read=short_read
        )
        tables = col.tables()
        primary = select_subject(
            self.subject_rule,
            tables["track_id"],
            tables["boxes"],
            video.info.width,
            video.info.height,
            video=video.path.name,
        )
        metrics = build_metrics(
            clocks,
            frames=col.count,
            wall_s=time.perf_counter() - t_start,
            meter=meter,
            mode="sequential" if self.sequential else "threaded",
            model_load_s=self.model_load_s,
            device=self.device,
        )
        provenance = build_provenance(
            self.model,
            self._provenance_options(),
            video.intrinsics,
            video.input_sha256,
            video.path.name,
        )
        predictions = VideoPredictions(
            video=video.path.name,
            skeleton=self.model.skeleton,
            metadata=metadata,
            provenance=provenance,
            metrics=metrics,
            subject_rule=self.subject_rule,
            primary_track_id=primary,
            frame_index=np.arange(col.count, dtype=np.int32),
            timestamp_s=ts,
            **tables,
        )
        return refine(predictions, self.refine_options)
