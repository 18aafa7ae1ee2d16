"""The job page as a clinician reads it: verdict, player, plots, downloads (no sockets).

Ground truth: ``make_quality`` (subject 96 %, limb CVs 2 % / 12 %, mean
confidence 0.8, one warning) is "caution"; variants of it below cross each
"not usable" rule of :mod:`neuropose.quality.verdict` by a known margin.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import (
    HOSTILE,
    PNG_BYTES,
    make_entry,
    make_quality,
    sample_jobs,
    write_job_outputs,
    write_status,
)

from neuropose.io import write_json_atomic
from neuropose.monitor.jobfiles import job_files
from neuropose.monitor.jobpage import render_job_page
from neuropose.monitor.snapshot import take_snapshot
from neuropose.quality import Verdict, combine_verdicts, quality_verdict
from neuropose.schemas import JobState
from neuropose.schemas.quality import QualityReport
from neuropose.timefmt import format_bytes


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def _report(**update: Any) -> QualityReport:
    return QualityReport.model_validate(make_quality("j", "cam01.mp4")).model_copy(update=update)


def test_verdict_rules() -> None:
    assert quality_verdict(_report(warnings=())) == Verdict("usable")
    caution = quality_verdict(_report())
    assert caution.level == "caution"
    assert caution.reasons == ("1 limb segment length(s) vary by more than 10%: left_thigh",)
    low = quality_verdict(_report(subject_detection_rate=0.42))
    assert low.level == "not usable"
    assert low.reasons[0] == "the subject is detected on only 42.0% of frames (at least 50% needed)"
    assert low.reasons[1:] == caution.reasons  # the report's warnings follow
    assert quality_verdict(_report(subject_detection_rate=0.5)).level == "caution"  # boundary
    shaky = quality_verdict(_report(segment_length_cv={"a": 0.18, "b": 0.30}, warnings=()))
    assert shaky.level == "not usable"  # median 24 % > 20 %
    assert shaky.reasons[0].startswith("limb segment lengths vary by 24.0% (median)")
    assert quality_verdict(_report(segment_length_cv={"a": 0.18, "b": 0.22})).level == "caution"
    dim = quality_verdict(_report(mean_confidence={"hip": 0.2, "knee": 0.3}, warnings=()))
    assert dim.reasons == ("mean joint confidence 0.25 (below 0.3)",)
    never = quality_verdict(_report(subject_detection_rate=None, warnings=()))
    assert never.reasons == ("the subject is never detected",)
    both = combine_verdicts([("a.mp4", Verdict("usable")), ("b.mp4", low)])
    assert both.level == "not usable" and both.reasons[0].startswith("b.mp4: the subject")


def _visual_job(data_dir: Path, job: str = "walk-03", overlay: bool = True) -> Path:
    write_status(data_dir, sample_jobs())
    job_dir = write_job_outputs(data_dir, job, ("cam01.mp4",), quality=make_quality(job, "x"))
    write_json_atomic(job_dir / "visualize" / "cam01.quality.json", make_quality(job, "cam01.mp4"))
    vis = job_dir / "visualize"
    (vis / ("cam01.overlay.mp4" if overlay else "cam01.skeleton.mp4")).write_bytes(b"\0" * 2048)
    (vis / "cam01.3d.mp4").write_bytes(b"\0" * 100)
    for name in ("angles", "confidence"):
        (vis / f"cam01.{name}.png").write_bytes(PNG_BYTES)
        (vis / f"cam01.{name}.svg").write_text("<svg/>", "utf-8")
    (job_dir / "export").mkdir()
    (job_dir / "export" / "cam01.trc").write_bytes(b"x" * 3000)
    (job_dir / "gait.report.json").write_text("{}", "utf-8")
    return job_dir


def _page(data_dir: Path, job: str = "walk-03", token_query: str = "") -> str:
    jobs = sample_jobs()
    snap = take_snapshot(data_dir, stale_after_s=120)
    files = job_files(data_dir, job, jobs[job])
    return render_job_page(snap, job, jobs[job], files, token_query)


def test_page_shows_verdict_player_plots_and_downloads(data_dir: Path) -> None:
    _visual_job(data_dir)
    html = _page(data_dir, token_query="?token=t%26k")
    tags = _parse(html)
    text = " ".join(tags.text)
    # The verdict comes first in <main>, before the summary.
    assert html.index('id="verdict"') < html.index('class="card job-summary"')
    assert 'data-verdict="caution"' in html
    assert "Use with caution" in text
    assert "1 limb segment length(s) vary by more than 10%: left_thigh" in text
    videos = {a["class"]: a for t, a in tags.tags if t == "video"}
    q = "?token=t%26k"
    assert videos["overlay"]["src"] == f"/jobs/walk-03/visualize/cam01.overlay.mp4{q}"
    assert videos["overlay"]["poster"] == f"/jobs/walk-03/visualize/cam01.preview.png{q}"
    assert "controls" in videos["overlay"] and videos["overlay"]["preload"] == "metadata"
    assert videos["view3d"]["src"] == f"/jobs/walk-03/visualize/cam01.3d.mp4{q}"
    plots = [a["src"] for t, a in tags.tags if t == "img" and a.get("class") == "plot"]
    assert plots == [
        f"/jobs/walk-03/visualize/cam01.angles.png{q}",
        f"/jobs/walk-03/visualize/cam01.confidence.png{q}",
    ]
    downloads = [a["href"] for t, a in tags.tags if t == "a" and "download" in a]
    assert downloads[0] == f"/jobs/walk-03/results.json{q}"  # the summary's link
    assert f"/jobs/walk-03/gait.report.json{q}" in downloads
    assert f"/jobs/walk-03/export/cam01.trc{q}" in downloads
    assert f"/jobs/walk-03/visualize/cam01.angles.svg{q}" in downloads
    assert "2.9 KiB" in text  # cam01.trc, 3000 bytes
    for heading in ("Results", "Analysis reports", "Exports", "Visual outputs"):
        assert heading in text
    assert "skeleton on the original frames" in text


def test_skeleton_video_when_there_is_no_overlay(data_dir: Path) -> None:
    _visual_job(data_dir, overlay=False)
    tags = _parse(_page(data_dir))
    src = [a["src"] for t, a in tags.tags if t == "video" and a.get("class") == "overlay"]
    assert src == ["/jobs/walk-03/visualize/cam01.skeleton.mp4"]
    assert "skeleton only (no video pixels)" in " ".join(tags.text)


@pytest.mark.parametrize(
    ("state", "shown"),
    [(JobState.PROCESSING, None), (JobState.COMPLETED, "not assessed")],
)
def test_no_quality_report(data_dir: Path, state: JobState, shown: str | None) -> None:
    jobs = {"j": make_entry("j", state, frames_done=5, frames_expected=10)}
    write_status(data_dir, jobs)
    snap = take_snapshot(data_dir, stale_after_s=120)
    html = render_job_page(snap, "j", jobs["j"], job_files(data_dir, "j", jobs["j"]))
    if shown is None:
        assert 'id="verdict"' not in html
    else:
        assert f'data-verdict="{shown}"' in html
        assert "no quality report exists for this job&#x27;s videos" in html


def test_hostile_names_stay_text(data_dir: Path) -> None:
    jobs = {HOSTILE: make_entry(HOSTILE, JobState.COMPLETED)}
    write_status(data_dir, jobs)
    snap = take_snapshot(data_dir, stale_after_s=120)
    html = render_job_page(
        snap, HOSTILE, jobs[HOSTILE], job_files(data_dir, HOSTILE, jobs[HOSTILE])
    )
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_download_sizes_use_the_one_byte_formatter() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 3000, 2**30 * 3)] == [
        "0 B",
        "1023 B",
        "1 KiB",
        "2.9 KiB",
        "3 GiB",
    ]


def test_failed_render_is_shown_with_the_fix(data_dir: Path) -> None:
    from neuropose.io import write_model_atomic
    from neuropose.schemas.render import RenderRecord

    _visual_job(data_dir)
    record = RenderRecord(
        job_id="walk-03",
        state="failed",
        started_at="2026-11-29T18:00:00Z",
        finished_at="2026-11-29T18:01:00Z",
        error="ProcessingError: ffmpeg stopped while writing cam01.overlay.mp4: <killed>",
        neuropose_version="0",
    )
    write_model_atomic(data_dir / "out" / "walk-03" / "visualize" / "render.json", record)
    html = _page(data_dir)
    assert 'data-render="failed"' in html
    assert "ffmpeg stopped while writing cam01.overlay.mp4: &lt;killed&gt;" in html
    assert "<code>neuropose retry --render-only walk-03</code>" in html
    assert "render.json" not in " ".join(_parse(html).text)  # not offered as a download
    assert 'class="badge badge-completed"' in html  # the job itself stays completed
    (data_dir / "out" / "walk-03" / "visualize" / "render.json").write_text("{", "utf-8")
    assert "render.json" in _page(data_dir) and "not valid JSON" in _page(data_dir)
