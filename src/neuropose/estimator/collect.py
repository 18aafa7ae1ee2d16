"""The collect stage: persons per frame, track ids, the growing prediction table.

:class:`Collector` receives frames in decode order with the model's
detections, keeps at most ``max_persons`` per frame (highest box score
first, ties by detection order), assigns track ids
(:mod:`neuropose.estimator.tracking`) and appends one row per person to the
prediction table, sorted by track id within a frame. It runs on the caller's
thread, so ``progress`` and ``on_checkpoint`` run there too. A checkpoint is
the table so far plus the tracker's state and the model's state after the
last collected frame; :class:`Collector` built from a checkpoint continues
the same table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuropose.estimator.tracking import Tracker
from neuropose.models.base import FrameDetections
from neuropose.schemas import VideoCheckpoint

__all__ = [
    "CheckpointCallback",
    "Collector",
    "Decoded",
    "Inferred",
    "ProgressCallback",
    "track_persons",
]

#: ``progress(frames_done, frames_expected)``; called after every collected frame.
ProgressCallback = Callable[[int, int | None], None]
#: ``on_checkpoint(checkpoint)``; the caller persists it.
CheckpointCallback = Callable[[VideoCheckpoint], None]


@dataclass
class Decoded:
    """One decoded frame on its way to the model.

    ``rgb`` is set to None once the model has returned and the buffer went
    back to the frame pool; ``t_start`` is the ``perf_counter`` time its
    decoding started (for the frame's latency).
    """

    index: int
    ts_ms: float | None
    rgb: np.ndarray | None
    t_start: float


@dataclass
class Inferred:
    """A batch of frames and the model's detections, one per frame."""

    frames: list[Decoded]
    dets: list[FrameDetections]
    #: The model's state after the batch's last frame (None for a stateless model).
    model_state: dict[str, Any] | None = None


def track_persons(
    det: FrameDetections, max_persons: int, tracker: Tracker, frame_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep at most ``max_persons`` of one frame's detections and give them track ids.

    Persons are ranked by box score (ties by detection order); the kept ones
    are returned sorted by track id. The one per-frame selection rule of the
    collect stage and of the live stream (:mod:`neuropose.estimator.stream`).

    Returns
    -------
    sel : ndarray (P,) int
        Row of each kept person in ``det``, in track-id order.
    ids : ndarray (P,) int32
        Their track ids, ascending.
    boxes : ndarray (P, 5) float32
        Their boxes.
    """
    p = det.num_persons
    order = np.arange(p)
    if p:
        order = np.lexsort((np.arange(p), -det.boxes[:, 4].astype(np.float64)))
        order = order[:max_persons]
    boxes = det.boxes[order].astype(np.float32)
    ids = tracker.update(frame_index, boxes)
    srt = np.argsort(ids, kind="stable")
    return order[srt], ids[srt].astype(np.int32), boxes[srt]


class Collector:
    """The collect stage's state: tracker, growing tables, callbacks.

    Parameters
    ----------
    tracker : Tracker
        Track-id assignment, fresh or restored from ``resume``.
    max_persons : int
        Persons kept per frame (highest box score first).
    num_joints : int
        Joints of the model's skeleton (a model returning another number
        fails the collect stage).
    resume : VideoCheckpoint, optional
        Table collected before the resume point; counting continues at
        ``resume.next_frame``.
    frames_expected : int, optional
        Declared frame count, passed to ``progress``.
    progress, on_checkpoint
        Callbacks (see :class:`~neuropose.estimator.Estimator`).
    stop_event : threading.Event, optional
        Checked before every frame (:meth:`stop_requested`).
    checkpoint_every : int, optional
        Call ``on_checkpoint(make_checkpoint(self))`` every this many frames.
    make_checkpoint : callable
        Builds the checkpoint of this collector's state.

    Attributes
    ----------
    count : int
        Frames collected, including those before the resume point.
    latencies : list of float
        Decode-start → collected latency of each frame of this run, seconds.
    """

    def __init__(
        self,
        *,
        tracker: Tracker,
        max_persons: int,
        num_joints: int,
        resume: VideoCheckpoint | None,
        frames_expected: int | None,
        progress: ProgressCallback | None,
        stop_event: threading.Event | None,
        checkpoint_every: int | None,
        on_checkpoint: CheckpointCallback | None,
        make_checkpoint: Callable[[Collector], VideoCheckpoint],
    ) -> None:
        self.tracker = tracker
        self.max_persons = max_persons
        self.j = num_joints
        self.frames_expected = frames_expected
        self.progress = progress
        self.stop_event = stop_event
        self.every = checkpoint_every
        self.on_checkpoint = on_checkpoint
        self.make_checkpoint = make_checkpoint
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
        #: The model's state after frame ``model_state_next - 1`` (checkpoints carry it).
        self.model_state: dict[str, Any] | None = None
        self.model_state_next = 0
        if resume is not None:
            self.model_state = resume.model_state
            self.model_state_next = resume.next_frame
            self.count = resume.next_frame
            self.ts = [float(v) for v in resume.timestamps_ms]
            self.det_frame = [resume.det_frame]
            self.track_id = [resume.track_id]
            self.boxes = [resume.boxes]
            self.poses3d = [resume.poses3d]
            self.poses2d = [resume.poses2d]
            self.conf = [resume.confidence]
            self.any_conf = resume.confidence is not None

    def stop_requested(self) -> bool:
        """True once the caller's ``stop_event`` is set."""
        return self.stop_event is not None and self.stop_event.is_set()

    def add(
        self, frame: Decoded, det: FrameDetections, model_state: dict[str, Any] | None = None
    ) -> None:
        """Append the rows of one frame, then call ``progress`` and maybe ``on_checkpoint``.

        ``model_state`` is the model's state right after this frame, when known
        (the last frame of each model batch of a stateful model).

        Raises
        ------
        RuntimeError
            A frame out of decode order, or detections with a joint count
            other than the skeleton's (the caller wraps it as a stage failure).
        """
        if frame.index != self.count:
            raise RuntimeError(f"frame {frame.index} arrived when {self.count} was expected")
        if det.poses3d.shape[1] != self.j:
            raise RuntimeError(
                f"model returned {det.poses3d.shape[1]} joints, its skeleton has {self.j}"
            )
        sel, ids, boxes = track_persons(det, self.max_persons, self.tracker, frame.index)
        self.det_frame.append(np.full(len(sel), frame.index, np.int32))
        self.track_id.append(ids)
        self.boxes.append(boxes)
        self.poses3d.append(det.poses3d[sel].astype(np.float32))
        self.poses2d.append(det.poses2d[sel].astype(np.float32))
        if det.confidence is not None:
            self.any_conf = True
            self.conf.append(det.confidence[sel].astype(np.float32))
        else:
            self.conf.append(None)
        self.ts.append(np.nan if frame.ts_ms is None else frame.ts_ms)
        self.count += 1
        if model_state is not None:
            self.model_state, self.model_state_next = model_state, self.count
        self.latencies.append(time.perf_counter() - frame.t_start)
        if self.progress is not None:
            self.progress(self.count, self.frames_expected)
        if self.every and self.on_checkpoint is not None and self.count % self.every == 0:
            self.on_checkpoint(self.make_checkpoint(self))

    def tables(self) -> dict[str, Any]:
        """The prediction table so far, as the array fields of ``VideoPredictions``.

        ``confidence`` is None when the model never returned confidences,
        otherwise NaN on the rows of frames where it did not.
        """

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
