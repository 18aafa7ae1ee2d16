"""The analyzer's segmentation and DTW on derived signals (signals_spec in the config)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer.load import load_results
from neuropose.cli import main
from neuropose.io import load_model
from neuropose.schemas.analysis import AnalysisReport
from tests.analyzer.conftest import make_arm, make_results

SPEC = """
[[nodes]]
name = "elbow"
kind = "angle_3pt"
params = { a = "left_shoulder", b = "left_elbow", c = "left_wrist", complement = true }

[[nodes]]
name = "elbow_f"
kind = "butterworth"
inputs = ["elbow"]
params = { cutoff_hz = 3.0, fs_hz = 30.0 }

[[nodes]]
name = "wrist"
kind = "joint"
params = { joint = "left_wrist" }
"""

CONFIG = """
inputs = ["t*.json"]
signals_spec = "sig/spec.toml"

[[segmentations]]
name = "reps"
signal = "elbow_f"
min_distance_s = 0.5

[[comparisons]]
name = "by_signals"
a = "t1.json"
b = "t2.json"
mode = "signals"
signals = ["elbow_f", "wrist"]
"""


@pytest.fixture
def study(tmp_path: Path) -> Path:
    for k, cycles in ((1, 10), (2, 8)):
        trial, _ = make_arm(cycles=cycles, jitter=0.2)
        (tmp_path / f"t{k}.json").write_text(
            make_results(trial, video=f"t{k}.mp4").model_dump_json()
        )
    (tmp_path / "sig").mkdir()
    (tmp_path / "sig" / "spec.toml").write_text(SPEC)
    (tmp_path / "c.toml").write_text(CONFIG)
    return tmp_path


def test_segment_command_on_a_derived_signal(study: Path, capsys) -> None:
    results = study / "t1.json"
    spec = study / "sig" / "spec.toml"
    argv = ["segment", str(results), "--signal", f"signal:elbow_f:{spec}", "--name", "reps"]
    assert main([*argv, "--min-distance", "0.5"]) == 0
    assert "10 repetitions (10 complete)" in capsys.readouterr().out
    seg = load_results(results).videos[0].segmentations["reps"]
    assert seg.signal["kind"] == "signal" and seg.signal["node"] == "elbow_f"
    assert seg.signal["unit"] == "deg"
    # A 3-vector node cannot be segmented: refused naming the node.
    bad = ["segment", str(results), "--signal", f"signal:wrist:{spec}", "--name", "w"]
    assert main(bad) == 2
    assert "node 'wrist' gives values of shape [3] per frame" in capsys.readouterr().err


def test_analyze_segments_and_compares_derived_signals(study: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir("/")  # the spec path resolves against the config
    assert main(["analyze", str(study / "c.toml")]) == 0
    report = load_model(study / "c.report.json", AnalysisReport)
    first = report.inputs[0]
    assert len(first["segmentations"]["reps"]["segments"]) == 10
    assert first["segmentations"]["reps"]["signal"]["node"] == "elbow_f"
    comp = report.comparisons[0]
    res = comp["results"]["all"]
    assert res["len_a"] == 301 and res["len_b"] == 241
    assert comp["unit"] == "deg, mm"
    assert np.isfinite(res["distance"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("signals_spec = \"sig/spec.toml\"\n", ""), "field 'segmentations.0.signal.node': "
         "a derived signal needs a signals spec"),
        (("signal = \"elbow_f\"", "signal = \"elbow_g\""),
         "field 'segmentations.0.signal.node': no node 'elbow_g' in"),
        (("signals = [\"elbow_f\", \"wrist\"]", "signals = [\"knee\"]"),
         "field 'comparisons.0.signals': no node 'knee' in"),
        (("sig/spec.toml", "sig/none.toml"), "none.toml: cannot read the spec: No such file"),
    ],
)  # fmt: skip
def test_config_errors_name_the_field(study: Path, capsys, edit, message) -> None:
    cfg = study / "c.toml"
    cfg.write_text(CONFIG.replace(*edit))
    assert main(["analyze", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (study / "c.report.json").exists()
