"""The pose-model protocol every backend implements.

A :class:`PoseModel` turns a batch of upright RGB frames into per-frame,
per-person detections. It knows nothing about videos, threads or files: the
estimator owns batching across frames and the video pipeline.

Conventions
-----------
* ``frames``: ndarray (N, H, W, 3) uint8 RGB, all of one size.
* ``boxes``: (P, 5) float32 — x, y, w, h in pixels of the input frame
  (top-left origin) and a detection score in 0..1.
* ``poses3d``: (P, J, 3) float32 millimetres in the camera frame (x right,
  y down, z forward). When :attr:`PoseModel.root_relative` is true the
  coordinates are relative to the model's root joint (hip centre) and carry
  no absolute depth.
* ``poses2d``: (P, J, 2) float32 pixels of the input frame.
* ``confidence``: (P, J) float32 in 0..1, or ``None`` when the model gives no
  per-joint confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from neuropose.schemas import CameraIntrinsics, Skeleton

__all__ = ["FrameDetections", "PoseModel", "StatefulPoseModel", "model_state"]


@dataclass(frozen=True)
class FrameDetections:
    """Detections of one frame (see the module docstring for shapes and units)."""

    boxes: np.ndarray
    poses3d: np.ndarray
    poses2d: np.ndarray
    confidence: np.ndarray | None

    def __post_init__(self) -> None:
        p = self.boxes.shape[0]
        if self.boxes.shape != (p, 5):
            raise ValueError(f"boxes must have shape (P, 5), got {self.boxes.shape}")
        if self.poses3d.ndim != 3 or self.poses3d.shape[0] != p or self.poses3d.shape[2] != 3:
            raise ValueError(f"poses3d must have shape ({p}, J, 3), got {self.poses3d.shape}")
        j = self.poses3d.shape[1]
        if self.poses2d.shape != (p, j, 2):
            raise ValueError(f"poses2d must have shape ({p}, {j}, 2), got {self.poses2d.shape}")
        if self.confidence is not None and self.confidence.shape != (p, j):
            raise ValueError(f"confidence must have shape ({p}, {j}), got {self.confidence.shape}")

    @property
    def num_persons(self) -> int:
        """Number of detected persons P."""
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls, num_joints: int, with_confidence: bool = True) -> FrameDetections:
        """A frame with no person."""
        return cls(
            boxes=np.zeros((0, 5), np.float32),
            poses3d=np.zeros((0, num_joints, 3), np.float32),
            poses2d=np.zeros((0, num_joints, 2), np.float32),
            confidence=np.zeros((0, num_joints), np.float32) if with_confidence else None,
        )


@runtime_checkable
class PoseModel(Protocol):
    """What the estimator needs from a pose model.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"blazepose-full"``.
    skeleton : Skeleton
        Joint names and edges of the outputs.
    weights_sha256 : str
        SHA-256 of the weight bytes actually loaded.
    root_relative : bool
        Whether ``poses3d`` are root-relative (see module docstring).
    max_batch_size : int
        Largest batch :meth:`predict` handles efficiently; 1 for models that
        process frames one at a time (the estimator then sends single frames).
    options : dict
        Inference options, recorded in provenance.
    """

    name: str
    skeleton: Skeleton
    weights_sha256: str
    root_relative: bool
    max_batch_size: int
    options: dict[str, Any]

    def predict(self, frames: np.ndarray, intrinsics: CameraIntrinsics) -> list[FrameDetections]:
        """Detections for each frame of ``frames`` (N, H, W, 3) uint8 RGB, in order."""
        ...

    def reset(self) -> None:
        """Forget frame-to-frame state (tracking ROIs) before a new video."""
        ...


@runtime_checkable
class StatefulPoseModel(Protocol):
    """Optional extension of :class:`PoseModel` for models with frame-to-frame state.

    A model whose result for a frame depends on earlier frames (e.g. a ROI
    tracker with smoothing filters) implements both methods so that a video
    resumed from a checkpoint equals an uninterrupted run. Models without
    state (MeTRAbs, test fakes) simply do not define them.
    """

    def get_state(self) -> dict[str, Any] | None:
        """JSON-serialisable state after the last frame predicted (a fresh copy)."""
        ...

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from a state returned by :meth:`get_state` (after :meth:`PoseModel.reset`)."""
        ...


def model_state(model: object) -> dict[str, Any] | None:
    """``model.get_state()`` for a :class:`StatefulPoseModel`, None for any other model.

    >>> model_state(object()) is None
    True
    """
    return model.get_state() if isinstance(model, StatefulPoseModel) else None
