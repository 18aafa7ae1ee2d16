"""C3D read back by ezc3d; NWB by pynwb + ndx_pose and by movement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.cli import main
from neuropose.skeletons import BLAZEPOSE_33
from tests.export import synth


def _truth() -> tuple[np.ndarray, np.ndarray]:
    pos = synth.positions()
    conf = synth.confidence().astype(np.float64)
    pos[list(synth.MISSING_FRAMES)] = np.nan
    conf[list(synth.MISSING_FRAMES)] = np.nan
    return pos, conf


def test_c3d_read_by_ezc3d(results_file: Path, tmp_path: Path) -> None:
    ezc3d = pytest.importorskip("ezc3d", reason="ezc3d comes with neuropose[export]")
    assert main(["export", str(results_file), "-f", "c3d", "-o", str(tmp_path)]) == 0
    c = ezc3d.c3d(str(tmp_path / "walk.c3d"))
    params = c["parameters"]
    assert list(params["POINT"]["LABELS"]["value"]) == list(BLAZEPOSE_33.joints)
    assert params["POINT"]["UNITS"]["value"] == ["mm"]
    assert params["POINT"]["RATE"]["value"][0] == pytest.approx(30.0, rel=0.01)
    assert params["NEUROPOSE"]["MODEL_SHA256"]["value"] == ["a" * 64]
    pts = c["data"]["points"][:3].transpose(2, 1, 0)  # (F, J, 3)
    pos, _ = _truth()
    np.testing.assert_array_equal(np.isnan(pts), np.isnan(pos))
    np.testing.assert_allclose(pts, pos, rtol=1e-6, equal_nan=True)
    res = c["data"]["meta_points"]["residuals"][0]
    assert (res[:, list(synth.MISSING_FRAMES)] < 0).all()
    assert (res[:, :20] == 0).all()


def test_nwb_read_by_pynwb_and_ndx_pose(results_file: Path, tmp_path: Path) -> None:
    pynwb = pytest.importorskip("pynwb", reason="pynwb comes with neuropose[export]")
    pytest.importorskip("ndx_pose", reason="ndx-pose comes with neuropose[export]")
    assert main(["export", str(results_file), "-f", "nwb", "-o", str(tmp_path)]) == 0
    pos, conf = _truth()
    with pynwb.NWBHDF5IO(str(tmp_path / "walk.nwb"), mode="r") as io:
        nwb = io.read()
        pe = nwb.processing["behavior"]["PoseEstimation"]
        assert list(pe.source_video.external_file) == ["walk.mp4"]
        assert "b" * 64 in pe.description and "a" * 64 in pe.description
        assert pe.source_software == "NeuroPose" and pe.scorer == "synthetic"
        assert list(pe.skeleton.nodes) == list(BLAZEPOSE_33.joints)
        assert len(pe.pose_estimation_series) == 33
        knee = pe.pose_estimation_series["left_knee"]
        assert knee.unit == "millimeters"
        np.testing.assert_allclose(knee.timestamps[:], synth.timestamps())
        ki = BLAZEPOSE_33.index("left_knee")
        np.testing.assert_allclose(knee.data[:], pos[:, ki], equal_nan=True)
        np.testing.assert_allclose(knee.confidence[:], conf[:, ki], rtol=1e-7, equal_nan=True)


def test_movement_loads_the_nwb(results_file: Path, tmp_path: Path) -> None:
    load_poses = pytest.importorskip(
        "movement.io.load_poses", reason="movement is in the dev extra"
    )
    assert main(["export", str(results_file), "-f", "nwb", "-o", str(tmp_path)]) == 0
    ds = load_poses.from_nwb_file(tmp_path / "walk.nwb")
    assert set(ds.keypoints.values) == set(BLAZEPOSE_33.joints)
    assert ds.attrs["source_software"] == "NeuroPose"
    pos, _ = _truth()
    got = ds.position.sel(keypoints="right_heel").to_numpy()[:, :, 0]
    np.testing.assert_allclose(got, pos[:, BLAZEPOSE_33.index("right_heel")], equal_nan=True)
    # movement rebuilds time from the median rate (30 fps), not the jittered timestamps.
    assert ds.attrs["fps"] == pytest.approx(30.0, rel=0.01)
