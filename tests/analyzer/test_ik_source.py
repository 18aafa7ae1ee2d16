"""OpenSim IK angles as an analyzer angle source (``angle_source = "opensim"``).

A synthetic ``.ik.mot`` with known coordinate values is placed where
``neuropose opensim`` writes it; ``neuropose analyze`` must report exactly
those values (mapped and signed as documented), NaN outside the frames IK
covered, and clear exit-2 messages when the file is absent, belongs to other
results, or an angle has no coordinate.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import make_arm, make_results
from tests.conftest import REPO_PYTHONPATH, REPO_ROOT

from neuropose.analyzer.ik_source import (
    IK_ANGLE_NAMES,
    ik_angle,
    ik_motion_path,
    read_storage_file,
)
from neuropose.cli import main
from neuropose.errors import InputError
from neuropose.schemas.opensim import OpenSimRecord

FIRST, LAST = 5, 55  # IK covers frames [5, 55) of 61


def _mot(path: Path, times: np.ndarray, cols: dict[str, np.ndarray], **header: str) -> None:
    """An IK output file as OpenSim 4.6 writes it (free-text lines in the header)."""
    head = {"version": "1", "nRows": str(len(times)), "nColumns": str(len(cols) + 1)}
    head |= {"inDegrees": "yes", **header}
    lines = ["Coordinates", *(f"{k}={v}" for k, v in head.items()), ""]
    lines += ["Units are S.I. units (second, meters, Newtons, ...)", "", "endheader"]
    lines.append("\t".join(["time", *cols]))
    data = np.column_stack([times, *cols.values()])
    lines += ["\t".join(f"{v:16.8f}" for v in row) for row in data]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def job(tmp_path: Path) -> tuple[Path, np.ndarray, dict[str, np.ndarray]]:
    """results.json of the arm subject + an .ik.mot on frames [FIRST, LAST) with known values."""
    trial, _ = make_arm(cycles=2, jitter=0.3)
    results = tmp_path / "job" / "results.json"
    results.parent.mkdir()
    results.write_text(make_results(trial).model_dump_json())
    t = trial.timestamps[FIRST:LAST]
    k = np.arange(LAST - FIRST, dtype=np.float64)
    cols = {
        "pelvis_tilt": np.full(k.size, 3.0),
        "knee_angle_l": 10.0 + k,  # + flexion
        "hip_flexion_r": -12.0 + 0.5 * k,  # negative = extension
        "elbow_flex_l": 40.0 + 0.25 * k,
        "ankle_angle_l": np.full(k.size, -7.5),  # plantarflexion
        "arm_flex_l": np.full(k.size, 60.0),
        "arm_add_l": np.full(k.size, -60.0),
        "knee_angle_r": np.zeros(k.size),
    }
    _mot(ik_motion_path(results, "arm.mp4"), t, cols)
    return results, trial.timestamps, cols


def _config(path: Path, body: str) -> Path:
    path.write_text('inputs = ["job/results.json"]\n' + body)
    return path


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open() as fh:
        return list(csv.DictReader(fh))


def test_shoulder_elevation_formula_and_mapping() -> None:
    cols = {"arm_flex_l": np.array([0.0, 60.0, 90.0]), "arm_add_l": np.array([0.0, -60.0, 45.0])}
    # cos(el) = cos(flex) cos(add): 0, acos(0.25), 90.
    expected = [0.0, np.degrees(np.arccos(0.25)), 90.0]
    np.testing.assert_allclose(ik_angle("left_shoulder_elevation", cols), expected, atol=1e-9)
    assert "trunk_inclination" not in IK_ANGLE_NAMES and "right_knee_flexion" in IK_ANGLE_NAMES
    with pytest.raises(InputError, match="no OpenSim coordinate"):
        ik_angle("trunk_inclination", cols)


def test_analyze_reads_ik_angles_per_frame(job, tmp_path: Path, capsys) -> None:
    _, ts, cols = job
    cfg = _config(
        tmp_path / "ik.toml",
        'angle_source = "opensim"\nangles = ["left_knee_flexion", "right_hip_flexion", '
        '"left_elbow_flexion", "left_ankle_dorsiflexion", "left_shoulder_elevation", '
        '"trunk_inclination"]\n',
    )
    out = tmp_path / "r.json"
    assert main(["analyze", str(cfg), "-o", str(out)]) == 0, capsys.readouterr().err
    rep = json.loads(out.read_text())
    entry = rep["inputs"][0]
    shoulder = np.degrees(np.arccos(0.25))
    want = {
        "left_knee_flexion": cols["knee_angle_l"],
        "right_hip_flexion": cols["hip_flexion_r"],
        "left_elbow_flexion": cols["elbow_flex_l"],
        "left_ankle_dorsiflexion": cols["ankle_angle_l"],
        "left_shoulder_elevation": np.full(LAST - FIRST, shoulder),
    }
    for name, v in want.items():
        s = entry["angles"][name]
        assert s["source"] == "opensim"
        assert s["min"] == pytest.approx(v.min(), abs=1e-5)
        assert s["max"] == pytest.approx(v.max(), abs=1e-5)
        assert s["n_missing"] == len(ts) - (LAST - FIRST)
    assert entry["angles"]["trunk_inclination"]["source"] == "keypoints"  # no coordinate
    step = next(r for r in entry["transforms"] if r["step"] == "opensim_ik_angles")
    assert step["params"]["file"] == "arm.ik.mot" and len(step["params"]["sha256"]) == 64
    assert step["result"]["frames"] == [FIRST, LAST]
    rows = [r for r in _rows(tmp_path / "r.angles.csv") if r["angle"] == "left_knee_flexion"]
    assert len(rows) == len(ts)
    assert rows[FIRST - 1]["value_deg"] == "" and rows[LAST]["value_deg"] == ""
    for f in (FIRST, 30, LAST - 1):
        assert float(rows[f]["time_s"]) == pytest.approx(ts[f], abs=1e-6)
        assert float(rows[f]["value_deg"]) == pytest.approx(10.0 + f - FIRST, abs=1e-6)
    summary = {r["angle"]: r["source"] for r in _rows(tmp_path / "r.angle_summary.csv")}
    assert summary["left_knee_flexion"] == "opensim" and summary["trunk_inclination"] == "keypoints"


def test_per_angle_source_keeps_keypoint_angles(job, tmp_path: Path, capsys) -> None:
    cfg = _config(
        tmp_path / "mix.toml",
        'angles = ["left_elbow_flexion", "left_knee_flexion"]\n'
        '[angle_source]\nleft_knee_flexion = "opensim"\n',
    )
    out = tmp_path / "m.json"
    assert main(["analyze", str(cfg), "-o", str(out)]) == 0, capsys.readouterr().err
    angles = json.loads(out.read_text())["inputs"][0]["angles"]
    assert angles["left_knee_flexion"]["source"] == "opensim"
    elbow = angles["left_elbow_flexion"]
    # The keypoint elbow of the arm subject sweeps 30..120 deg (the .mot says 40..52).
    assert elbow["source"] == "keypoints" and elbow["max"] > 100 and elbow["min"] < 35


def test_absent_ik_names_the_command_that_makes_it(job, tmp_path: Path, capsys) -> None:
    results, _, _ = job
    ik_motion_path(results, "arm.mp4").unlink()
    cfg = _config(tmp_path / "a.toml", 'angle_source = "opensim"\nangles = ["left_knee_flexion"]\n')
    assert main(["analyze", str(cfg), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "no OpenSim inverse kinematics for arm.mp4" in err
    assert "neuropose opensim" in err and "--height" in err and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_ik_of_other_results_is_refused(job, tmp_path: Path, capsys) -> None:
    results, ts, cols = job
    _mot(ik_motion_path(results, "arm.mp4"), ts[FIRST:LAST] + 0.004, cols)
    cfg = _config(tmp_path / "o.toml", 'angle_source = "opensim"\nangles = ["left_knee_flexion"]\n')
    assert main(["analyze", str(cfg), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "times do not match the timestamps" in err and "re-run neuropose opensim" in err


def test_config_errors_name_the_field(job, tmp_path: Path, capsys) -> None:
    cfg = _config(
        tmp_path / "b.toml",
        'angles = ["trunk_inclination"]\n[angle_source]\ntrunk_inclination = "opensim"\n',
    )
    assert main(["analyze", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "angle_source.trunk_inclination" in err and "no OpenSim coordinate" in err
    cfg = _config(tmp_path / "c.toml", 'angles = ["left_knee_flexion"]\nangle_source = "ik"\n')
    assert main(["analyze", str(cfg)]) == 2
    assert "angle_source" in capsys.readouterr().err
    cfg = _config(
        tmp_path / "d.toml",
        'angles = ["left_knee_flexion"]\n[angle_source]\nright_knee_flexion = "opensim"\n',
    )
    assert main(["analyze", str(cfg)]) == 2
    assert "right_knee_flexion, not in 'angles'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"nColumns": "5"}, "nColumns=5 but the label line has 9 columns"),
        ({"nRows": "7"}, "header says 7 rows"),
        ({"inDegrees": "no"}, "rotations are in radians"),
    ],
)
def test_reader_rejects_inconsistent_files(job, edit, message) -> None:
    results, ts, cols = job
    path = ik_motion_path(results, "arm.mp4")
    _mot(path, ts[FIRST:LAST], cols, **edit)
    with pytest.raises(InputError, match=message) as info:
        read_storage_file(path)
    assert str(path) in str(info.value)
    path.write_text("not a storage file\n")
    with pytest.raises(InputError, match="no 'endheader' line"):
        read_storage_file(path)


@pytest.mark.slow
@pytest.mark.media
def test_cam01_ik_angles_beside_keypoint_angles(
    blazepose_model, shared_media: Path, tmp_path: Path, model_cache_dir: Path,
    artifacts_dir: Path,
) -> None:  # fmt: skip
    """Real clip: ``neuropose opensim`` then ``neuropose analyze`` with both angle sources.

    Writes the per-angle RMS and mean difference (IK − keypoints) to
    ``test-artifacts/ik_vs_keypoint_angles.json`` (the figures in docs/analyzer.md).
    """
    pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")
    from neuropose.estimator import Estimator
    from neuropose.io import load_model, write_model_atomic
    from neuropose.quality import load_quality_reports, write_job_quality_reports
    from neuropose.schemas import JobResults

    blazepose_model.reset()
    vp = Estimator(blazepose_model).process_video(shared_media / "lab_single_person" / "cam01.mp4")
    results = tmp_path / "job" / "results.json"
    results.parent.mkdir()
    doc = JobResults(
        job_id="job", created_at="2026-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
    )
    write_model_atomic(results, doc)
    write_job_quality_reports(doc, results.parent / "visualize")  # as the daemon does
    env = {**os.environ, "NEUROPOSE_MODEL_CACHE_DIR": str(model_cache_dir),
           "PYTHONPATH": REPO_PYTHONPATH}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "opensim", str(results), "--height", "1.75", "--mass", "70"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "quality " in proc.stdout and "cam01.quality.json" in proc.stdout
    ik_q = load_quality_reports(results.parent)["cam01.mp4"].opensim
    assert ik_q is not None and 10 < ik_q.marker_rms_mm_median < 60
    assert "mtp_angle_r" in ik_q.locked_coordinates

    angles = ", ".join(f'"{n}"' for n in IK_ANGLE_NAMES)
    values: dict[str, dict[str, np.ndarray]] = {}
    for source in ("keypoints", "opensim"):
        cfg = tmp_path / f"{source}.toml"
        cfg.write_text(
            f'inputs = ["job/results.json"]\nangles = [{angles}]\nangle_source = "{source}"\n'
        )
        assert main(["analyze", str(cfg), "-o", str(tmp_path / f"{source}.json")]) == 0
        rep = json.loads((tmp_path / f"{source}.json").read_text())
        assert {s["source"] for s in rep["inputs"][0]["angles"].values()} == {source}
        rows = _rows(tmp_path / f"{source}.angles.csv")
        values[source] = {
            n: np.array([float(r["value_deg"] or "nan") for r in rows if r["angle"] == n])
            for n in IK_ANGLE_NAMES
        }
    figures = {}
    for n in IK_ANGLE_NAMES:
        ik, kp = values["opensim"][n], values["keypoints"][n]
        assert ik.shape == (100,) and np.isfinite(ik).all(), n
        ok = np.isfinite(kp)
        d = ik[ok] - kp[ok]
        figures[n] = {
            "rms_deg": round(float(np.sqrt(np.mean(d**2))), 2),
            "mean_diff_deg": round(float(np.mean(d)), 2),
            "ik_range_deg": [round(float(ik.min()), 1), round(float(ik.max()), 1)],
            "keypoint_range_deg": [round(float(kp[ok].min()), 1), round(float(kp[ok].max()), 1)],
            "frames": int(ok.sum()),
        }
    record = load_model(results.parent / "opensim" / "cam01" / "opensim.json", OpenSimRecord)
    out = {"clip": "lab_single_person/cam01.mp4", "summary": record.summary, "angles": figures}
    (artifacts_dir / "ik_vs_keypoint_angles.json").write_text(json.dumps(out, indent=2))
    # Knees agree best (the same three points define both); measured 7.9 / 4.8 deg RMS.
    assert figures["left_knee_flexion"]["rms_deg"] < 15
    assert figures["right_knee_flexion"]["rms_deg"] < 15
    # Treadmill gait: swing-phase knee flexion reaches 35-90 deg in IK.
    assert 35 < figures["left_knee_flexion"]["ik_range_deg"][1] < 90


def _opensim_cli(results: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEUROPOSE_MODEL_CACHE_DIR": str(REPO_ROOT / ".cache" / "models"),
           "PYTHONPATH": REPO_PYTHONPATH}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "opensim", str(results), "--height", "1.7", "--mass", "65", *extra],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=900,
    )  # fmt: skip


@pytest.mark.slow
def test_gaps_and_a_missing_marker_through_the_cli(tmp_path: Path, capsys) -> None:
    """``neuropose opensim`` on a subject with a 3-frame gap, a marker never seen and a
    10-frame gap: refused by default (exit 2, nothing left), split on request, and the
    analyzer's IK angles cover exactly the frames IK ran on."""
    pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")
    from tests.export import synth
    from tests.export.conftest import write_results

    vp = synth.build(nan_joints={"left_pinky": range(synth.N), "left_wrist": range(30, 40)})
    (tmp_path / "job").mkdir()
    results = write_results(tmp_path / "job" / "results.json", vp)
    refused = _opensim_cli(results, tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "LWrist missing from" in refused.stderr and "--on-long-gap split" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "job" / "opensim" / "walk").exists()
    assert not list((tmp_path / "job").glob("opensim/.*"))  # no staging left behind
    proc = _opensim_cli(results, tmp_path, "--on-long-gap", "split")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "marker RMS" in proc.stdout
    rec = json.loads((tmp_path / "job" / "opensim" / "walk" / "opensim.json").read_text())
    assert rec["markers"]["dropped_markers"] == ["LPinky"]
    assert rec["frames"] == [0, 30]  # the longest gap-free segment
    rec["coordinates"]["knee_angle_l"]["at_limit_fraction"] = 0.25  # as if IK hit the bound
    (tmp_path / "job" / "opensim" / "walk" / "opensim.json").write_text(json.dumps(rec))
    cfg = tmp_path / "a.toml"
    cfg.write_text('inputs = ["job/results.json"]\nangles = ["left_knee_flexion"]\n'
                   'angle_source = "opensim"\n')  # fmt: skip
    assert main(["analyze", str(cfg), "-o", str(tmp_path / "a.json")]) == 0
    rows = _rows(tmp_path / "a.angles.csv")
    filled = [r["value_deg"] != "" for r in rows]
    assert filled == [f < 30 for f in range(synth.N)]
    # The standing template: knees nearly straight in IK too.
    assert all(abs(float(r["value_deg"])) < 20 for r in rows[:30])
    step = json.loads((tmp_path / "a.json").read_text())["inputs"][0]["transforms"][-1]
    assert step["step"] == "opensim_ik_angles"
    assert step["result"]["at_limit_fraction"] == {"left_knee_flexion": 0.25}
    assert step["result"]["frames"] == [0, 30] and step["result"]["frames_matched"] == 30


