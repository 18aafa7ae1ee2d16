"""``neuropose export`` errors: unknown format, missing extra, unknown video."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from neuropose.cli import main


def test_unknown_format_exit_2_names_choices(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(results_file), "-f", "trc,xlsx"]) == 2
    err = capsys.readouterr().err
    assert "unknown export format 'xlsx'" in err and "csv-long" in err


@pytest.mark.parametrize(("fmt", "module"), [("c3d", "ezc3d"), ("nwb", "pynwb")])
def test_missing_extra_exit_4_names_extra_and_writes_nothing(
    results_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    module: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    out = tmp_path / "e"
    assert main(["export", str(results_file), "-f", f"csv-long,{fmt}", "-o", str(out)]) == 4
    err = capsys.readouterr().err
    assert "pip install 'neuropose[export]'" in err and module in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_unknown_video_exit_2(results_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(results_file), "--video", "nope.mp4"]) == 2
    assert "no video 'nope.mp4'" in capsys.readouterr().err


def test_second_video_refused_leaves_no_file_of_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.export import synth
    from tests.export.conftest import write_results

    good = synth.build(video="a.mp4")
    bad = synth.build(video="b.mp4", missing=(), nan_joints={"left_knee": range(10, 30)})
    results = write_results(tmp_path / "r.json", good, bad)
    out = tmp_path / "e"
    assert main(["export", str(results), "-f", "csv-wide,trc", "-o", str(out)]) == 2
    assert "LKnee missing from" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert (
        main(["export", str(results), "-f", "csv-wide,trc", "-o", str(out), "--video", "a.mp4"])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["a.export.json", "a.trc", "a.wide.csv"]


def test_bad_up_axis_and_gap_policy_exit_2(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(results_file), "-f", "trc", "--up", "sideways"]) == 2
    assert "unknown up-axis method 'sideways'" in capsys.readouterr().err
    assert main(["export", str(results_file), "--on-long-gap", "ignore"]) == 2
    assert "unknown long-gap policy 'ignore'" in capsys.readouterr().err


def test_heavy_libraries_are_imported_only_by_their_writer(
    tmp_path: Path, results_file: Path
) -> None:
    import subprocess

    code = (
        "import sys; from neuropose.cli import main; rc = main(sys.argv[1:]); "
        "heavy = ('pandas', 'xarray', 'ezc3d', 'pynwb', 'ndx_pose', 'opensim', 'tensorflow'); "
        "print(sorted(m for m in heavy if m in sys.modules)); sys.exit(rc)"
    )
    args = ["export", str(results_file), "-f", "csv-long,csv-wide,trc,mot", "-o", str(tmp_path)]
    from tests.conftest import REPO_PYTHONPATH

    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_opensim_without_the_extra_exit_4(
    results_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "opensim", None)
    assert main(["opensim", str(results_file), "--height", "1.7", "--mass", "60"]) == 4
    err = capsys.readouterr().err
    assert "pip install 'neuropose[opensim]'" in err and "Traceback" not in err


def test_opensim_rejects_implausible_height_and_other_skeletons(
    results_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("opensim", reason="opensim comes with neuropose[opensim] / dev")
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(tmp_path / "cache" / "models"))
    assert main(["opensim", str(results_file), "--height", "175", "--mass", "60"]) == 2
    assert "height 175.0 m is outside 0.5-2.5 m" in capsys.readouterr().err
    from tests.export.conftest import write_results
    from tests.visualize.synth import build_predictions

    toy = write_results(tmp_path / "toy.json", build_predictions())
    assert main(["opensim", str(toy), "--height", "1.7", "--mass", "60"]) == 2
    assert "needs BlazePose-33 results" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()  # refused before fetching the setup files
