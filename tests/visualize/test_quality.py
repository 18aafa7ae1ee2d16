"""Quality metrics against known ground truth; report JSON/HTML and the status summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.visualize.synth import MISSING, SKELETON, N, build_limb_predictions, build_predictions

from neuropose.io import load_model
from neuropose.quality import build_quality_report, summarize_quality, write_quality_report
from neuropose.quality.metrics import bone_length_cv, compute_quality, high_frequency_rms
from neuropose.schemas import VideoPredictions
from neuropose.schemas.quality import QualityReport


def test_detection_missing_frames_confidence_and_rigid_bones() -> None:
    m = compute_quality(build_predictions())
    assert m.n_frames == N
    assert m.detection_rate == 1.0  # the bystander is always there
    assert m.subject_detection_rate == pytest.approx((N - len(MISSING)) / N)
    assert m.frames_subject_missing == len(MISSING)
    assert m.subject_missing_ranges == [(MISSING[0], MISSING[-1])]
    assert m.mean_confidence == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.5, "d": 0.5})
    assert m.bone_length_cv == pytest.approx({"a-b": 0.0, "b-c": 0.0, "c-d": 0.0}, abs=1e-6)
    assert m.bone_length_mm == pytest.approx({"a-b": 100.0, "b-c": 50.0, "c-d": 60.0})
    assert m.n_tracks == 2
    assert m.id_switches == 0  # the bystander never takes the subject's place
    assert m.subject_fragments == 2
    assert m.frame_rate_hz == pytest.approx(30.0)


def test_bone_length_cv_matches_hand_computation() -> None:
    p = np.zeros((4, 2, 3))
    p[:, 1, 1] = [90.0, 110.0, 90.0, 110.0]  # mean 100, population std 10
    assert bone_length_cv(p, ((0, 1),))[0] == pytest.approx(0.1)


def test_jitter_is_the_rms_of_the_high_frequency_part() -> None:
    t = np.arange(600) / 60.0
    slow = 100 * np.sin(2 * np.pi * 1.0 * t)
    fast = 3 * np.sin(2 * np.pi * 15.0 * t)
    traj = np.stack([slow + fast, slow, np.zeros_like(t)], axis=1)
    assert high_frequency_rms(traj, t, cutoff_hz=8.0) == pytest.approx(3 / np.sqrt(2), rel=1e-3)
    assert high_frequency_rms(np.stack([slow] * 3, 1), t, cutoff_hz=8.0) < 0.01
    gap = traj.copy()
    gap[300:305] = np.nan  # gaps split the signal; both halves still measured
    assert high_frequency_rms(gap, t, cutoff_hz=8.0) == pytest.approx(3 / np.sqrt(2), rel=0.01)


def test_jitter_of_a_noisy_subject_is_reported_in_mm() -> None:
    vp = build_predictions()
    d = vp.model_dump()
    p3 = d["poses3d"].copy()
    rng = np.random.default_rng(0)
    p3[d["track_id"] == 1, 0, 0] += rng.choice([-5.0, 5.0], size=int((d["track_id"] == 1).sum()))
    d["poses3d"] = p3
    noisy = VideoPredictions.model_validate(d)
    m = compute_quality(noisy)
    assert m.jitter_mm["a"] is not None and m.jitter_mm["a"] > 2.0
    assert m.jitter_mm["d"] is not None and m.jitter_mm["d"] < 0.5


def test_identity_switch_is_counted_when_a_new_track_takes_over_in_place() -> None:
    vp = build_predictions()
    d = vp.model_dump()
    tid = d["track_id"].copy()
    later = (d["det_frame"] >= 20) & (tid == 1)
    tid[later] = 7  # same person, new id from frame 20 on
    d["track_id"] = tid
    m = compute_quality(VideoPredictions.model_validate(d))
    assert m.id_switches == 1
    assert m.n_tracks == 3


def test_report_roundtrips_and_warns(tmp_path: Path) -> None:
    report = build_quality_report(
        build_predictions(), job_id="job1", created_at="2026-01-01T00:00:00Z"
    )
    assert report.schema_version == QualityReport.SCHEMA_VERSION
    assert any("subject track is split into 2 pieces" in w for w in report.warnings)
    assert any("mean confidence below 0.5: b" in w for w in report.warnings)
    json_path, html_path = write_quality_report(report, tmp_path, "clip")
    assert json_path.name == "clip.quality.json" and html_path.name == "clip.quality.html"
    assert load_model(json_path, QualityReport) == report
    page = html_path.read_text()
    assert "<h1>Quality report: clip.mp4</h1>" in page and "<script" not in page


def test_summary_lines_for_status() -> None:
    summary = dict(summarize_quality(build_quality_report(build_predictions(), job_id="j")))
    assert summary["subject detected"] == "90.0%"
    assert summary["subject missing"] == "3 of 30 frames"
    assert summary["mean joint confidence"] == "0.50"
    # The toy skeleton has no clinical limb segments: no segment figure, not a made-up one.
    assert summary["limb segment length CV (worst)"] == "n/a"
    assert summary["tracks / ID switches / subject fragments"] == "2 / 0 / 2"


def test_video_without_detections_gives_nulls_not_nan() -> None:
    vp = VideoPredictions.empty_for_tests(SKELETON, n_frames=5)
    report = build_quality_report(vp, job_id="j")
    assert report.detection_rate == 0.0 and report.frames_subject_missing == 5
    assert report.mean_confidence == {"a": None, "b": None, "c": None, "d": None}
    assert "NaN" not in report.model_dump_json()


def test_reports_are_found_for_status_and_corrupt_ones_are_errors(tmp_path: Path) -> None:
    from neuropose.errors import InvalidDocumentError
    from neuropose.quality import load_quality_reports, quality_report_path

    job = tmp_path / "out" / "job1"
    assert load_quality_reports(job) == {}
    report = build_quality_report(build_predictions(), job_id="job1")
    path = quality_report_path(job, "clip.mp4")
    assert path == job / "visualize" / "clip.quality.json"
    path.parent.mkdir(parents=True)
    write_quality_report(report, path.parent, "clip")
    assert load_quality_reports(job) == {"clip.mp4": report}
    path.write_text("{")
    with pytest.raises(InvalidDocumentError, match=r"clip.quality.json: not valid JSON"):
        load_quality_reports(job)


def test_clinical_segments_of_every_known_skeleton() -> None:
    from neuropose.quality.metrics import CLINICAL_SEGMENTS, clinical_segments
    from neuropose.skeletons import SKELETONS

    assert list(CLINICAL_SEGMENTS) == [
        f"{side}_{seg}"
        for side in ("left", "right")
        for seg in ("upper_arm", "forearm", "thigh", "shank")
    ]
    assert CLINICAL_SEGMENTS["left_thigh"] == ("left_hip", "left_knee")
    assert CLINICAL_SEGMENTS["right_forearm"] == ("right_elbow", "right_wrist")
    for name, skeleton in SKELETONS.items():
        assert clinical_segments(skeleton) == list(CLINICAL_SEGMENTS), name
    assert clinical_segments(SKELETON) == []  # no canonical map: no segments


def test_only_clinical_limb_segments_enter_the_headline_and_warnings() -> None:
    vp = build_limb_predictions()
    m = compute_quality(vp)
    assert m.segment_length_cv == pytest.approx(
        {
            "left_upper_arm": 0.0,
            "left_forearm": 0.0,
            "left_thigh": 0.125,
            "left_shank": 0.0,
            "right_upper_arm": 0.0,
            "right_forearm": 0.0,
            "right_thigh": 0.05,
            "right_shank": 0.0,
        },
        abs=1e-5,
    )
    assert m.segment_length_mm == pytest.approx(
        {
            "left_upper_arm": 300.0,
            "left_forearm": 250.0,
            "left_thigh": 400.0,
            "left_shank": 400.0,
            "right_upper_arm": 300.0,
            "right_forearm": 250.0,
            "right_thigh": 400.0,
            "right_shank": 400.0,
        },
        abs=1e-3,
    )
    # The 0.7 mm eye edge is still measured per edge (28.6 % CV) ...
    assert m.bone_length_cv["left_eye_inner-left_eye"] == pytest.approx(0.2 / 0.7, rel=1e-3)
    assert m.bone_length_mm["left_eye_inner-left_eye"] == pytest.approx(0.7, abs=1e-3)
    # ... but neither the headline nor the warnings count it.
    report = build_quality_report(vp, job_id="j")
    summary = dict(summarize_quality(report))
    assert summary["limb segment length CV (median)"] == "0.0%"
    assert summary["limb segment length CV (worst)"] == "12.5% (left_thigh)"
    assert report.warnings == ("1 limb segment length(s) vary by more than 10%: left_thigh",)
    assert summary["mean joint confidence"] == "0.80"


def test_a_version_1_report_is_migrated_and_shows_no_segment_figures(tmp_path: Path) -> None:
    import json

    report = build_quality_report(build_limb_predictions(), job_id="j")
    v1 = report.model_dump(mode="json")
    del v1["segment_length_cv"], v1["segment_length_mm"]
    v1["schema_version"] = 1
    (tmp_path / "old.quality.json").write_text(json.dumps(v1))
    old = load_model(tmp_path / "old.quality.json", QualityReport)
    assert old.schema_version == QualityReport.SCHEMA_VERSION and old.segment_length_cv == {}
    assert dict(summarize_quality(old))["limb segment length CV (worst)"] == "n/a"
    assert old.bone_length_cv == report.bone_length_cv


def test_html_report_shows_the_summary_strings_and_escapes(tmp_path: Path) -> None:
    from neuropose.quality import render_quality_html

    vp = build_limb_predictions()
    hostile = vp.model_copy(update={"video": "<img src=x onerror=alert(1)>.mp4"})
    page = render_quality_html(build_quality_report(hostile, job_id="j"))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;.mp4" in page
    assert "<script" not in page and " style=" not in page
    assert "<th>limb segment length CV (worst)</th><td>12.5% (left_thigh)</td>" in page
    assert '<td>left_thigh</td><td class="num">400</td><td class="num">12.5%</td>' in page


def test_a_deeply_nested_quality_file_is_a_named_error(tmp_path: Path) -> None:
    from neuropose.errors import InvalidDocumentError
    from neuropose.quality import load_quality_reports

    (tmp_path / "visualize").mkdir()
    bad = tmp_path / "visualize" / "clip.quality.json"
    bad.write_text("[" * 200000 + "]" * 200000)
    with pytest.raises(InvalidDocumentError, match=r"clip.quality.json: .*nested too deeply"):
        load_quality_reports(tmp_path)
