"""The example signal spec on BlazePose results of the real lab clip (cam01.mp4).

Processes the clip once with ``neuropose process`` (subprocess), then checks
that ``neuropose signals compute`` gives the numbers of a live graph pushed
frame by frame, and that the spec's knee angle is the analyzer's.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer import compute_angle, load_trial
from neuropose.cli import main
from neuropose.signals import SignalGraph, load_spec

pytestmark = [pytest.mark.slow, pytest.mark.media]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "signals_knee.toml"


@pytest.fixture(scope="module")
def cam01_results(
    shared_media: Path, blazepose_weights: Path, repo_root: Path, tmp_path_factory
) -> Path:
    clip = shared_media / "lab_single_person" / "cam01.mp4"
    if not clip.is_file():
        pytest.skip(f"real media not available: {clip.name} is absent")
    out = tmp_path_factory.mktemp("sig_real")
    env = {**os.environ, "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights)}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "process", str(clip), "-o", str(out), "-m", "blazepose-full"],
        capture_output=True, text=True, env=env, timeout=1200, cwd=repo_root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (results,) = out.glob("*.json")
    return results


def _column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([float(r[name]) if r[name] else np.nan for r in rows])


def test_offline_csv_equals_live_frame_by_frame_on_the_lab_clip(cam01_results, tmp_path) -> None:
    out = tmp_path / "knee.csv"
    argv = ["signals", "compute", str(cam01_results), "--spec", str(EXAMPLE), "-o", str(out)]
    assert main(argv) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    trial = load_trial(cam01_results)
    assert len(rows) == trial.num_frames == 100
    graph = SignalGraph(load_spec(EXAMPLE), trial.skeleton.joints, live=True)
    live = [graph.push(trial.timestamps[i : i + 1], trial.poses[i : i + 1]) for i in range(100)]
    for name in ("knee_l", "knee_l_filt", "knee_l_vel", "ankle_l_speed_ma", "ankle_gap_norm"):
        online = np.concatenate([f[name] for f in live])
        offline = _column(rows, name)
        assert np.isfinite(offline).sum() >= 90, name  # real numbers, not an all-NaN pass
        # The CSV keeps 17 significant digits: equal to well under 1e-9.
        np.testing.assert_allclose(online, offline, rtol=1e-12, atol=1e-9, equal_nan=True)
    # The spec's knee angle is the analyzer's left knee flexion (shared geometry code).
    np.testing.assert_allclose(
        _column(rows, "knee_l"), compute_angle(trial, "left_knee_flexion"), atol=1e-9
    )
    vel = _column(rows, "knee_l_vel")
    assert np.nanmax(np.abs(vel)) < 2000  # deg/s: a plausible human knee, no inf