@pytest.mark.slow
def test_shoulder_formula_equals_opensim_model_kinematics() -> None:
    """arccos(cos flex · cos add) is the humerus-torso long-axis angle OpenSim computes."""
    osim = pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")
    from neuropose.export.opensim_setup import fetch_setup_files
    from neuropose.wheels import WheelFetchError

    try:
        setup = fetch_setup_files(REPO_ROOT / ".cache" / "opensim")
    except WheelFetchError as exc:
        pytest.skip(f"pose2sim wheel unavailable: {exc}")
    osim.Logger.setLevelString("error")
    model = osim.Model(str(setup.model))
    state = model.initSystem()
    coords = model.getCoordinateSet()

    def y_axis(body: str) -> np.ndarray:
        rot = model.getBodySet().get(body).getTransformInGround(state).R()
        return np.array([rot.get(i, 1) for i in range(3)])

    rng = np.random.default_rng(3)
    for side in "rl":
        for flex, add, rot in rng.uniform([-85, -110, -85], [85, 85, 85], size=(8, 3)):
            for name, value in ((f"arm_flex_{side}", flex), (f"arm_add_{side}", add),
                                (f"arm_rot_{side}", rot)):  # fmt: skip
                coords.get(name).setValue(state, np.radians(value))
            model.realizePosition(state)
            cos = float(np.clip(y_axis(f"humerus_{side}") @ y_axis("torso"), -1, 1))
            cols = {f"arm_flex_{side}": np.array([flex]), f"arm_add_{side}": np.array([add])}
            name = f"{'left' if side == 'l' else 'right'}_shoulder_elevation"
            assert ik_angle(name, cols)[0] == pytest.approx(np.degrees(np.arccos(cos)), abs=1e-6)
