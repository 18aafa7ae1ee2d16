"""`neuropose signals validate|compute` as a user runs them: exit codes, output, files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer.load import load_trial
from neuropose.cli import main
from neuropose.io import sha256_file
from neuropose.signals import SignalGraph, load_spec
from tests.analyzer.conftest import make_arm, make_results
from tests.conftest import REPO_PYTHONPATH

NEUROPOSE = [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())"]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "signals_knee.toml"

ARM_SPEC = """
[[nodes]]
name = "elbow"
kind = "angle_3pt"
params = { a = "left_shoulder", b = "left_elbow", c = "left_wrist", complement = true }

[[nodes]]
name = "elbow_zp"
kind = "filtfilt"
inputs = ["elbow"]
params = { cutoff_hz = 5.0, fs_hz = 30.0 }

[[nodes]]
name = "wrist"
kind = "joint"
params = { joint = "left_wrist" }

[[nodes]]
name = "wrist_speed"
kind = "speed"
inputs = ["wrist"]
"""


@pytest.fixture
def arm(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """results.json of a synthetic arm (true elbow flexion known), its spec, the truth."""
    trial, flex = make_arm(cycles=3, jitter=0.3)
    results = tmp_path / "results.json"
    results.write_text(make_results(trial, missing=(20, 21)).model_dump_json())
    spec = tmp_path / "arm.toml"
    spec.write_text(ARM_SPEC)
    return results, spec, flex


def test_validate_lists_the_nodes_in_order(capsys) -> None:
    assert main(["signals", "validate", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out.splitlines()
    spec = load_spec(EXAMPLE)
    assert out[0] == f"{EXAMPLE}: valid, 10 nodes, sha256 {spec.sha256}"
    assert out[1] == "  knee_l: angle_3pt  [deg]"
    assert "  knee_l_filt: butterworth <- knee_l  [deg]" in out
    assert "  knee_l_vel: velocity <- knee_l_filt  [deg/s]" in out
    assert "  ankle_gap_norm: normalize <- ankle_gap  [mm/mm]" in out
    assert [line.split(":")[0].strip() for line in out[1:]] == spec.order


def test_validate_refuses_a_bad_spec_with_exit_2_and_no_traceback(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[nodes]]\nname = "a"\nkind = "velocity"\ninputs = ["b"]\n'
        '[[nodes]]\nname = "b"\nkind = "velocity"\ninputs = ["a"]\n'
    )
    assert main(["signals", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {bad}: cycle in the signal graph: a -> b -> a"
    assert "Traceback" not in err


def test_compute_csv_values_match_the_graph_and_the_truth(arm, tmp_path: Path, capsys) -> None:
    results, spec, flex = arm
    out = tmp_path / "out" / "arm.csv"
    out.parent.mkdir()
    assert main(["signals", "compute", str(results), "--spec", str(spec), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"{out}: 4 signals x 91 frames of arm.mp4 (track 1); non-causal: elbow_zp" in said
    assert sorted(p.name for p in out.parent.iterdir()) == ["arm.csv", "arm.csv.provenance.json"]
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "time_s", "frame_index", "elbow", "elbow_zp", "wrist_x", "wrist_y", "wrist_z",
        "wrist_speed",
    ]  # fmt: skip
    elbow = np.array([float(r["elbow"]) if r["elbow"] else np.nan for r in rows])
    assert rows[20]["elbow"] == "" and rows[21]["wrist_x"] == ""  # missed frames: empty cells
    ok = np.isfinite(elbow)
    assert ok.sum() == 89
    np.testing.assert_allclose(elbow[ok], flex[ok], atol=1e-3)  # float32 poses
    trial = load_trial(results)
    ref = SignalGraph(load_spec(spec), trial.skeleton).run(trial.timestamps, trial.poses)
    speed = np.array([float(r["wrist_speed"]) if r["wrist_speed"] else np.nan for r in rows])
    np.testing.assert_allclose(speed, ref["wrist_speed"], rtol=1e-12, equal_nan=True)
    prov = json.loads((out.parent / "arm.csv.provenance.json").read_text())
    assert prov["spec_sha256"] == load_spec(spec).sha256
    assert prov["spec"]["nodes"][1]["kind"] == "filtfilt"
    assert prov["results_sha256"] == sha256_file(results)
    assert prov["non_causal"] == ["elbow_zp"] and prov["missing"] == "propagate"
    assert prov["track_id"] == 1 and prov["neuropose_version"]
    assert prov["units"] == {
        "elbow": "deg",
        "elbow_zp": "deg",
        "wrist": "mm",
        "wrist_speed": "mm/s",
    }


def test_compute_json_and_hold_policy(arm, tmp_path: Path) -> None:
    results, spec, _ = arm
    out = tmp_path / "arm.json"
    argv = ["signals", "compute", str(results), "--spec", str(spec), "-o", str(out)]
    assert main([*argv, "--missing", "hold"]) == 0
    doc = json.loads(out.read_text())
    assert doc["format"] == "neuropose.signals" and len(doc["time_s"]) == 91
    assert doc["provenance"]["missing"] == "hold"
    wrist = doc["signals"]["wrist"]
    assert len(wrist) == 91 and len(wrist[0]) == 3
    assert wrist[20] == wrist[19] == wrist[21]  # held over the 2 missed frames
    assert doc["signals"]["wrist_speed"][0] is None  # NaN is written as null


def test_compute_parquet_reads_back_with_pyarrow(arm, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    results, spec, _ = arm
    out = tmp_path / "arm.parquet"
    assert main(["signals", "compute", str(results), "--spec", str(spec), "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names[:3] == ["time_s", "frame_index", "elbow"]
    assert table.num_rows == 91
    prov = json.loads(table.schema.metadata[b"neuropose"])
    assert prov["spec_sha256"] == load_spec(spec).sha256
    assert table.column("elbow").to_pylist()[20] is None or np.isnan(
        table.column("elbow").to_pylist()[20]
    )


def test_parquet_without_pyarrow_exits_4_naming_the_extra(arm, tmp_path, monkeypatch, capsys):
    results, spec, _ = arm
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "arm.parquet"
    assert main(["signals", "compute", str(results), "--spec", str(spec), "-o", str(out)]) == 4
    err = capsys.readouterr().err
    assert "writing Parquet needs pyarrow" in err and "neuropose[signals]" in err
    assert list(tmp_path.glob("arm.parquet*")) == [] and list(tmp_path.glob(".arm*")) == []


def test_compute_refusals_leave_nothing_behind(arm, tmp_path: Path, capsys) -> None:
    results, spec, _ = arm
    base = ["signals", "compute", str(results), "--spec", str(spec)]
    assert main([*base, "-o", str(tmp_path / "o.xlsx")]) == 2
    assert "unknown format '.xlsx'" in capsys.readouterr().err
    assert main([*base, "-o", str(tmp_path / "o.csv"), "--missing", "zero"]) == 2
    assert "unknown missing-detection policy 'zero'" in capsys.readouterr().err
    # A joint the skeleton lacks: refused naming the node and field.
    heel = tmp_path / "heel.toml"
    heel.write_text('[[nodes]]\nname = "h"\nkind = "joint"\nparams = { joint = "nose" }\n')
    assert main(["signals", "compute", str(results), "--spec", str(heel), "-o",
                 str(tmp_path / "o.csv")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert (
        "node 'h', field 'params.joint': joint 'nose' is not provided by skeleton "
        "'synthetic_canonical'" in err
    )
    # A spec given as the results file.
    assert main(["signals", "compute", str(spec), "--spec", str(spec), "-o",
                 str(tmp_path / "o.csv")]) == 2  # fmt: skip
    assert "signals compute" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arm.toml", "heel.toml", "results.json"]


def test_subprocess_example_spec_end_to_end(arm, tmp_path: Path) -> None:
    results, _, _ = arm
    out = tmp_path / "knee.csv"
    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH}
    cmd = [*NEUROPOSE, "signals", "compute", str(results),
           "--spec", str(EXAMPLE), "-o", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "10 signals x 91 frames" in proc.stdout
    with out.open(newline="") as fh:
        header = next(csv.reader(fh))
    assert "knee_l_filt" in header and "ankle_l_x" in header and len(header) == 2 + 9 + 3
    bad = subprocess.run(
        [*NEUROPOSE, "signals", "validate", str(tmp_path / "x.toml")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "x.toml: cannot read the spec: No such file or directory" in bad.stderr


def test_compute_interpolate_with_and_without_max_gap(arm, tmp_path: Path) -> None:
    results, spec, flex = arm
    base = ["signals", "compute", str(results), "--spec", str(spec), "--missing", "interpolate"]
    assert main([*base, "-o", str(tmp_path / "all.json")]) == 0
    assert main([*base, "--max-gap", "1", "-o", str(tmp_path / "short.json")]) == 0
    full = json.loads((tmp_path / "all.json").read_text())
    short = json.loads((tmp_path / "short.json").read_text())
    assert full["provenance"]["non_causal"] == ["elbow_zp", "missing=interpolate"]
    assert short["provenance"]["max_gap"] == 1
    # Frames 20-21 were missed: filled (close to the truth) only without --max-gap 1.
    assert abs(full["signals"]["elbow"][20] - flex[20]) < 2.0
    assert short["signals"]["elbow"][20] is None and short["signals"]["elbow"][21] is None
