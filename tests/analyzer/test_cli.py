"""`neuropose segment` and `neuropose analyze` as a user runs them: output, exit codes, files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import make_arm, make_results, make_walker

from neuropose.analyzer.load import load_results
from neuropose.cli import main
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.analysis import AnalysisReport


@pytest.fixture
def arm_results(tmp_path: Path) -> Path:
    trial, _ = make_arm(cycles=10, jitter=0.3)
    path = tmp_path / "arm" / "results.json"
    path.parent.mkdir()
    path.write_text(make_results(trial, missing=(100, 101)).model_dump_json())
    return path


def test_segment_adds_a_named_segmentation_and_refuses_to_overwrite(arm_results, capsys) -> None:
    argv = [
        "segment",
        str(arm_results),
        "--signal",
        "angle:left_elbow_flexion",
        "--name",
        "reps",
        "--min-distance",
        "0.5",
    ]
    sealed = arm_results.read_bytes()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "10 repetitions (10 complete)" in out
    assert arm_results.read_bytes() == sealed  # results are never rewritten: a sidecar is
    assert load_model(arm_results, JobResults).videos[0].segmentations == {}
    doc = load_results(arm_results)
    seg = doc.videos[0].segmentations["reps"]
    assert len(seg.segments) == 10 and seg.method == "valley_to_valley"
    assert seg.signal["angle"] == "left_elbow_flexion" and seg.parameters["min_distance_s"] == 0.5
    before = arm_results.read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already has a segmentation named 'reps'" in err and "--force" in err
    assert arm_results.read_bytes() == before
    assert main([*argv, "--force", "--polarity", "min"]) == 0
    names = sorted(p.name for p in arm_results.parent.iterdir())
    assert names == ["results.json", "results.segmentations.json"]  # no temp files left
    assert arm_results.read_bytes() == sealed


@pytest.mark.parametrize(
    ("signal", "message"),
    [
        ("elbow", "cannot parse signal"),
        ("angle:left_elbow_flex", "unknown angle"),
        ("axis:left_pinky:up", "'left_pinky' is not provided"),
    ],
)
def test_segment_bad_signal_is_a_usage_or_input_error(arm_results, capsys, signal, message):
    before = arm_results.read_bytes()
    assert main(["segment", str(arm_results), "--signal", signal]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert arm_results.read_bytes() == before


def _write_config(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


ARM_CONFIG = """
name = "arm"
inputs = ["data/*/results.json"]
max_gap = 5
angles = ["left_elbow_flexion", "left_shoulder_elevation", "trunk_inclination"]

[filter]
kind = "butterworth"
cutoff_hz = 6.0
order = 4

[[segmentations]]
name = "reps"
signal = { kind = "angle", angle = "left_elbow_flexion" }
min_distance_s = 0.5

