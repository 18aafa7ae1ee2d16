"""Labels tables from segmentations stored by ``neuropose segment``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from neuropose.analyzer.load import load_results
from neuropose.cli import main
from neuropose.io import write_model_atomic
from tests.analyzer.conftest import make_arm, make_results


def test_segments_become_labelled_rows_and_the_rest_fills_the_gaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial, _ = make_arm(fs=30.0, cycles=4, phase_s=0.3)
    results = tmp_path / "arm.results.json"
    write_model_atomic(results, make_results(trial))
    assert main(["segment", str(results), "--signal", "angle:left_elbow_flexion",
                 "--name", "reps"]) == 0  # fmt: skip
    segs = load_results(results).videos[0].segmentations["reps"].segments
    assert len(segs) >= 3
    table = tmp_path / "labels" / "labels.csv"
    table.parent.mkdir()
    args = ["classify", "labels", str(results), "--segmentation", "reps", "--label", "raise",
            "--rest", "idle", "--subject", "p1", "-o", str(table)]  # fmt: skip
    assert main(args) == 0
    with table.open() as f:
        rows = list(csv.DictReader(f))
    raises = [r for r in rows if r["label"] == "raise"]
    assert [(float(r["start_s"]), float(r["end_s"])) for r in raises] == [
        (round(s.start_s, 6), round(s.end_s, 6)) for s in segs
    ]
    assert {r["file"] for r in rows} == {"../arm.results.json"}
    assert {r["subject"] for r in rows} == {"p1"}
    idle = [r for r in rows if r["label"] == "idle"]
    t = trial.timestamps
    if segs[0].start_s > t[0]:
        assert float(idle[0]["start_s"]) == 0.0 and float(idle[0]["end_s"]) == round(
            segs[0].start_s, 6
        )
    assert float(rows[-1]["end_s"]) == pytest.approx(t[-1] + 1 / 30, abs=1e-6)
    # the table trains as written
    model = tmp_path / "m.npz"
    code = main(["classify", "train", str(table), "-o", str(model), "--win", "0.3", "--hop", "0.1"])
    assert code == 0, capsys.readouterr().err


def test_missing_segmentation_names_what_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial, _ = make_arm(fs=30.0, cycles=2)
    results = tmp_path / "arm.results.json"
    write_model_atomic(results, make_results(trial))
    args = ["classify", "labels", str(results), "--segmentation", "reps", "--label", "x",
            "--subject", "p1", "-o", str(tmp_path / "l.csv")]  # fmt: skip
    assert main(args) == 2
    assert "no segmentation named 'reps' (it has: none)" in capsys.readouterr().err
    assert not (tmp_path / "l.csv").exists()
    assert main([*args[:3], str(results), *args[3:]]) == 2
    assert "2 results files but 1 --subject values" in capsys.readouterr().err
