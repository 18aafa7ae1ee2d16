"""``neuropose opensim``: scaling + IK with opensim 4.6 and Pose2Sim's setup files.

Slow (OpenSim IK) and networked (the pinned pose2sim wheel is fetched once
into ``.cache/opensim``); skips when opensim is not installed or the wheel
cannot be downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.export import load_tracks
from neuropose.export.opensim_run import OpenSimOptions, read_storage, run_opensim
from neuropose.export.opensim_setup import POSE2SIM_SETUP, SetupFiles, fetch_setup_files
from neuropose.wheels import WheelFetchError
from tests.conftest import REPO_PYTHONPATH
from tests.export import synth
from tests.export.conftest import write_results

pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def setup_files(repo_root: Path) -> SetupFiles:
    try:
        return fetch_setup_files(repo_root / ".cache" / "opensim")
    except WheelFetchError as exc:
        if "pip could not download" not in str(exc):
            raise
        pytest.skip(f"pose2sim wheel unavailable: {exc}")


def test_setup_files_are_the_pinned_ones(setup_files: SetupFiles) -> None:
    import hashlib

    for name, sha in POSE2SIM_SETUP.members.items():
        assert hashlib.sha256((setup_files.directory / name).read_bytes()).hexdigest() == sha
    assert len(list(setup_files.geometry.glob("*.vtp"))) > 50


def test_gaps_and_a_missing_marker(setup_files: SetupFiles, tmp_path: Path) -> None:
    vp = synth.build(nan_joints={"left_pinky": range(synth.N)})  # + a 3-frame gap
    track = load_tracks(write_results(tmp_path / "r.json", vp))[0]
    opts = OpenSimOptions(1.7, 65.0, filter_hz=6.0)
    run = run_opensim(track, setup_files, tmp_path / "opensim", opts)
    d = run.directory
    assert d == tmp_path / "opensim" / "walk"
    labels, data = read_storage(d / "walk.ik.mot")
    assert data.shape == (synth.N, len(labels)) and np.isfinite(data).all()
    np.testing.assert_allclose(data[:, 0], synth.timestamps(), atol=2e-6)
    for c in ("mtp_angle_r", "subtalar_angle_l"):
        assert np.all(data[:, labels.index(c)] == 0.0)  # locked
    errors = (d / "walk.marker_errors.csv").read_text().splitlines()
    assert "LPinky_mm" not in errors[0] and "LKnee_mm" in errors[0] and len(errors) == synth.N + 1
    rec = json.loads((d / "opensim.json").read_text())
    assert rec["markers"]["dropped_markers"] == ["LPinky"]
    assert (
        rec["setup_files"]["sha256"]["Markers_BlazePose.xml"]
        == POSE2SIM_SETUP.members["Markers_BlazePose.xml"]
    )
    assert rec["options"]["height_m"] == 1.7 and rec["options"]["mass_kg"] == 65.0
    assert rec["options"]["filter"]["params"]["cutoff_hz"] == 6.0
    assert (d / "walk_scaled.osim").is_file() and (d / "opensim.log").is_file()
    assert not list((tmp_path / "opensim").glob(".*staging"))
    # The standing template: knees nearly straight in IK too.
    assert abs(np.median(data[:, labels.index("knee_angle_l")])) < 20


@pytest.mark.media
def test_cam01_monocular_scaling_and_ik(
    blazepose_model, shared_media: Path, tmp_path: Path, model_cache_dir: Path,
    setup_files: SetupFiles,
) -> None:  # fmt: skip
    from neuropose.estimator import Estimator
    from neuropose.io import write_model_atomic
    from neuropose.schemas import JobResults

    blazepose_model.reset()
    vp = Estimator(blazepose_model).process_video(shared_media / "lab_single_person" / "cam01.mp4")
    results = tmp_path / "job" / "results.json"
    results.parent.mkdir()
    write_model_atomic(
        results,
        JobResults(
            job_id="job", created_at="2026-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
        ),
    )
    env = {
        **os.environ,
        "NEUROPOSE_MODEL_CACHE_DIR": str(model_cache_dir),
        "PYTHONPATH": REPO_PYTHONPATH,
    }
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "opensim", str(results), "--height", "1.75", "--mass", "70"],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "marker RMS" in proc.stdout and "InverseKinematicsTool" not in proc.stdout
    assert not any(cwd.iterdir()), "OpenSim left files (opensim.log) in the working directory"
    d = results.parent / "opensim" / "cam01"
    rec = json.loads((d / "opensim.json").read_text())
    s = rec["summary"]
    assert 10 < s["marker_rms_mm_median"] < 60  # measured 34 mm on this clip (monocular)
    labels, data = read_storage(d / "cam01.ik.mot")
    assert np.isfinite(data).all() and data.shape[0] == 100
    knee = data[:, labels.index("knee_angle_l")]
    assert -10 < knee.min() < 20 and 35 < knee.max() < 90  # treadmill gait: swing-phase flexion
    assert s["left_knee_rms_deg"] < 15 and s["right_knee_rms_deg"] < 15
    assert rec["coordinates"]["mtp_angle_l"]["locked"] is True
