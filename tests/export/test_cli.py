"""``neuropose export`` errors: unknown format, missing extra, unknown video."""

from __future__ import annotations

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
