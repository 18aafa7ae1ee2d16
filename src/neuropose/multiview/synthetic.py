"""Virtual rigs and a known 3D motion, for tests, benchmarks and examples.

The motion is a BlazePose-33 body walking along world +x at ``speed``
(mm/s), z up, its left side at +y, with legs and arms swinging about the
hips and shoulders (segment lengths are exactly constant).
"""

from __future__ import annotations

import numpy as np

from neuropose.multiview.geometry import look_at
from neuropose.schemas.rig import CameraRig, RigCamera
from neuropose.skeletons import BLAZEPOSE_33

__all__ = ["project_views", "ring_rig", "walking_motion"]

_SIDE = {  # x, |y|, z of left-side joints (mm); right side mirrors y
    "eye_inner": (50, 15, 1680),
    "eye": (50, 30, 1680),
    "eye_outer": (45, 45, 1680),
    "ear": (0, 75, 1660),
    "shoulder": (0, 180, 1450),
    "elbow": (0, 200, 1170),
    "wrist": (0, 210, 900),
    "pinky": (0, 215, 820),
    "index": (20, 205, 810),
    "thumb": (30, 195, 850),
    "hip": (0, 100, 950),
    "knee": (0, 105, 520),
    "ankle": (0, 110, 90),
    "heel": (-50, 110, 50),
    "foot_index": (150, 110, 20),
}
_LEG = ("knee", "ankle", "heel", "foot_index")
_ARM = ("elbow", "wrist", "pinky", "index", "thumb")


def _template() -> np.ndarray:
    pts = np.zeros((33, 3))
    for i, name in enumerate(BLAZEPOSE_33.joints):
        if name == "nose":
            pts[i] = (60, 0, 1650)
        elif name.startswith("mouth_"):
            pts[i] = (55, 25 if name.endswith("left") else -25, 1610)
        else:
            side, part = name.split("_", 1)
            x, y, z = _SIDE[part]
            pts[i] = (x, y if side == "left" else -y, z)
    return pts


def walking_motion(
    n_frames: int, fps: float = 60.0, *, speed: float = 1000.0, cadence_hz: float = 0.9
) -> np.ndarray:
    """World positions (F, 33, 3) mm of the walking body, starting at x = -speed * T / 2.

    Examples
    --------
    >>> m = walking_motion(3)
    >>> m.shape, bool(np.all(np.isfinite(m)))
    ((3, 33, 3), True)
    """
    t = np.arange(n_frames) / fps
    base = _template()
    names = BLAZEPOSE_33.joints
    out = np.repeat(base[None], n_frames, axis=0)
    for side, phase in (("left", 0.0), ("right", np.pi)):
        for parts, pivot, amp, ph in (
            (_LEG, "hip", 0.45, phase),
            (_ARM, "shoulder", 0.35, phase + np.pi),
        ):
            p = base[names.index(f"{side}_{pivot}")]
            ang = amp * np.sin(2 * np.pi * cadence_hz * t + ph)
            c, s = np.cos(ang), np.sin(ang)
            for part in parts:
                j = names.index(f"{side}_{part}")
                d = base[j] - p  # rotate about the lateral (y) axis through the pivot
                out[:, j, 0] = p[0] + c * d[0] + s * d[2]
                out[:, j, 2] = p[2] - s * d[0] + c * d[2]
    out[..., 0] += speed * (t - t[-1] / 2)[:, None]
    return out


def ring_rig(
    n_cameras: int,
    *,
    radius: float = 4000.0,
    height: float = 1500.0,
    distortion: tuple[float, ...] = (-0.05, 0.1, 0.001, -0.001),
    size: tuple[int, int] = (1080, 1920),
    f: float = 1500.0,
) -> CameraRig:
    """``n_cameras`` cameras on a circle around the origin looking at (0, 0, 900) mm, z up.

    Three or more are spread evenly; two stand 90 degrees apart (opposite
    cameras would triangulate poorly along their common axis).
    """
    cams: list[RigCamera] = []
    step = 2 * np.pi / n_cameras if n_cameras >= 3 else np.pi / 2
    for i in range(n_cameras):
        a = step * i + 0.3
        pos = (radius * np.cos(a), radius * np.sin(a), height)
        cams.append(look_at(f"cam{i + 1}", pos, (0, 0, 900), f=f, size=size, distortion=distortion))
    return CameraRig(cameras=tuple(cams), up_axis="+z", source_format="json", source_name="virtual")


def project_views(
    points_mm: np.ndarray,
    cams: tuple[RigCamera, ...],
    *,
    noise_px: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Distorted pixel projections (V, F, J, 2) with Gaussian noise; NaN behind a camera."""
    rng = rng or np.random.default_rng(0)
    f, j = points_mm.shape[:2]
    out = np.stack([c.project(points_mm.reshape(-1, 3)).reshape(f, j, 2) for c in cams])
    return out + rng.normal(0.0, noise_px, out.shape) if noise_px > 0 else out
