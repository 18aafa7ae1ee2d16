"""Synthetic pose recordings and one spec case per node kind for the signal tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuropose.skeletons import BLAZEPOSE_33

JOINTS = BLAZEPOSE_33.joints
J = len(JOINTS)

#: One node list per kind; the node named "out" is the kind under test.
CASES: dict[str, list[dict[str, Any]]] = {
    "joint": [{"name": "out", "kind": "joint", "params": {"joint": "pelvis", "axis": "y"}}],
    "pose": [{"name": "out", "kind": "pose"}],
    "angle_3pt": [
        {
            "name": "out",
            "kind": "angle_3pt",
            "params": {"a": "left_hip", "b": "left_knee", "c": "left_ankle", "complement": True},
        }
    ],
    "segment_angle": [
        {
            "name": "out",
            "kind": "segment_angle",
            "params": {"a": "left_hip", "b": "left_knee", "ref_a": "neck", "ref_b": "pelvis"},
        }
    ],
    "distance": [{"name": "out", "kind": "distance", "params": {"a": "left_wrist", "b": "nose"}}],
    "normalize": [
        {"name": "d", "kind": "distance", "params": {"a": "left_wrist", "b": "right_wrist"}},
        {
            "name": "out",
            "kind": "normalize",
            "inputs": ["d"],
            "params": {"a": "left_shoulder", "b": "right_shoulder"},
        },
    ],
    "velocity": [
        {"name": "w", "kind": "joint", "params": {"joint": "left_wrist"}},
        {"name": "out", "kind": "velocity", "inputs": ["w"]},
    ],
    "acceleration": [
        {"name": "w", "kind": "joint", "params": {"joint": "left_wrist"}},
        {"name": "out", "kind": "acceleration", "inputs": ["w"]},
    ],
    "speed": [
        {"name": "p", "kind": "pose"},
        {"name": "out", "kind": "speed", "inputs": ["p"]},
    ],
    "frame_rate": [{"name": "out", "kind": "frame_rate"}],
    "butterworth": [
        {"name": "p", "kind": "pose"},
        {
            "name": "out",
            "kind": "butterworth",
            "inputs": ["p"],
            "params": {"btype": "band", "cutoff_hz": [0.5, 8.0], "order": 3, "fs_hz": 60.0},
        },
    ],
    "one_euro": [
        {"name": "w", "kind": "joint", "params": {"joint": "left_wrist"}},
        {
            "name": "out",
            "kind": "one_euro",
            "inputs": ["w"],
            "params": {"min_cutoff_hz": 1.5, "beta": 0.01},
        },
    ],
    "moving_average": [
        {"name": "p", "kind": "pose"},
        {"name": "out", "kind": "moving_average", "inputs": ["p"], "params": {"window": 7}},
    ],
}


def recording(
    n: int = 240, seed: int = 0, gaps: bool = True, dup: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered ~60 fps times (s) and a random-walk BlazePose recording (mm), NaN gaps."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.8, 1.2, n) / 60.0)
    if dup:
        t[100] = t[99]  # a duplicate timestamp
    base = rng.normal(0, 300, (J, 3))
    poses = base + np.cumsum(rng.normal(0, 4, (n, J, 3)), axis=0)
    if gaps:
        poses[40:44] = np.nan  # subject missed for 4 frames
        poses[150, 15] = np.nan  # left wrist missed once
    return t, poses
