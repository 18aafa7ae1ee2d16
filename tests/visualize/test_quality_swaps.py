"""Left/right swap corrections are counted in the quality report, its migration,
its HTML and ``neuropose status JOB`` (schema version 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO_PYTHONPATH
from tests.monitor.limb_processor import FRAMES, LimbProcessor
from tests.visualize.synth import build_limb_predictions

from neuropose.io import load_model
from neuropose.quality import build_quality_report, render_quality_html, summarize_quality
from neuropose.schemas import VideoPredictions
from neuropose.schemas.predictions import SwapCorrection
from neuropose.schemas.quality import QualityReport

LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"


def _swap(track: int, part: str, first: int, last: int) -> SwapCorrection:
    return SwapCorrection(
        track_id=track,
        part=part,  # type: ignore[arg-type]
        first_frame=first,
        last_frame=last,
        n_frames=last - first + 1,
        cost_model=2.0,
        cost_swapped=0.5,
        reason="test",
    )


def swapped_predictions(n: int = FRAMES) -> VideoPredictions:
    """Limb predictions of track 1 with upper 5..9 and lower 8..11 relabelled (7 frames,
    2 runs) plus a run of another track (12..14) that must not count."""
    vp = build_limb_predictions(n)
    tid = int(vp.primary_track_id or 0)
    swaps = (
        _swap(tid, "upper", 5, 9),
        _swap(tid, "lower", 8, 11),
        _swap(tid + 99, "upper", 12, 14),
    )
    return vp.model_copy(update={"swap_corrections": swaps})


class SwapProcessor(LimbProcessor):
    def process_video(self, path: Path, **kw: Any) -> VideoPredictions:
        kw["progress"](FRAMES, FRAMES)
        return swapped_predictions().model_copy(update={"video": path.name})


def make_processor(settings: Any = None) -> SwapProcessor:
    return SwapProcessor()


def test_swaps_are_counted_warned_and_summarised() -> None:
    report = build_quality_report(swapped_predictions(), job_id="j")
    assert report.schema_version == 3
    assert (report.swap_corrected_frames, report.swap_runs) == (7, 2)
    assert "left/right labels corrected on 7 frame(s) of the subject (2 run(s))" in report.warnings
    summary = dict(summarize_quality(report))
    assert summary["left/right swaps corrected"] == f"7 of {FRAMES} frames (2 runs)"
    html = render_quality_html(report)
    assert f"7 of {FRAMES} frames (2 runs)" in html


def test_no_swap_gives_zero_and_no_warning() -> None:
    report = build_quality_report(build_limb_predictions(FRAMES), job_id="j")
    assert (report.swap_corrected_frames, report.swap_runs) == (0, 0)
    assert not any("left/right" in w for w in report.warnings)
    assert dict(summarize_quality(report))["left/right swaps corrected"] == (
        f"0 of {FRAMES} frames (0 runs)"
    )


def test_a_version_2_report_migrates_to_unknown_swaps(tmp_path: Path) -> None:
    v2 = build_quality_report(swapped_predictions(), job_id="j").model_dump(mode="json")
    del v2["swap_corrected_frames"], v2["swap_runs"]
    v2["schema_version"] = 2
    (tmp_path / "old.quality.json").write_text(json.dumps(v2))
    old = load_model(tmp_path / "old.quality.json", QualityReport)
    assert old.schema_version == 3
    assert old.swap_corrected_frames is None and old.swap_runs is None
    assert dict(summarize_quality(old))["left/right swaps corrected"] == "n/a"


def test_status_job_shows_the_swap_count(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "in" / "visit-09").mkdir(parents=True)
    (data / "out").mkdir()
    (data / "in" / "visit-09" / "cam02.mp4").write_bytes(b"not decoded by the test processor")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(
        PYTHONPATH=REPO_PYTHONPATH,
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        NEUROPOSE_SETTLE_SECONDS="0",
        NEUROPOSE_POLL_INTERVAL_S="0.05",
        COLUMNS="300",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LAUNCH, *args],
            env=env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip

    model = "python:tests.visualize.test_quality_swaps:make_processor"
    done = run("watch", "--once", "--data-dir", str(data), "--model", model)
    assert done.returncode == 0, done.stderr
    shown = run("status", "visit-09", "--data-dir", str(data))
    assert shown.returncode == 0, shown.stderr
    line = next(ln for ln in shown.stdout.splitlines() if "left/right swaps corrected" in ln)
    assert f"7 of {FRAMES} frames (2 runs)" in line
