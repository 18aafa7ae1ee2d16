"""The analyzer on BlazePose results of the real lab clip (two synchronised views).

Needs ``../shared/media/lab_single_person`` and the ``blazepose-full`` weights
in the shared model cache; skips with the reason otherwise. The two clips
are processed once per module with ``neuropose process`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer import ANGLE_NAMES, butterworth, compute_angle, load_trial
from neuropose.analyzer.load import load_results
from neuropose.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.media]

#: Angles compared across the two views (every named clinical angle).
CROSS_VIEW_ANGLES = ANGLE_NAMES


@pytest.fixture(scope="module")
def lab_results(
    shared_media: Path,
    blazepose_weights: Path,
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    clips = [shared_media / "lab_single_person" / f"cam0{k}.mp4" for k in (1, 2)]
    for c in clips:
        if not c.is_file():
            pytest.skip(f"real media not available: {c.name} is absent")
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(repo_root / "examples", work / "examples")
    out = work / "examples" / "results"
    env = {**os.environ, "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from neuropose.cli import main; sys.exit(main())",
            "process",
            *map(str, clips),
            "-o",
            str(out),
            "-m",
            "blazepose-full",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        cwd=repo_root,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return work / "examples"


def test_example_configs_run_on_the_lab_clip(lab_results: Path, capsys) -> None:
    for name in ("arm_raise", "gait", "compare_trials"):
        cfg = lab_results / f"{name}.toml"
        assert main(["analyze", str(cfg)]) == 0, capsys.readouterr().err
        report = json.loads((lab_results / f"{name}.report.json").read_text())
        assert report["provenance"]["config_file"] == f"{name}.toml"
        for entry in report["inputs"]:
            assert entry["status"] == "ok"
            assert entry["trial"]["model_name"] == "blazepose-full"
            assert entry["trial"]["root_relative"] is True
            # implausible poses (cam02: the estimator flags 15) are left out, never filled
            bad = entry["implausible_frames"]
            vp = load_results(lab_results / "results" / entry["file"]).videos[0]
            rows = vp.track_id == vp.primary_track_id
            assert vp.plausible is not None and bad == int((~vp.plausible[rows]).sum())
            for stats in entry["angles"].values():
                assert stats["n"] == 100 - bad and stats["n_missing"] == bad
    gait = json.loads((lab_results / "gait.report.json").read_text())
    for entry in gait["inputs"]:
        params = entry["gait"]["parameters"]
        assert params["stride_length_mm"] is None and "root-relative" in params["spatial_note"]
        assert {e["event"] for e in entry["gait"]["events"]} == {"heel_strike", "toe_off"}
    comp = json.loads((lab_results / "compare_trials.report.json").read_text())
    pose, exact, fast = (c["results"]["all"] for c in comp["comparisons"])
    assert pose["alignment"] == "procrustes_sequence" and pose["engine"] == "exact"
    for r in (pose, exact, fast):
        assert r["len_a"] == r["len_b"] == 100
        assert 100 <= r["path_length"] <= 199 and r["normalized_distance"] > 0
    assert exact["band_fraction"] == 0.1 and fast["engine"] == "fastdtw"


def _cross_view_rms(lab_results: Path) -> dict[str, float]:
    trials = [load_trial(lab_results / "results" / f"cam0{k}.results.json") for k in (1, 2)]
    a, b = (replace(t, poses=butterworth(t.poses, t.timestamps, cutoff_hz=6.0)[0]) for t in trials)
    assert np.allclose(a.timestamps, b.timestamps)  # synchronised views, same frames
    rms = {}
    for name in CROSS_VIEW_ANGLES:
        d = compute_angle(a, name) - compute_angle(b, name)
        rms[name] = float(np.sqrt(np.nanmean(d**2)))
    return rms


def test_cross_view_angle_agreement_is_measured(lab_results: Path, artifacts_dir: Path) -> None:
    rms = _cross_view_rms(lab_results)
    (artifacts_dir / "analyzer_cross_view_rms.json").write_text(json.dumps(rms, indent=1))
    assert all(np.isfinite(v) for v in rms.values())
    # Re-stated after the MediaPipe-fidelity fix (2026-11-29, blazepose-full, swap correction
    # and smoothing on): median over the 11 angles 17.7°, knee flexion 15.3° / 17.6°, the
    # worst (ankle dorsiflexion left) 27.7°; was 24.2° median before issue 15. The bars
    # leave ~15 % for TFLite/OpenCV version noise and fail on a return to the old level.
    assert float(np.median(list(rms.values()))) < 20.5
    assert max(rms["left_knee_flexion"], rms["right_knee_flexion"]) < 20.5
    assert max(rms.values()) < 32.0


@pytest.mark.xfail(
    strict=True,
    reason="monocular BlazePose views disagree by 8-28° RMS even after swap correction, "
    "smoothing and the MediaPipe-fidelity fix (knee flexion 15.3° / 17.6°, median 17.7°; "
    "RESEARCH.md section 12); the 5° goal is not met by a single-view model: use "
    "multi-camera triangulation",
)
def test_cross_view_knee_flexion_within_5_degrees(lab_results: Path) -> None:
    rms = _cross_view_rms(lab_results)
    assert rms["left_knee_flexion"] <= 5.0 and rms["right_knee_flexion"] <= 5.0
