"""Synthetic standing/squatting recordings with known windows, for the classifier tests.

Built on the analyzer's canonical synthetic body (``tests.analyzer.conftest``):
10 frames/s so window counts are easy to compute by hand. While "squat" the
knees bend to 60° ± 5° (both legs), while "stand" they stay at 5° ± 5°; the
arms swing a little in both. ``missing`` frames have no detection of the
subject; ``nan_wrist`` frames have a detection whose left wrist is NaN.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuropose.analyzer.load import trial_from_arrays
from neuropose.io import write_model_atomic
from tests.analyzer.conftest import SKELETON, body_to_camera, idx, make_results, standing_body

FS = 10.0


def poses(
    n: int,
    phases: Sequence[tuple[float, float, str]],
    *,
    seed: int = 0,
    squat_deg: float = 60.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(poses (n, J, 3) camera mm, timestamps (n,)) of a subject following ``phases``."""
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    knee = np.full(n, 5.0)
    for a, b, label in phases:
        if label == "squat":
            knee[(t >= a) & (t < b)] = squat_deg
    knee = knee + 5.0 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.28))
    p = standing_body(n)
    th = np.radians(knee)
    for side in ("left", "right"):
        k = idx(f"{side}_knee")
        shank = 450 * np.stack([np.zeros(n), -np.cos(th), -np.sin(th)], axis=1)
        ankle = p[:, idx(f"{side}_ankle")].copy()
        for j in ("ankle", "heel", "toe"):
            p[:, idx(f"{side}_{j}")] += p[:, k] + shank - ankle
    swing = np.radians(20 * np.sin(2 * np.pi * 0.37 * t + rng.uniform(0, 6.28)))
    for side in ("left", "right"):
        e = idx(f"{side}_elbow")
        p[:, idx(f"{side}_wrist")] = p[:, e] + 250 * np.stack(
            [np.zeros(n), -np.cos(swing), np.sin(swing)], axis=1
        )
    p = p + rng.normal(0.0, 3.0, p.shape)  # 3 mm of estimation noise on every joint
    return body_to_camera(p, tilt_deg=10.0), t


def write_recording(
    path: Path,
    n: int,
    phases: Sequence[tuple[float, float, str]],
    *,
    missing: Sequence[int] = (),
    nan_wrist: Sequence[int] = (),
    seed: int = 0,
) -> Path:
    """A results file of one synthetic subject (with a bystander, as the analyzer's builder)."""
    pos, t = poses(n, phases, seed=seed)
    pos[list(nan_wrist), idx("left_wrist")] = np.nan
    trial = trial_from_arrays(pos, t, SKELETON)
    results = make_results(trial, video=path.stem + ".mp4", job_id=path.stem, missing=missing)
    write_model_atomic(path, results)
    return path


def write_labels(path: Path, rows: Sequence[tuple[str, float, float, str, str]]) -> Path:
    """A labels table with the standard header."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "start_s", "end_s", "label", "subject"])
        w.writerows(rows)
    return path


def two_files(tmp: Path) -> Path:
    """The hand-counted fixture (see ``test_windows``): files a and b, labels.csv."""
    write_recording(
        tmp / "a.results.json",
        100,
        [(0, 4, "stand"), (4, 8, "squat")],
        missing=range(20, 25),
        seed=1,
    )
    write_recording(
        tmp / "b.results.json",
        80,
        [(0, 3, "squat"), (3, 8, "stand")],
        nan_wrist=range(60, 80),
        seed=2,
    )
    return write_labels(
        tmp / "labels.csv",
        [
            ("a.results.json", 0, 4, "stand", "s1"),
            ("a.results.json", 4, 8, "squat", "s1"),
            ("b.results.json", 0, 3, "squat", "s2"),
            ("b.results.json", 3, 8, "stand", "s2"),
        ],
    )


def separable(tmp: Path, subjects: int = 4) -> Path:
    """``subjects`` recordings, each 4 s stand then 4 s squat: perfectly separable classes."""
    rows = []
    for k in range(subjects):
        name = f"p{k}.results.json"
        write_recording(tmp / name, 80, [(0, 4, "stand"), (4, 8, "squat")], seed=10 + k)
        rows += [(name, 0, 4, "stand", f"p{k}"), (name, 4, 8, "squat", f"p{k}")]
    return write_labels(tmp / "labels.csv", rows)
