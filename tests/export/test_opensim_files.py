"""``.trc`` and ``.mot`` read back by OpenSim itself; the gap policy."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer import compute_angle, trial_from_arrays
from neuropose.cli import main
from neuropose.export import BLAZEPOSE_MARKERS, export_track, load_tracks
from neuropose.export.base import ExportOptions
from neuropose.skeletons import BLAZEPOSE_33
from tests.export import synth
from tests.export.conftest import write_results

opensim = pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")

POSE2SIM_BLAZEPOSE = {
    "Nose", "LEye", "REye", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
    "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle", "LBigToe", "LHeel", "RBigToe",
    "RHeel", "RThumb", "RPinky", "RIndex", "LThumb", "LPinky", "LIndex",
}  # fmt: skip


def _read_trc(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, str]:
    table = opensim.TimeSeriesTableVec3(str(path))
    names = list(table.getColumnLabels())
    t = np.array(table.getIndependentColumn())
    flat_table = table.flatten(["_x", "_y", "_z"])  # keep it alive: getMatrix() is a view
    mat = np.array(flat_table.getMatrix().to_numpy()).reshape(len(t), len(names), 3)
    assert "\tframe: " in table.getTableMetaDataAsString("header")
    return names, t, mat, table.getTableMetaDataAsString("Units")


def test_marker_names_are_pose2sim_blazepose_with_lknee() -> None:
    assert set(BLAZEPOSE_MARKERS.values()) == POSE2SIM_BLAZEPOSE
    assert BLAZEPOSE_MARKERS["left_knee"] == "LKnee"


def test_trc_is_metres_y_up_with_true_timestamps(tmp_path: Path) -> None:
    results = write_results(tmp_path / "r.json", synth.build(missing=()))
    assert main(["export", str(results), "-f", "trc", "-o", str(tmp_path / "e")]) == 0
    names, t, got, units = _read_trc(tmp_path / "e" / "walk.trc")
    assert units == "m"
    header = opensim.TimeSeriesTableVec3(str(tmp_path / "e" / "walk.trc")).getTableMetaDataAsString(
        "header"
    )
    assert "monocular camera frame rotated by the estimated up axis (ground_plane" in header
    assert set(names) == POSE2SIM_BLAZEPOSE and len(names) == 25
    np.testing.assert_allclose(t, synth.timestamps(), atol=5e-7)
    expected = synth.expected_trc(synth.positions())
    inverse = {v: k for k, v in BLAZEPOSE_MARKERS.items()}
    for m, name in enumerate(names):
        np.testing.assert_allclose(
            got[:, m], expected[:, BLAZEPOSE_33.index(inverse[name])], atol=1e-6, err_msg=name
        )
    # Y is up: the nose is 1.6 m above the floor, the heels on it.
    assert got[:, names.index("Nose"), 1].mean() == pytest.approx(1.6, abs=1e-6)
    assert got[:, names.index("LHeel"), 1].mean() == pytest.approx(0.0, abs=1e-6)


def test_short_gap_filled_linearly_in_time_no_nan(results_file: Path, tmp_path: Path) -> None:
    res = export_track(load_tracks(results_file)[0], tmp_path, "trc,mot")
    _, _, got, _ = _read_trc(tmp_path / "walk.trc")
    assert np.isfinite(got).all() and got.shape == (synth.N, 25, 3)
    ts = synth.timestamps()
    a, b = synth.MISSING_FRAMES[0] - 1, synth.MISSING_FRAMES[-1] + 1
    w = (ts[a + 1 : b] - ts[a]) / (ts[b] - ts[a])
    expected = got[a] + w[:, None, None] * (got[b] - got[a])
    np.testing.assert_allclose(got[a + 1 : b], expected, atol=2e-7)
    trc_rec = res.record.files[0].details
    assert {g["joint"] for g in trc_rec["gaps_filled"]} == set(BLAZEPOSE_33.joints)
    assert trc_rec["up_axis"]["method"] == "ground_plane"
    mot = opensim.TimeSeriesTable(str(tmp_path / "walk.angles.mot"))
    assert np.isfinite(np.array(mot.getMatrix().to_numpy())).all()


def test_mot_angles_equal_neuropose_angles(tmp_path: Path) -> None:
    results = write_results(tmp_path / "r.json", synth.build(missing=()))
    export_track(load_tracks(results)[0], tmp_path, "mot")
    mot = opensim.TimeSeriesTable(str(tmp_path / "walk.angles.mot"))
    labels = list(mot.getColumnLabels())
    assert "left_knee_flexion" in labels and mot.getTableMetaDataAsString("inDegrees") == "yes"
    knee = mot.getDependentColumn("left_knee_flexion").to_numpy()
    trial = trial_from_arrays(synth.positions(), synth.timestamps(), BLAZEPOSE_33)
    np.testing.assert_allclose(knee, compute_angle(trial, "left_knee_flexion"), atol=1e-5)
    assert 0 < knee.mean() < 10  # the template's knee is nearly straight


def test_empty_marker_dropped_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vp = synth.build(missing=(), nan_joints={"left_pinky": range(synth.N)})
    results = write_results(tmp_path / "r.json", vp)
    with caplog.at_level(logging.WARNING):
        res = export_track(load_tracks(results)[0], tmp_path / "e", "trc")
    names, _, got, _ = _read_trc(tmp_path / "e" / "walk.trc")
    assert "LPinky" not in names and len(names) == 24 and np.isfinite(got).all()
    assert res.record.files[0].details["dropped_markers"] == ["LPinky"]
    assert "LPinky" in caplog.text


def test_long_gap_refused_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vp = synth.build(missing=(), nan_joints={"left_wrist": range(30, 40)})
    results = write_results(tmp_path / "r.json", vp)
    out = tmp_path / "e"
    assert main(["export", str(results), "-f", "csv-long,trc", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "LWrist missing from" in err and "--on-long-gap split" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_long_gap_split_writes_segments(tmp_path: Path) -> None:
    vp = synth.build(missing=(), nan_joints={"left_wrist": range(30, 40)})
    results = write_results(tmp_path / "r.json", vp)
    opts = ExportOptions(on_long_gap="split")
    res = export_track(load_tracks(results)[0], tmp_path / "e", "trc,mot", opts)
    assert sorted(p.name for p in res.files) == [
        "walk.part1.angles.mot", "walk.part1.trc", "walk.part2.angles.mot", "walk.part2.trc",
    ]  # fmt: skip
    _, t1, g1, _ = _read_trc(tmp_path / "e" / "walk.part1.trc")
    _, t2, g2, _ = _read_trc(tmp_path / "e" / "walk.part2.trc")
    ts = synth.timestamps()
    assert len(t1) == 30 and len(t2) == 20
    np.testing.assert_allclose([t1[0], t2[0]], [ts[0], ts[40]], atol=5e-7)
    assert np.isfinite(g1).all() and np.isfinite(g2).all()


def test_triangulated_job_exports_world_frame_with_the_calibration_up_axis(
    tmp_path: Path,
) -> None:
    from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
    from neuropose.multiview.trial import triangulate_trial
    from neuropose.schemas import VideoMetadata, VideoPredictions

    n, rig = 40, ring_rig(3)
    subject = walking_motion(n)  # world frame, mm, +z up
    views = []
    for k, px in enumerate(project_views(subject, rig.cameras, noise_px=0.5)):
        base = VideoPredictions.empty_for_tests(BLAZEPOSE_33, n).model_dump()
        base.update(
            video=f"cam{k + 1}.mp4",
            metadata=VideoMetadata(
                width=1080, height=1920, decoded_frame_count=n, duration_s=1, fps_reported=60.0
            ),
            timestamp_s=np.arange(n) / 60.0,
            det_frame=np.arange(n, dtype=np.int32),
            track_id=np.zeros(n, np.int32),
            boxes=np.tile(np.float32([0, 0, 100, 100, 1]), (n, 1)),
            poses3d=np.zeros((n, 33, 3), np.float32),
            poses2d=px.astype(np.float32),
            confidence=np.full((n, 33), 0.9, np.float32),
            primary_track_id=0,
        )
        views.append(VideoPredictions(**base))
    tri = triangulate_trial(views, rig)
    results = write_results(tmp_path / "r.json", *views)
    doc = json.loads(results.read_text())
    results.write_text(json.dumps({**doc, "triangulation": tri.model_dump(mode="json")}))
    assert main(["export", str(results), "--video", "triangulated", "-f", "trc,csv-long",
                 "-o", str(tmp_path / "e")]) == 0  # fmt: skip
    table = opensim.TimeSeriesTableVec3(str(tmp_path / "e" / "triangulated.trc"))
    assert "calibrated world frame" in table.getTableMetaDataAsString("header")
    rec = json.loads((tmp_path / "e" / "triangulated.export.json").read_text())
    trc = rec["files"][0]["details"]
    assert trc["up_axis"]["method"] == "calibration"
    # OpenSim's Y is the calibration's +z: world heights are Y up to the ground offset.
    names, _, got, _ = _read_trc(tmp_path / "e" / "triangulated.trc")
    nose_world = tri.points()[:, BLAZEPOSE_33.index("nose"), 2] / 1000.0
    heel_world = tri.points()[:, BLAZEPOSE_33.index("left_heel"), 2] / 1000.0
    nose_y = got[:, names.index("Nose"), 1]
    heel_y = got[:, names.index("LHeel"), 1]
    np.testing.assert_allclose(nose_y - heel_y, nose_world - heel_world, atol=1e-6)
    assert rec["source"]["axes"].startswith("world frame of the calibration (up = (0, 0, 1))")
    long = (tmp_path / "e" / "triangulated.long.csv").read_text().splitlines()
    assert len(long) == 1 + n * 33
