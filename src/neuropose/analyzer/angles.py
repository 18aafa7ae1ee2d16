"""Joint angles by clinical name, with documented conventions.

All angles are in **degrees**; inputs are 3D positions (…, 3) in any
consistent unit. NaN in any contributing joint gives NaN in the angle (no
exception). Conventions (see also the table in ``docs/analyzer.md``):

======================  ==========================================  ==========================
angle                   definition                                  zero / sign
======================  ==========================================  ==========================
knee flexion            180° − ∠(hip, knee, ankle)                  0 = straight; + flexed
elbow flexion           180° − ∠(shoulder, elbow, wrist)            0 = straight; + flexed
hip flexion             thigh (hip→knee) vs trunk-down (neck→       0 = thigh along trunk;
                        pelvis), both projected on the sagittal     + knee in front of the
                        plane (normal = pelvis left–right axis)     trunk line (flexion),
                                                                    − extension
shoulder elevation      ∠ between upper arm (shoulder→elbow) and    0 = arm hanging along the
                        trunk-down (neck→pelvis), 3D, unsigned      trunk; 90 = horizontal;
                                                                    180 = overhead (any plane)
ankle dorsiflexion      90° − ∠(ankle→knee, heel→toe)               0 = foot ⟂ shank;
                                                                    + dorsiflexion,
                                                                    − plantarflexion
trunk inclination       ∠ between trunk (pelvis→neck) and the       0 = upright; unsigned
                        estimated up axis                           (any direction)
3-point angle           ∠(a, b, c) at vertex b, 0..180              —
segment angle           ∠ between segment a→b and a reference       0..180
                        vector (e.g. the up axis)
======================  ==========================================  ==========================

The vector functions live in :mod:`neuropose.geometry` (shared with
:mod:`neuropose.signals`) and are re-exported here.

The up axis is **estimated**, never assumed to be the camera's −y: a camera
may be tilted or the video rotated. :func:`estimate_up_axis` fits a plane to
the lowest heel and toe positions over the recording — the ground —
and orients its normal from the feet towards the head; without feet it
falls back to the median body axis (mid-ankle or pelvis → neck).

Examples
--------
>>> import numpy as np
>>> round(float(angle_3pt(np.array([1.0, 0, 0]), np.zeros(3), np.array([0, 1.0, 0]))), 6)
90.0
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from neuropose.analyzer.load import JointNotFoundError, Trial
from neuropose.errors import InputError
from neuropose.geometry import (
    angle_3pt,
    angle_between,
    segment_angle,
    signed_angle_in_plane,
)
from neuropose.geometry import unit_vector as _unit

__all__ = [
    "ANGLE_NAMES",
    "UpAxis",
    "angle_3pt",
    "angle_between",
    "compute_angle",
    "estimate_up_axis",
    "segment_angle",
    "signed_angle_in_plane",
]

_SIDES = ("left", "right")
_KINDS = (
    "knee_flexion",
    "hip_flexion",
    "elbow_flexion",
    "shoulder_elevation",
    "ankle_dorsiflexion",
)
#: Every named angle :func:`compute_angle` knows.
ANGLE_NAMES: tuple[str, ...] = (
    *(f"{s}_{k}" for k in _KINDS for s in _SIDES),
    "trunk_inclination",
)


@dataclass(frozen=True)
class UpAxis:
    """An estimated vertical direction.

    Attributes
    ----------
    vector : ndarray, shape (3,)
        Unit vector pointing up (feet → head), camera axes.
    method : str
        ``"ground_plane"`` (normal of a plane fitted to the lowest foot
        points), ``"body_axis"`` (median feet/pelvis → neck direction) or
        ``"given"`` or ``"calibration"`` (the world's up axis of a
        triangulated trial; ``tilt_from_camera_deg`` is then not meaningful).
    tilt_from_camera_deg : float
        Angle between the estimate and the camera's −y axis, for reports.
    """

    vector: np.ndarray
    method: str
    tilt_from_camera_deg: float

    def record(self) -> dict[str, object]:
        """JSON-ready record for transform logs."""
        return {
            "vector": [round(float(x), 6) for x in self.vector],
            "method": self.method,
            "tilt_from_camera_deg": round(self.tilt_from_camera_deg, 3),
        }


def _make_up(vec: np.ndarray, method: str) -> UpAxis:
    v = vec / np.linalg.norm(vec)
    tilt = float(np.degrees(np.arccos(np.clip(-v[1], -1.0, 1.0))))
    return UpAxis(vector=v, method=method, tilt_from_camera_deg=tilt)


def _optional(trial: Trial, name: str) -> np.ndarray | None:
    try:
        return trial.joint(name)
    except JointNotFoundError:
        return None


def estimate_up_axis(trial: Trial, *, method: str = "auto") -> UpAxis:
    """Estimate the vertical (up) direction of a recording.

    Parameters
    ----------
    trial : Trial
        The subject's poses.
    method : {"auto", "ground_plane", "body_axis", "camera"}
        ``ground_plane`` fits a plane (least squares, SVD) to the heel and
        toe positions lying in the lowest 30 % of each joint's own height
        range along a provisional body axis — the ground contacts — and
        uses its normal; it needs both heels and both toes. ``body_axis`` uses the
        median unit vector from the mid-ankles (or pelvis) to the neck.
        ``camera`` returns −y (only for data known to be upright). ``auto``
        uses the calibration's up axis when the trial has one
        (:attr:`Trial.up`, method ``"calibration"``), else tries
        ``ground_plane``, then ``body_axis``.

    Returns
    -------
    UpAxis

    Raises
    ------
    InputError
        When no finite neck/pelvis data exist to orient the axis.
    """
    if method == "camera":
        return _make_up(np.array([0.0, -1.0, 0.0]), "camera")
    if method == "auto" and trial.up is not None:
        return _make_up(np.asarray(trial.up, dtype=np.float64), "calibration")
    if method not in {"auto", "ground_plane", "body_axis"}:
        raise InputError(
            f"unknown up-axis method {method!r}",
            hint="use auto, ground_plane, body_axis or camera",
        )
    neck = _optional(trial, "neck")
    if neck is None:
        raise InputError(f"{trial.source}: cannot estimate the up axis without a 'neck' joint")
    contacts = [
        j
        for j in (_optional(trial, f"{s}_{part}") for s in _SIDES for part in ("heel", "toe"))
        if j is not None
    ]
    ankles = [a for a in (_optional(trial, f"{s}_ankle") for s in _SIDES) if a is not None]
    if ankles:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames stay NaN
            base = np.nanmean(np.stack(ankles), axis=0)
    else:
        base = _optional(trial, "pelvis")
    if base is None:
        raise InputError(f"{trial.source}: cannot estimate the up axis without ankles or pelvis")
    with np.errstate(invalid="ignore"):
        axis = _unit(neck - base)
    good = np.isfinite(axis).all(axis=1)
    if not good.any():
        raise InputError(f"{trial.source}: no frame has the joints needed to estimate the up axis")
    body = np.median(axis[good], axis=0)
    body = body / np.linalg.norm(body)
    if method == "body_axis" or len(contacts) < 4:
        return _make_up(body, "body_axis")
    # Ground contacts: each heel/toe in the lowest 30 % of its own height range.
    lows = []
    for c in contacts:
        c = c[np.isfinite(c).all(axis=1)]
        if c.shape[0] == 0:
            continue
        h = c @ body
        lows.append(c[h <= np.quantile(h, 0.3) + 1e-9])
    if len(lows) < 4:
        return _make_up(body, "body_axis")
    low = np.concatenate(lows, axis=0)
    centred = low - low.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    normal = vt[-1]
    # A degenerate point cloud (a line) cannot define a plane.
    if s[1] < 1e-6 * max(s[0], 1e-12):
        return _make_up(body, "body_axis")
    if normal @ body < 0:
        normal = -normal
    # Guard against fitting a vertical plane (e.g. feet at very different heights).
    if normal @ body < np.cos(np.radians(45)):
        return _make_up(body, "body_axis")
    return _make_up(normal, "ground_plane")


def _side(name: str) -> tuple[str, str]:
    for s in _SIDES:
        if name.startswith(s + "_"):
            return s, name[len(s) + 1 :]
    return "", name


def compute_angle(trial: Trial, name: str, *, up: UpAxis | None = None) -> np.ndarray:
    """Named clinical angle of a trial, shape (F,), degrees (NaN where joints are missing).

    Parameters
    ----------
    trial : Trial
        The subject's poses.
    name : str
        One of :data:`ANGLE_NAMES` (``left_knee_flexion``, ``trunk_inclination``...).
    up : UpAxis, optional
        Up axis for ``trunk_inclination``; estimated when omitted.

    Raises
    ------
    InputError
        Unknown angle name, or a joint it needs is not in the skeleton.
    """
    side, kind = _side(name)
    j = trial.joint
    if name == "trunk_inclination":
        axis = (up or estimate_up_axis(trial)).vector
        return segment_angle(j("pelvis"), j("neck"), axis)
    if name not in ANGLE_NAMES:
        raise InputError(
            f"unknown angle {name!r}",
            hint=f"known angles: {', '.join(ANGLE_NAMES)}; or use a 3-point angle",
        )
    s = side
    if kind == "knee_flexion":
        return 180.0 - angle_3pt(j(f"{s}_hip"), j(f"{s}_knee"), j(f"{s}_ankle"))
    if kind == "elbow_flexion":
        return 180.0 - angle_3pt(j(f"{s}_shoulder"), j(f"{s}_elbow"), j(f"{s}_wrist"))
    if kind == "shoulder_elevation":
        return angle_between(j(f"{s}_elbow") - j(f"{s}_shoulder"), j("pelvis") - j("neck"))
    if kind == "ankle_dorsiflexion":
        shank_up = j(f"{s}_knee") - j(f"{s}_ankle")
        return 90.0 - angle_between(shank_up, j(f"{s}_toe") - j(f"{s}_heel"))
    # hip flexion: signed, sagittal plane. With L = subject's left and U = up, the
    # subject faces F = L × U; a right-hand rotation about the rightward axis (−L)
    # turns "down" towards F, so that sign is flexion.
    rightward = j("right_hip") - j("left_hip")
    trunk_down = j("pelvis") - j("neck")
    thigh = j(f"{s}_knee") - j(f"{s}_hip")
    return signed_angle_in_plane(trunk_down, thigh, rightward)
