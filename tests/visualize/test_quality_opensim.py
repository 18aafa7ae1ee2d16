"""The OpenSim IK summary in the quality report: fields, warnings, headline rows, migration,
and the refresh ``neuropose opensim`` does of a job's existing reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.visualize.synth import build_limb_predictions

from neuropose.io import load_model, write_model_atomic
from neuropose.quality import (
    build_quality_report,
    load_quality_reports,
    refresh_opensim_summaries,
    render_quality_html,
    summarize_quality,
    write_job_quality_reports,
)
from neuropose.schemas import JobResults
from neuropose.schemas.opensim import OpenSimRecord
from neuropose.schemas.quality import QualityReport


def _record(rms_median: float = 28.1) -> OpenSimRecord:
    return OpenSimRecord(
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="0",
        opensim_version="4.6",
        source={"video": "clip.mp4"},
        options={"locked_coordinates": ["mtp_angle_r", "mtp_angle_l"]},
        setup_files={},
        markers={},
        frames=[2, 28],
        summary={
            "marker_rms_mm_median": rms_median,
            "marker_rms_mm_max": 61.04,
            "left_knee_rms_deg": 7.9,
            "right_knee_rms_deg": 4.8,
        },
        coordinates={
            "knee_angle_r": {"min": 2.0, "max": 60.0, "locked": False, "at_limit_fraction": 0.0},
            "subtalar_angle_l": {"locked": False, "at_limit_fraction": 0.62},
            "hip_rotation_r": {"locked": False, "at_limit_fraction": 0.04},
            "mtp_angle_r": {"locked": True},
        },
        files={},
    )


def test_summary_fields_warnings_and_headline() -> None:
    report = build_quality_report(build_limb_predictions(), job_id="j", opensim=_record(45.5))
    ik = report.opensim
    assert ik is not None
    assert (ik.marker_rms_mm_median, ik.marker_rms_mm_max, ik.frames) == (45.5, 61.04, (2, 28))
    assert ik.coordinates_at_limit == {"subtalar_angle_l": 0.62, "hip_rotation_r": 0.04}
    assert ik.locked_coordinates == ("mtp_angle_r", "mtp_angle_l")
    assert ik.knee_rms_deg == {"left": 7.9, "right": 4.8}
    assert "OpenSim IK marker RMS 45.5 mm (median) is above 40 mm" in report.warnings
    assert (
        "1 OpenSim coordinate(s) at a range limit in more than 10% of frames "
        "(not measurements): subtalar_angle_l"
    ) in report.warnings
    summary = dict(summarize_quality(report))
    assert summary["OpenSim marker RMS (median / max)"] == "45.5 / 61.0 mm"
    assert summary["OpenSim coordinates at a range limit"] == "2 (worst subtalar_angle_l: 62.0%)"
    html = render_quality_html(report)
    assert "OpenSim marker RMS (median / max)" in html and "45.5 / 61.0 mm" in html


def test_no_opensim_run_means_no_rows_and_no_warning() -> None:
    report = build_quality_report(build_limb_predictions(), job_id="j")
    assert report.opensim is None
    assert not any(k.startswith("OpenSim") for k, _ in summarize_quality(report))
    good = build_quality_report(build_limb_predictions(), job_id="j", opensim=_record(28.1))
    assert not any("marker RMS" in w for w in good.warnings)


def test_a_version_2_report_is_migrated_without_opensim(tmp_path: Path) -> None:
    v2 = build_quality_report(build_limb_predictions(), job_id="j").model_dump(mode="json")
    del v2["opensim"]
    v2["schema_version"] = 2
    (tmp_path / "old.quality.json").write_text(json.dumps(v2))
    old = load_model(tmp_path / "old.quality.json", QualityReport)
    assert old.schema_version == QualityReport.SCHEMA_VERSION and old.opensim is None
    assert not any(k.startswith("OpenSim") for k, _ in summarize_quality(old))


def test_refresh_adds_the_summary_to_existing_reports_only(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    results = job / "results.json"
    doc = JobResults(
        job_id="job", created_at="2026-01-01T00:00:00Z", neuropose_version="0",
        videos=(build_limb_predictions(),),
    )  # fmt: skip
    write_model_atomic(results, doc)
    opensim_root = job / "opensim"
    (opensim_root / "clip").mkdir(parents=True)
    write_model_atomic(opensim_root / "clip" / "opensim.json", _record())
    # No quality report yet: nothing is created.
    assert refresh_opensim_summaries(results, opensim_root) == []
    assert not (job / "visualize").exists()
    write_job_quality_reports(doc, job / "visualize")
    assert load_quality_reports(job)["clip.mp4"].opensim is None
    written = refresh_opensim_summaries(results, opensim_root)
    assert sorted(p.name for p in written) == ["clip.quality.html", "clip.quality.json"]
    report = load_quality_reports(job)["clip.mp4"]
    assert report.opensim is not None and report.opensim.marker_rms_mm_median == pytest.approx(28.1)
    assert "OpenSim marker RMS" in (job / "visualize" / "clip.quality.html").read_text()
    # The daemon/visualize entry point finds it too when given the folder.
    [(again, _)] = write_job_quality_reports(doc, tmp_path / "v2", opensim_root=opensim_root)
    assert again.opensim == report.opensim


def test_the_daemon_keeps_the_opensim_summary_when_it_rewrites_a_report(tmp_path: Path) -> None:
    """A completed job whose reports are (re)written by the daemon after an OpenSim run."""
    from neuropose.datadir.layout import DataDir
    from neuropose.interfacer.reports import QualityReports

    layout = DataDir(tmp_path)
    job = layout.job("job")
    doc = JobResults(
        job_id="job", created_at="2026-01-01T00:00:00Z", neuropose_version="0",
        videos=(build_limb_predictions(),),
    )  # fmt: skip
    (job.opensim / "clip").mkdir(parents=True)
    write_model_atomic(job.opensim / "clip" / "opensim.json", _record(45.5))
    assert QualityReports(layout).write(doc) is True
    report = load_quality_reports(job.output)["clip.mp4"]
    assert report.opensim is not None and report.opensim.marker_rms_mm_median == 45.5


def test_visualize_keeps_the_opensim_summary_of_the_job_folder(tmp_path: Path) -> None:
    """`neuropose visualize` on a results file whose folder holds an OpenSim run."""
    from neuropose.visualize.pipeline import VisualizeOptions, visualize_results

    job = tmp_path / "job"
    (job / "opensim" / "clip").mkdir(parents=True)
    doc = JobResults(
        job_id="job", created_at="2026-01-01T00:00:00Z", neuropose_version="0",
        videos=(build_limb_predictions(),),
    )  # fmt: skip
    write_model_atomic(job / "results.json", doc)
    write_model_atomic(job / "opensim" / "clip" / "opensim.json", _record(45.5))
    res = visualize_results(job / "results.json", options=VisualizeOptions(plots=True))
    [report] = res.reports
    assert report.opensim is not None and report.opensim.marker_rms_mm_median == 45.5
    assert load_quality_reports(job)["clip.mp4"].opensim is not None
