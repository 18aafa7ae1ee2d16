"""CSV tables and the pandas/xarray API, read back by pandas and xarray."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.cli import main
from neuropose.export import export_track, load_tracks
from neuropose.skeletons import BLAZEPOSE_33
from tests.export import synth

pd = pytest.importorskip("pandas", reason="pandas comes with neuropose[export]")


def _truth() -> tuple[np.ndarray, np.ndarray]:
    pos = synth.positions()
    conf = synth.confidence().astype(np.float64)
    pos[list(synth.MISSING_FRAMES)] = np.nan
    conf[list(synth.MISSING_FRAMES)] = np.nan
    return pos, conf


def test_long_and_wide_csv_read_by_pandas_equal_results(results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "exp"
    assert main(["export", str(results_file), "-f", "csv-long,csv-wide", "-o", str(out)]) == 0
    pos, conf = _truth()
    long = pd.read_csv(out / "walk.long.csv")
    assert list(long.columns) == [
        "time_s",
        "frame_index",
        "joint",
        "x_mm",
        "y_mm",
        "z_mm",
        "confidence",
    ]
    assert len(long) == synth.N * 33
    assert list(long["joint"][:33]) == list(BLAZEPOSE_33.joints)
    np.testing.assert_allclose(long["time_s"][::33], synth.timestamps(), rtol=0, atol=6e-10)
    got = long[["x_mm", "y_mm", "z_mm"]].to_numpy().reshape(synth.N, 33, 3)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(pos))
    np.testing.assert_allclose(got, pos, rtol=1e-7, equal_nan=True)
    np.testing.assert_allclose(
        long["confidence"].to_numpy().reshape(synth.N, 33), conf, rtol=1e-7, equal_nan=True
    )
    wide = pd.read_csv(out / "walk.wide.csv")
    assert wide.shape == (synth.N, 2 + 33 * 4)
    assert list(wide.columns[2:6]) == ["nose_x_mm", "nose_y_mm", "nose_z_mm", "nose_confidence"]
    ki = BLAZEPOSE_33.index("left_knee")
    np.testing.assert_allclose(
        wide[["left_knee_x_mm", "left_knee_y_mm", "left_knee_z_mm"]], pos[:, ki], equal_nan=True
    )
    assert wide["left_knee_x_mm"].isna().sum() == len(synth.MISSING_FRAMES)


def test_dataframe_and_xarray_api(results_file: Path) -> None:
    pytest.importorskip("xarray", reason="xarray comes with neuropose[export]")
    track = load_tracks(results_file)[0]
    pos, conf = _truth()
    df = track.to_dataframe()
    np.testing.assert_allclose(
        df["z_mm"].to_numpy().reshape(synth.N, 33), pos[..., 2], equal_nan=True
    )
    wide = track.to_dataframe("wide")
    assert wide.shape == (synth.N, 2 + 33 * 4)
    ds = track.to_xarray()
    assert ds["position"].dims == ("time", "space", "keypoints", "individuals")
    np.testing.assert_allclose(ds["time"].to_numpy(), synth.timestamps())
    np.testing.assert_allclose(
        ds["position"].sel(keypoints="left_heel", space="y").to_numpy()[:, 0],
        pos[:, BLAZEPOSE_33.index("left_heel"), 1],
        equal_nan=True,
    )
    np.testing.assert_allclose(ds["confidence"].to_numpy()[..., 0], conf, rtol=1e-7, equal_nan=True)
    assert ds["position"].attrs["units"] == "mm"


def test_export_record_lists_files_with_hashes(results_file: Path, tmp_path: Path) -> None:
    import hashlib
    import json

    res = export_track(load_tracks(results_file)[0], tmp_path / "e", "csv-long")
    rec = json.loads(res.record_path.read_text())
    (entry,) = rec["files"]
    assert (
        entry["sha256"]
        == hashlib.sha256((tmp_path / "e" / "walk.long.csv").read_bytes()).hexdigest()
    )
    assert rec["source"]["model_sha256"] == "a" * 64