[[comparisons]]
name = "trial1_vs_trial2"
a = "data/t1/results.json"
b = "data/t2/results.json"
joints = ["left_shoulder", "left_elbow", "left_wrist", "neck", "pelvis"]
alignment = "procrustes_sequence"
band = 0.1
"""


@pytest.fixture
def analysis_dir(tmp_path: Path) -> Path:
    for k, (cycles, jitter) in enumerate([(10, 0.0), (8, 0.3), (6, 0.1)], start=1):
        trial, _ = make_arm(cycles=cycles, jitter=jitter)
        p = tmp_path / "data" / f"t{k}" / "results.json"
        p.parent.mkdir(parents=True)
        p.write_text(make_results(trial, video=f"t{k}.mp4").model_dump_json())
    return tmp_path


def test_analyze_writes_a_report_with_provenance_and_tidy_tables(
    analysis_dir, capsys, monkeypatch
) -> None:
    cfg = _write_config(analysis_dir / "arm.toml", ARM_CONFIG)
    monkeypatch.chdir("/")  # relative paths resolve against the config, not the cwd
    assert main(["analyze", str(cfg), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    report_path = analysis_dir / "arm.report.json"
    assert f"report  {report_path}" in out
    report = load_model(report_path, AnalysisReport)
    prov = report.provenance
    import hashlib

    assert prov["config_sha256"] == hashlib.sha256(cfg.read_bytes()).hexdigest()
    assert prov["config"]["filter"]["cutoff_hz"] == 6.0
    assert {"neuropose", "numpy", "scipy", "python"} <= set(prov["versions"])
    assert [e["file"] for e in report.inputs] == ["results.json"] * 3
    labels = [f"data/t{k}/results.json" for k in (1, 2, 3)]
    assert [e["input"] for e in report.inputs] == labels  # relative to the config, in order
    assert str(analysis_dir) not in report_path.read_text()  # no absolute paths
    assert [e["trial"]["video"] for e in report.inputs] == ["t1.mp4", "t2.mp4", "t3.mp4"]
    first = report.inputs[0]
    assert (
        first["sha256"]
        == hashlib.sha256((analysis_dir / "data/t1/results.json").read_bytes()).hexdigest()
    )
    steps = [tr["step"] for tr in first["transforms"]]
    assert steps == ["interpolate_gaps", "butterworth", "estimate_up_axis"]
    assert first["transforms"][1]["result"]["measured_fs_hz"] == pytest.approx(30.0)
    assert first["trial"]["model_name"] == "synthetic"
    assert len(first["segmentations"]["reps"]["segments"]) == 10
    elbow = first["angles"]["left_elbow_flexion"]
    assert elbow["min"] == pytest.approx(30.0, abs=0.5)
    assert elbow["max"] == pytest.approx(120, abs=0.5)
    comp = report.comparisons[0]
    assert comp["results"]["all"]["len_a"] == 301 and comp["results"]["all"]["len_b"] == 241
    assert comp["results"]["all"]["alignment"] == "procrustes_sequence"
    tables = report.tables
    assert set(tables) == {"angle_summary", "angles", "segments", "segment_stats", "dtw"}
    with open(analysis_dir / tables["segments"]) as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["segment"]) for r in rows if r["input"] == labels[0]][:3] == [0, 1, 2]
    assert sum(r["complete"] == "True" for r in rows) == 10 + 8 + 6
    with open(analysis_dir / tables["angle_summary"]) as fh:
        summary = list(csv.DictReader(fh))
    assert len(summary) == 9 and summary[0]["angle"] == "left_elbow_flexion"


def test_keep_going_records_a_corrupt_input_and_exits_1(analysis_dir, capsys) -> None:
    bad = analysis_dir / "data" / "t2" / "results.json"
    bad.write_text('{"schema_version": 1, "job_id": "x"')
    cfg = _write_config(analysis_dir / "arm.toml", ARM_CONFIG.split("[[comparisons]]")[0])
    assert main(["analyze", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "t2/results.json: not valid JSON" in err and "Traceback" not in err
    assert not (analysis_dir / "arm.report.json").exists()
    out_path = analysis_dir / "out" / "r.json"
    out_path.parent.mkdir()
    assert main(["analyze", str(cfg), "--keep-going", "-o", str(out_path)]) == 1
    captured = capsys.readouterr()
    assert "1 of 3 analyses failed" in captured.err
    report = json.loads(out_path.read_text())
    assert [e["status"] for e in report["inputs"]] == ["ok", "failed", "ok"]
    assert report["inputs"][1]["error"].startswith("data/t2/results.json: not valid JSON")
    assert str(analysis_dir) not in out_path.read_text()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'inputs = ["x"]\n[filter]\nkind = "butterworth"\ncuttoff_hz = 3\n',
            "field 'filter.cuttoff_hz': Extra inputs are not permitted",
        ),
        ('inputs = ["x"]\nangles = ["left_knee_flex"]\n', "field 'angles.0': unknown angle"),
        ('inputs = ["nothing/*.json"]\n', "pattern 'nothing/*.json' matched no files"),
        ("inputs = [\n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key_and_exit_2(tmp_path, capsys, body, message) -> None:
    cfg = _write_config(tmp_path / "c.toml", body)
    assert main(["analyze", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_gait_analysis_and_inputs_override(tmp_path, capsys, monkeypatch) -> None:
    walker = make_walker(fs=60.0)
    p = tmp_path / "walk.json"
    p.write_text(make_results(walker.trial, video="walk.mp4").model_dump_json())
    cfg = _write_config(tmp_path / "gait.toml", 'angles = ["left_knee_flexion"]\n[gait]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(cfg), "--inputs", "walk.json"]) == 0
    report = json.loads((tmp_path / "gait.report.json").read_text())
    gait = report["inputs"][0]["gait"]["parameters"]
    assert gait["cadence_steps_per_min"] == pytest.approx(120 / 1.1, rel=0.01)
    assert gait["stride_length_mm"] is None
    with open(tmp_path / "gait.report.gait_events.csv") as fh:
        events = list(csv.DictReader(fh))
    assert {e["event"] for e in events} == {"heel_strike", "toe_off"}


def test_analyze_never_imports_tensorflow(analysis_dir, repo_root) -> None:
    cfg = _write_config(analysis_dir / "arm.toml", ARM_CONFIG)
    code = (
        "import sys\n"
        "from neuropose.cli import main\n"
        f"rc = main(['analyze', {str(cfg)!r}])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('HEAVY', bad)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, timeout=300
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout


def test_custom_angles_and_speeds_are_summarised(tmp_path, capsys) -> None:
    trial, _ = make_arm(cycles=4, tilt_deg=30.0)
    (tmp_path / "arm.json").write_text(make_results(trial).model_dump_json())
    cfg = _write_config(
        tmp_path / "c.toml",
        """
inputs = ["arm.json"]
speeds = ["left_wrist"]
[[custom_angles]]
name = "elbow_inner"
kind = "three_point"
joints = ["left_shoulder", "left_elbow", "left_wrist"]
[[custom_angles]]
name = "forearm_vs_up"
kind = "segment"
joints = ["left_elbow", "left_wrist"]
reference = "up"
""",
    )
    assert main(["analyze", str(cfg)]) == 0
    entry = json.loads((tmp_path / "c.report.json").read_text())["inputs"][0]
    # Inner elbow angle = 180 - flexion; the forearm hangs 180 - flexion from the up axis.
    for name in ("elbow_inner", "forearm_vs_up"):
        assert entry["angles"][name]["min"] == pytest.approx(60.0, abs=1e-6)
        assert entry["angles"][name]["max"] == pytest.approx(150.0, abs=0.2)
    peak = 250 * np.radians(45) * 2 * np.pi  # forearm 250 mm, flexion rate 45° x 2π rad/s
    assert entry["speeds"]["left_wrist"]["max"] == pytest.approx(peak, rel=0.02)
    with open(tmp_path / "c.report.speed_summary.csv") as fh:
        assert next(csv.DictReader(fh))["unit"] == "mm/s"
    bad = _write_config(
        tmp_path / "bad.toml",
        'inputs = ["arm.json"]\n[[custom_angles]]\n'
        'name = "x"\nkind = "segment"\njoints = ["a", "b", "c"]\n',
    )
    assert main(["analyze", str(bad)]) == 2
    assert "custom angle kind 'segment' needs 2 joints" in capsys.readouterr().err
