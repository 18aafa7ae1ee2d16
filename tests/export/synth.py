"""A BlazePose-33 subject with known positions, for export round trips.

The subject stands facing the camera (camera axes, mm: x right, y down,
z forward), 3 m away, feet flat on a floor at y = +900 mm, and sways along x
by ±40 mm. Its left side is at +x (image right). OpenSim's frame is then
exactly: X = −z, Y = −y, Z = −x (``ROTATION`` rows), and the ground is at the
heel height. Timestamps are 30 fps with jitter (true timestamps must be
kept). ``MISSING_FRAMES`` have no detection (a 3-frame gap).
"""

from __future__ import annotations

import numpy as np

from neuropose.schemas import CameraIntrinsics, Provenance, VideoMetadata, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33

N = 60
MISSING_FRAMES = (20, 21, 22)
ROTATION = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])

# x (left is +), y (down is +), z (toward the camera is −): a standing subject.
_TEMPLATE = {
    "nose": (0, -700, -90),
    "left_eye_inner": (15, -730, -80),
    "left_eye": (30, -730, -80),
    "left_eye_outer": (45, -730, -75),
    "right_eye_inner": (-15, -730, -80),
    "right_eye": (-30, -730, -80),
    "right_eye_outer": (-45, -730, -75),
    "left_ear": (75, -710, 0),
    "right_ear": (-75, -710, 0),
    "mouth_left": (25, -660, -80),
    "mouth_right": (-25, -660, -80),
    "left_shoulder": (180, -450, 0),
    "right_shoulder": (-180, -450, 0),
    "left_elbow": (200, -170, 0),
    "right_elbow": (-200, -170, 0),
    "left_wrist": (210, 80, -20),
    "right_wrist": (-210, 80, -20),
    "left_pinky": (220, 160, -20),
    "right_pinky": (-220, 160, -20),
    "left_index": (210, 170, -40),
    "right_index": (-210, 170, -40),
    "left_thumb": (190, 140, -50),
    "right_thumb": (-190, 140, -50),
    "left_hip": (100, 0, 0),
    "right_hip": (-100, 0, 0),
    "left_knee": (110, 430, -20),
    "right_knee": (-110, 430, -20),
    "left_ankle": (110, 830, 0),
    "right_ankle": (-110, 830, 0),
    "left_heel": (110, 900, 50),
    "right_heel": (-110, 900, 50),
    "left_foot_index": (120, 900, -150),
    "right_foot_index": (-120, 900, -150),
}


def positions(n: int = N) -> np.ndarray:
    """(n, 33, 3) mm, camera axes, every frame present (float32-exact values)."""
    base = np.array([_TEMPLATE[j] for j in BLAZEPOSE_33.joints], dtype=np.float64)
    base = base + np.array([0.0, 0.0, 3000.0])
    sway = 40.0 * np.sin(np.arange(n) / n * 2 * np.pi)
    out = base[None].repeat(n, axis=0)
    out[:, :, 0] += sway[:, None]
    return out.astype(np.float32).astype(np.float64)


def timestamps(n: int = N) -> np.ndarray:
    """30 fps with ±2 ms jitter, seconds."""
    jitter = 0.002 * np.sin(np.arange(n) * 1.7)
    return np.arange(n) / 30.0 + 1.0 + jitter


def confidence(n: int = N) -> np.ndarray:
    """(n, 33) confidence 0.5..0.99 varying by joint and frame."""
    return (0.5 + 0.49 * np.abs(np.sin(np.arange(n)[:, None] + np.arange(33)[None]))).astype(
        np.float32
    )


def build(
    *,
    n: int = N,
    missing: tuple[int, ...] = MISSING_FRAMES,
    nan_joints: dict[str, range] | None = None,
    video: str = "walk.mp4",
) -> VideoPredictions:
    """Predictions of the subject; ``nan_joints`` blanks joints on frame ranges."""
    pos = positions(n)
    conf = confidence(n)
    for name, frames in (nan_joints or {}).items():
        pos[list(frames), BLAZEPOSE_33.index(name)] = np.nan
    keep = [f for f in range(n) if f not in missing]
    return VideoPredictions(
        video=video,
        skeleton=BLAZEPOSE_33,
        metadata=VideoMetadata(width=640, height=480, decoded_frame_count=n, duration_s=n / 30),
        provenance=Provenance(
            model_name="synthetic",
            model_sha256="a" * 64,
            root_relative=False,
            intrinsics=CameraIntrinsics.from_fov(640, 480, 55.0),
            input_sha256="b" * 64,
            input_name=video,
            created_at="2026-01-01T00:00:00Z",
        ),
        primary_track_id=0,
        frame_index=np.arange(n, dtype=np.int32),
        timestamp_s=timestamps(n),
        det_frame=np.array(keep, np.int32),
        track_id=np.zeros(len(keep), np.int32),
        boxes=np.tile(np.float32([100, 50, 200, 400, 0.9]), (len(keep), 1)),
        poses3d=pos[keep].astype(np.float32),
        poses2d=np.zeros((len(keep), 33, 2), np.float32),
        confidence=conf[keep],
    )


def expected_trc(pos_mm: np.ndarray) -> np.ndarray:
    """OpenSim positions (m) of camera-frame ``pos_mm`` for this subject (origin as documented)."""
    world = np.einsum("ij,fmj->fmi", ROTATION, pos_mm) / 1000.0
    li, ri = BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")
    pelvis = (world[:, li] + world[:, ri]) / 2
    ok = np.isfinite(pelvis).all(axis=1)
    origin = np.array([np.median(pelvis[ok, 0]), -0.900, np.median(pelvis[ok, 2])])
    return world - origin
