"""Synthetic multi-view job folders: a JSON calibration of a virtual rig, tiny videos, views."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neuropose.schemas import VideoMetadata, VideoPredictions
from neuropose.schemas.rig import CameraRig
from neuropose.skeletons import BLAZEPOSE_33


def write_rig_json(rig: CameraRig, path: Path) -> Path:
    """``rig`` in the plain JSON calibration layout (``parse_opencv_mapping``)."""
    cams = {
        c.name: {
            "size": [c.width, c.height],
            "K": c.K.tolist(),
            "dist": list(c.distortion),
            "R": c.R.tolist(),
            "t": c.t.tolist(),
        }
        for c in rig.cameras
    }
    path.write_text(json.dumps({"up_axis": rig.up_axis, "unit_mm": 1, "cameras": cams}))
    return path


def write_video(path: Path, *, fps: float = 30.0, size: tuple[int, int] = (64, 48), n: int = 4):
    """A tiny real MP4 (``size`` = width, height) that OpenCV can probe."""
    import cv2

    w, h = size
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(n):
        out.write(np.full((h, w, 3), 40 * i, np.uint8))
    out.release()
    return path


def view(name: str, px: np.ndarray, size: tuple[int, int], fps: float = 60.0) -> VideoPredictions:
    """One-person predictions of a video whose model 2D keypoints are ``px`` (F, J, 2)."""
    f = px.shape[0]
    base = VideoPredictions.empty_for_tests(BLAZEPOSE_33, f).model_dump()
    base.update(
        video=name,
        metadata=VideoMetadata(
            width=size[0],
            height=size[1],
            decoded_frame_count=f,
            fps_reported=fps,
            duration_s=f / fps,
        ),
        timestamp_s=np.arange(f) / fps,
        det_frame=np.arange(f, dtype=np.int32),
        track_id=np.zeros(f, np.int32),
        boxes=np.tile(np.array([[0, 0, 100, 100, 1]], np.float32), (f, 1)),
        poses3d=np.zeros((f, 33, 3), np.float32),
        poses2d=px.astype(np.float32),
        confidence=np.full((f, 33), 0.9, np.float32),
        primary_track_id=0,
    )
    return VideoPredictions(**base)
