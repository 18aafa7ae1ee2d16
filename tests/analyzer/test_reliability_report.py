"""How far each angle can be trusted, as the analyze report says (one camera vs triangulated)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from tests.analyzer.conftest import SKELETON, make_results, timestamps
from tests.analyzer.test_reliability import N, bent_body

from neuropose.analyzer.load import trial_from_arrays
from neuropose.analyzer.reliability import BAND_SOURCE, ERROR_BANDS_DEG, NOT_FROM_ONE_VIEW
from neuropose.cli import main


def _analyze(tmp_path: Path, results, cfg_text: str) -> tuple[dict, dict[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    path = tmp_path / "results.json"
    path.write_text(results.model_dump_json())
    cfg = tmp_path / "a.toml"
    cfg.write_text(cfg_text)
    out = tmp_path / "rep.json"
    assert main(["analyze", str(cfg), "--inputs", str(path), "-o", str(out)]) == 0
    entry = json.loads(out.read_text())["inputs"][0]
    with open(tmp_path / "rep.angle_summary.csv", newline="") as fh:
        rows = {r["angle"]: r for r in csv.DictReader(fh)}
    return entry, rows


def _mono(yaw_deg: float):  # type: ignore[no-untyped-def]
    p = bent_body(yaw_deg=yaw_deg)
    return make_results(trial_from_arrays(p, timestamps(N, 60.0), SKELETON), video="w.mp4")


def test_a_knee_filmed_from_the_front_is_reported_not_reliable_from_one_view(
    tmp_path: Path,
) -> None:
    entry, rows = _analyze(tmp_path, _mono(0.0), 'angles = ["left_knee_flexion"]\n')
    assert entry["reliability_basis"] == "monocular"
    assert BAND_SOURCE in entry["reliability_note"]
    rel = entry["reliability"]["left_knee_flexion"]
    assert rel["verdict"] == "unreliable" and rel["label"] == NOT_FROM_ONE_VIEW
    row = rows["left_knee_flexion"]
    assert (row["basis"], row["verdict"], row["label"]) == (
        "monocular",
        "unreliable",
        NOT_FROM_ONE_VIEW,
    )


def test_the_same_knee_from_the_side_carries_its_band(tmp_path: Path) -> None:
    entry, rows = _analyze(tmp_path, _mono(90.0), 'angles = ["left_knee_flexion"]\n')
    band = ERROR_BANDS_DEG["knee_flexion"]
    row = rows["left_knee_flexion"]
    assert row["verdict"] == "caution" and float(row["expected_error_deg"]) == band
    assert row["label"] == f"caution: expected error ±{band:.0f}° RMS"
    assert entry["reliability"]["left_knee_flexion"]["label"] == row["label"]


def test_a_triangulated_input_has_no_monocular_band_and_says_so(tmp_path: Path) -> None:
    from tests.visualize.test_plots_reliability import _triangulated_results

    entry, rows = _analyze(
        tmp_path,
        _triangulated_results(),
        'video = "triangulated"\nangles = ["left_knee_flexion", "trunk_inclination"]\n',
    )
    assert entry["reliability"] is None and entry["reliability_basis"] == "triangulated"
    assert "do not apply" in entry["reliability_note"]
    for name in ("left_knee_flexion", "trunk_inclination"):
        row = rows[name]
        assert row["basis"] == "triangulated"
        assert row["label"] == "triangulated: no monocular error band"
        assert "verdict" not in row and "expected_error_deg" not in row
    assert np.isfinite(entry["angles"]["left_knee_flexion"]["mean"])
