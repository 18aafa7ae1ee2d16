"""``neuropose analyze CONFIG --set KEY=VALUE``: a shipped config runs on other files.

Ground truth: synthetic arm-raise trials of 10, 8 and 6 cycles (30 frames
per cycle + 1: 301, 241 and 181 frames). The config compares t1 with t2;
retargeting the comparison's ``b`` to t3 must make ``len_b`` 181, and the
file of the config must stay byte-identical.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.analyzer.conftest import make_arm, make_results

from neuropose.cli import main
from neuropose.io import load_model
from neuropose.schemas.analysis import AnalysisReport

CONFIG = """
name = "arm"
inputs = ["data/t1/results.json"]
angles = ["left_elbow_flexion"]

[filter]
kind = "butterworth"
cutoff_hz = 6.0

[[comparisons]]
name = "first_vs_second"
a = "data/t1/results.json"
b = "data/t2/results.json"
joints = ["left_shoulder", "left_elbow", "left_wrist"]
"""


@pytest.fixture
def trials(tmp_path: Path) -> Path:
    for k, cycles in enumerate([10, 8, 6], start=1):
        trial, _ = make_arm(cycles=cycles, jitter=0.0)
        p = tmp_path / "shipped" / "data" / f"t{k}" / "results.json"
        p.parent.mkdir(parents=True)
        p.write_text(make_results(trial, video=f"t{k}.mp4").model_dump_json())
    (tmp_path / "shipped" / "arm.toml").write_text(CONFIG)
    return tmp_path


def test_set_retargets_a_comparison_and_a_filter_without_editing_the_file(
    trials: Path, capsys, monkeypatch
) -> None:
    cfg = trials / "shipped" / "arm.toml"
    before = hashlib.sha256(cfg.read_bytes()).hexdigest()
    monkeypatch.chdir(trials / "shipped" / "data")  # --set paths are relative to the cwd
    out = trials / "mine.report.json"
    argv = [
        "analyze",
        str(cfg),
        "-o",
        str(out),
        "--set",
        "comparisons.first_vs_second.b=t3/results.json",
    ]
    rc = main([*argv, "--set", "filter.cutoff_hz=4", "--set", "inputs=['t2/results.json']"])
    assert rc == 0, capsys.readouterr().err
    report = load_model(out, AnalysisReport)
    comp = report.comparisons[0]["results"]["all"]
    assert (comp["len_a"], comp["len_b"]) == (301, 181)
    assert report.provenance["config"]["filter"]["cutoff_hz"] == 4.0
    assert [e["trial"]["video"] for e in report.inputs] == ["t2.mp4"]
    assert hashlib.sha256(cfg.read_bytes()).hexdigest() == before


def test_set_by_index_equals_set_by_name(trials: Path, capsys, monkeypatch) -> None:
    cfg = trials / "shipped" / "arm.toml"
    monkeypatch.chdir(trials)
    b = "shipped/data/t3/results.json"
    assert main(["analyze", str(cfg), "-o", "i.json", "--set", f"comparisons.0.b={b}"]) == 0
    by_index = load_model(trials / "i.json", AnalysisReport).comparisons[0]["results"]["all"]
    assert by_index["len_b"] == 181


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("comparisons.nope.b=x.json", "comparisons.nope names no item of the list"),
        ("comparisons.5.b=x.json", "use an index 0..0 or a name: first_vs_second"),
        ("filter", "expected KEY=VALUE"),
        ("filter.cutoff_hz=-1", "field 'filter.cutoff_hz'"),
        ("no_such_key=1", "field 'no_such_key'"),
    ],
)
def test_bad_override_is_a_config_error_naming_it(
    trials: Path, capsys, override: str, message: str
) -> None:
    cfg = trials / "shipped" / "arm.toml"
    assert main(["analyze", str(cfg), "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
