"""The estimator's per-frame path for live sources: one frame in, the subject's pose out.

:class:`FrameStream` runs the same model call (:class:`~neuropose.estimator.runner.BatchInfer`,
batches of one) and the same person selection and tracking
(:func:`~neuropose.estimator.collect.track_persons`) as
:meth:`Estimator.process_video <neuropose.estimator.Estimator.process_video>`,
frame by frame and without keeping a growing table. What it cannot do online
is what needs the whole video: the subject is chosen causally (the current
subject's track while it is detected, otherwise the largest box of the
frame) and no :func:`~neuropose.estimator.refine.refine` runs (no left/right
swap correction, no smoothing): its poses equal the offline run's
``poses3d_raw`` of that track.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neuropose.estimator.camera import load_camera_file
from neuropose.estimator.collect import Decoded, track_persons
from neuropose.estimator.metrics import StageClock
from neuropose.estimator.pipeline import _MIN_IOU, Estimator
from neuropose.estimator.runner import BatchInfer
from neuropose.estimator.tracking import Tracker
from neuropose.schemas import CameraIntrinsics

__all__ = ["FrameStream", "StreamFrame"]


@dataclass(frozen=True)
class StreamFrame:
    """The kept persons of one frame and the subject's pose.

    Attributes
    ----------
    track_id : ndarray (P,) int32
        Track ids of the kept persons, ascending.
    boxes : ndarray (P, 5) float32
        x, y, w, h (pixels) and score.
    poses3d : ndarray (P, J, 3) float32
        Millimetres, camera axes (x right, y down, z forward).
    subject : int or None
        Track id of the subject (None when nobody was detected).
    pose : ndarray (J, 3) float64
        The subject's joints, millimetres; all NaN when nobody was detected.
    """

    track_id: np.ndarray
    boxes: np.ndarray
    poses3d: np.ndarray
    subject: int | None
    pose: np.ndarray


class FrameStream:
    """Frame-by-frame inference with an :class:`~neuropose.estimator.Estimator`'s settings.

    Parameters
    ----------
    estimator : Estimator
        Supplies the model, ``max_persons``, ``max_unseen_frames``,
        ``camera_file`` and ``fov_degrees``. The model is reset here: one
        stream per model at a time.

    Attributes
    ----------
    infer_clock : StageClock
        Duration of each model call, seconds.
    """

    def __init__(self, estimator: Estimator) -> None:
        self.estimator = estimator
        self.model = estimator.model
        self.model.reset()
        self.tracker = Tracker(estimator.max_unseen_frames, _MIN_IOU)
        self.infer_clock = StageClock()
        self._infer = BatchInfer(self.model)
        self._intrinsics: CameraIntrinsics | None = None
        self._subject: int | None = None
        self._joints = len(self.model.skeleton.joints)

    def intrinsics(self, width: int, height: int) -> CameraIntrinsics:
        """The camera file's intrinsics, else a pinhole of ``fov_degrees`` (fixed at first use)."""
        if self._intrinsics is None:
            est = self.estimator
            self._intrinsics = (
                load_camera_file(est.camera_file)
                if est.camera_file is not None
                else CameraIntrinsics.from_fov(width, height, est.fov_degrees)
            )
        return self._intrinsics

    def step(self, index: int, rgb: np.ndarray) -> StreamFrame:
        """Predict one upright RGB frame ``(H, W, 3)`` uint8; ``index`` must increase.

        Raises
        ------
        ModelFailedError
            The model raised (chained) or returned no result for the frame.
        """
        h, w = rgb.shape[:2]
        frame = Decoded(index, None, rgb, time.perf_counter())
        (det,) = self._infer([frame], self.intrinsics(w, h), self.infer_clock, None)
        sel, ids, boxes = track_persons(det, self.estimator.max_persons, self.tracker, index)
        poses3d = det.poses3d[sel].astype(np.float32)
        subject = self._choose(ids, boxes)
        pose = np.full((self._joints, 3), np.nan)
        if subject is not None:
            pose = poses3d[int(np.nonzero(ids == subject)[0][0])].astype(np.float64)
        return StreamFrame(ids, boxes, poses3d, subject, pose)

    def _choose(self, ids: np.ndarray, boxes: np.ndarray) -> int | None:
        if ids.size == 0:
            return None
        if self._subject is None or self._subject not in ids.tolist():
            area = boxes[:, 2].astype(np.float64) * boxes[:, 3]
            self._subject = int(ids[int(np.argmax(area))])
        return self._subject
