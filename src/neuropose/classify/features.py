"""Feature vectors of one window: statistics of joint angles and speeds.

The default extractor (:class:`WindowStats`) computes, **from the window's
own frames only** (so the same function gives the same numbers offline and
live), these per-frame signals:

* the analyzer's named clinical angles (:func:`neuropose.analyzer.compute_angle`,
  degrees, conventions in ``docs/analyzer.md``): knee, hip and elbow flexion
  and shoulder elevation, left and right — those the skeleton can provide;
* the speed (mm/s) of the wrists and ankles **relative to the pelvis**
  (root-relative models know no absolute translation), derivatives from the
  frame timestamps (:func:`neuropose.analyzer.speed`);

and summarises each with :data:`STATS` over the window's frames: ``mean``,
``sd`` (population, ddof = 0), ``min``, ``max`` and ``range`` (max − min).
Missing frames (NaN) are left out of every statistic; a signal with no
finite value in the window makes its features NaN and the window is
rejected (``features_undefined``). Features are named ``<signal>.<stat>``,
e.g. ``left_knee_flexion.mean``.

:class:`SignalStats` uses the outputs of a derived-signal graph instead
(``--spec``), with the same statistics.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from neuropose.analyzer.angles import compute_angle
from neuropose.analyzer.kinematics import speed
from neuropose.analyzer.load import trial_from_arrays
from neuropose.schemas import Skeleton

__all__ = [
    "ANGLES",
    "SPEED_JOINTS",
    "STATS",
    "WindowStats",
    "definition_sha256",
    "stats_of",
]

#: Angles used by :class:`WindowStats` when the skeleton provides their joints.
ANGLES: tuple[str, ...] = (
    "left_knee_flexion",
    "right_knee_flexion",
    "left_hip_flexion",
    "right_hip_flexion",
    "left_elbow_flexion",
    "right_elbow_flexion",
    "left_shoulder_elevation",
    "right_shoulder_elevation",
)
#: Joints whose speed relative to the pelvis is used.
SPEED_JOINTS: tuple[str, ...] = ("left_wrist", "right_wrist", "left_ankle", "right_ankle")
#: Statistics of every signal, in feature order.
STATS: tuple[str, ...] = ("mean", "sd", "min", "max", "range")


def stats_of(x: np.ndarray) -> list[float]:
    """:data:`STATS` of the finite values of ``x`` (all NaN when there are none).

    Examples
    --------
    >>> stats_of(np.array([1.0, np.nan, 3.0]))
    [2.0, 1.0, 1.0, 3.0, 2.0]
    """
    f = np.asarray(x, dtype=np.float64)
    f = f[np.isfinite(f)]
    if f.size == 0:
        return [float("nan")] * len(STATS)
    lo, hi = float(f.min()), float(f.max())
    return [float(f.mean()), float(f.std()), lo, hi, hi - lo]


def definition_sha256(definition: Mapping[str, Any]) -> str:
    """SHA-256 of a feature definition's canonical JSON (sorted keys, no spaces).

    Examples
    --------
    >>> definition_sha256({"b": 1, "a": [2]}) == definition_sha256({"a": [2], "b": 1})
    True
    """
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _provides(skeleton: Skeleton, joints: tuple[str, ...]) -> bool:
    probe = trial_from_arrays(
        np.zeros((2, len(skeleton.joints), 3)), np.array([0.0, 1.0]), skeleton
    )
    return all(probe.has_joint(j) for j in joints)


_ANGLE_JOINTS: dict[str, tuple[str, ...]] = {
    "knee_flexion": ("hip", "knee", "ankle"),
    "elbow_flexion": ("shoulder", "elbow", "wrist"),
    "shoulder_elevation": ("shoulder", "elbow"),
    "hip_flexion": ("hip", "knee"),
}
_SHARED_JOINTS: dict[str, tuple[str, ...]] = {
    "shoulder_elevation": ("neck", "pelvis"),
    "hip_flexion": ("neck", "pelvis", "left_hip", "right_hip"),
}


def _angle_joints(name: str) -> tuple[str, ...]:
    side, _, kind = name.partition("_")
    own = tuple(f"{side}_{j}" for j in _ANGLE_JOINTS[kind])
    return own + _SHARED_JOINTS.get(kind, ())


class WindowStats:
    """The default extractor: statistics of angles and pelvis-relative speeds.

    Parameters
    ----------
    skeleton : Skeleton
        Skeleton of the recordings; signals whose joints it lacks are left out
        (the feature names record what was used).

    Examples
    --------
    >>> from neuropose.skeletons import BLAZEPOSE_33
    >>> ws = WindowStats(BLAZEPOSE_33)
    >>> len(ws.feature_names), ws.feature_names[0]
    (60, 'left_knee_flexion.mean')
    """

    kind = "window_stats"

    def __init__(self, skeleton: Skeleton) -> None:
        self.skeleton = skeleton
        self.angles = tuple(a for a in ANGLES if _provides(skeleton, _angle_joints(a)))
        self.speed_joints = tuple(j for j in SPEED_JOINTS if _provides(skeleton, (j, "pelvis")))
        signals = [*self.angles, *(f"{j}_speed" for j in self.speed_joints)]
        self.feature_names: tuple[str, ...] = tuple(f"{s}.{k}" for s in signals for k in STATS)
        self.definition: dict[str, Any] = {
            "extractor": "window_stats",
            "version": 1,
            "angles": list(self.angles),
            "speeds_relative_to_pelvis": list(self.speed_joints),
            "stats": list(STATS),
        }
        self.sha256 = definition_sha256(self.definition)

    def __call__(self, times_s: np.ndarray, poses: np.ndarray) -> np.ndarray:
        """Feature vector (K,) of one window's frames ``times_s`` (n,), ``poses`` (n, J, 3)."""
        trial = trial_from_arrays(poses, times_s, self.skeleton)
        out: list[float] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for a in self.angles:
                out += stats_of(compute_angle(trial, a))
            pelvis = trial.joint("pelvis")
            for j in self.speed_joints:
                out += stats_of(speed(trial.joint(j) - pelvis, trial.timestamps))
        return np.asarray(out, dtype=np.float64)
