"""``neuropose visualize`` end to end: files written, messages, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.visualize.synth import (
    N,
    build_knee_predictions,
    build_predictions,
    fps_and_count,
    sha256,
)

from neuropose.cli import main
from neuropose.io import load_model
from neuropose.schemas.quality import QualityReport


def _hidden(d: Path) -> list[str]:
    return [p.name for p in d.iterdir() if p.name.startswith(".")]


def test_default_run_writes_every_output(
    make_results: Callable[..., Path], unique_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = make_results(build_predictions(input_sha256=sha256(unique_video)))
    code = main(["visualize", str(results), "--video", str(unique_video)])
    out = capsys.readouterr()
    assert code == 0, out.err
    vis = results.parent / "visualize"
    names = {p.name for p in vis.iterdir()}
    assert {
        "clip.overlay.mp4", "clip.preview.png", "clip.3d.mp4", "clip.confidence.png",
        "clip.confidence.svg", "clip.quality.json", "clip.quality.html",
    } <= names  # fmt: skip
    assert "clip.skeleton.mp4" not in names  # the overlay was possible
    assert fps_and_count(vis / "clip.overlay.mp4") == (30.0, N)
    assert "subject missing: 3 of 30 frames" in out.out
    # toy skeleton has no legs: the angle plot is skipped with a note, not an error
    assert "angle plot skipped" in out.err
    assert _hidden(vis) == []


def test_video_is_found_in_the_data_dir_and_skeleton_only_needs_none(
    make_results: Callable[..., Path], unique_video: Path, tmp_path: Path
) -> None:
    results = make_results(build_predictions(input_sha256=sha256(unique_video)))
    job_in = tmp_path / "data" / "in" / "job1"
    job_in.mkdir(parents=True)
    (job_in / "clip.mp4").write_bytes(unique_video.read_bytes())
    out = tmp_path / "o"
    assert main(["visualize", str(results), "--overlay", "-o", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        "clip.overlay.mp4", "clip.preview.png", "clip.quality.json", "clip.quality.html"
    }  # fmt: skip
    assert main(["visualize", str(results), "--skeleton-only", "--frames", "5:10", "-o",
                 str(tmp_path / "s")]) == 0  # fmt: skip
    assert fps_and_count(tmp_path / "s" / "clip.skeleton.mp4")[1] == 5


def test_without_the_video_the_default_run_falls_back_to_skeleton_only(
    make_results: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    results = make_results(build_predictions())
    assert main(["visualize", str(results)]) == 0
    names = {p.name for p in (results.parent / "visualize").iterdir()}
    assert "clip.skeleton.mp4" in names and "clip.preview.png" in names
    assert "clip.overlay.mp4" not in names
    assert "original video not found" in capsys.readouterr().err


def test_plots_only_with_angles(make_results: Callable[..., Path], tmp_path: Path) -> None:
    vp, _ = build_knee_predictions()
    results = make_results(vp)
    out = tmp_path / "plots"
    assert main(["visualize", str(results), "--plots", "-o", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        "clip.angles.png", "clip.angles.svg", "clip.confidence.png", "clip.confidence.svg",
        "clip.quality.json", "clip.quality.html",
    }  # fmt: skip
    report = load_model(out / "clip.quality.json", QualityReport)
    assert report.subject_detection_rate == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--overlay"], "cannot find the original video clip.mp4"),
        (["--frames", "9-3"], "--frames '9-3' is not a range"),
        (["--frames", "8:8"], "--frames '8:8' is empty"),
    ],
)
def test_usage_errors_exit_2_with_a_hint(
    make_results: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    results = make_results(build_predictions())
    assert main(["visualize", str(results), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "hint:" in err and "Traceback" not in err


def test_wrong_video_is_refused(
    make_results: Callable[..., Path], unique_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = make_results(build_predictions(input_sha256="1" * 64))
    assert main(["visualize", str(results), "--overlay", "--video", str(unique_video)]) == 2
    assert "is not the video the predictions of clip.mp4 were made from" in capsys.readouterr().err
    assert not (results.parent / "visualize" / "clip.overlay.mp4").exists()


def test_corrupt_results_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"schema_version": 1, "job_id": "x"')
    assert main(["visualize", str(bad)]) == 2
    assert f"{bad}: not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "visualize").exists()


def test_visualize_never_imports_tensorflow(
    make_results: Callable[..., Path], repo_root: Path
) -> None:
    results = make_results(build_knee_predictions()[0])
    code = (
        "import sys\n"
        "from neuropose.cli import main\n"
        f"rc = main(['visualize', {str(results)!r}, '--plots'])\n"
        "print(json.dumps([rc, 'tensorflow' in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True, text=True, cwd=repo_root, timeout=120, check=False,
    )  # fmt: skip
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [0, False], proc.stderr


def test_leftovers_of_a_killed_run_are_removed(
    make_results: Callable[..., Path], tmp_path: Path
) -> None:
    results = make_results(build_predictions())
    out = tmp_path / "vis"
    out.mkdir()
    stale = out / ".clip.overlay.mp4.0123456789abcdef.tmp"
    stale.write_bytes(b"half a video")
    keep = out / "notes.txt"
    keep.write_text("mine")
    assert main(["visualize", str(results), "--plots", "-o", str(out)]) == 2  # toy: no angles
    assert not stale.exists() and keep.read_text() == "mine"
    assert (out / "clip.confidence.png").is_file() and (out / "clip.quality.json").is_file()


def test_progress_reports_every_rendering_step(
    make_results: Callable[..., Path], unique_video: Path, tmp_path: Path
) -> None:
    from neuropose.visualize.pipeline import VisualizeOptions, visualize_results

    results = make_results(build_predictions(input_sha256=sha256(unique_video)))
    seen: dict[str, list[tuple[int, int]]] = {}

    def factory(desc: str) -> Callable[[int, int], None]:
        calls = seen.setdefault(desc, [])
        return lambda done, total: calls.append((done, total))

    opts = VisualizeOptions(overlay=True, view3d=True, video=unique_video)
    visualize_results(results, out_dir=tmp_path / "p", options=opts, progress_factory=factory)
    assert seen["overlay clip.mp4"][-1] == (N, N)
    assert len(seen["overlay clip.mp4"]) == N
    assert seen["3D clip.mp4"][-1] == (15, 15)  # 30 frames at 30 fps -> every 2nd frame
