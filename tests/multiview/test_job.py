"""The multi-view job step (multiview/job.py): folder rules, validation, triangulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuropose.errors import InputError
from neuropose.multiview.calibration import CalibrationError
from neuropose.multiview.job import (
    MultiviewJobError,
    camera_summaries,
    check_videos,
    find_spec,
    triangulate_job,
)
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from tests.multiview.mvjob_helpers import view, write_rig_json

F = 40
RIG = ring_rig(3)
SIZE = (1080, 1920)


def _job(tmp_path: Path, videos: list[str], *, calib: str = "rig.json") -> Path:
    job = tmp_path / "job"
    job.mkdir()
    for v in videos:
        (job / v).write_bytes(b"video")
    write_rig_json(RIG, job / calib)
    (job / "READY").touch()
    return job


def test_videos_named_after_cameras_pair_and_other_json_is_ignored(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "trial_cam2.mp4", "cam3.mov"])
    (job / "notes.json").write_text(json.dumps({"subject": "s01"}))
    spec = find_spec(job, ["cam1.mp4", "cam3.mov", "trial_cam2.mp4"])
    assert spec is not None and spec.calibration == "rig.json"
    assert spec.cameras == {"cam1.mp4": "cam1", "cam3.mov": "cam3", "trial_cam2.mp4": "cam2"}
    assert spec.options.offsets == {} and spec.options.sync_search == 0


def test_camera_map_pairs_and_sets_offsets(tmp_path: Path) -> None:
    job = _job(tmp_path, ["front.mp4", "left.mp4", "right.mp4"])
    (job / "cameras.toml").write_text(
        'sync_search = 6\n[cameras]\n"front.mp4" = "cam2"\nleft = "cam1"\nright = "cam3"\n'
        "[offsets]\ncam3 = 4\n"
    )
    spec = find_spec(job, ["front.mp4", "left.mp4", "right.mp4"])
    assert spec is not None
    assert spec.cameras == {"front.mp4": "cam2", "left.mp4": "cam1", "right.mp4": "cam3"}
    assert spec.options.offsets == {"cam3": 4} and spec.options.sync_search == 6


def test_no_calibration_is_a_single_view_job(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    (job / "walk.mp4").write_bytes(b"v")
    assert find_spec(job, ["walk.mp4"]) is None
    assert triangulate_job([], job) is None


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (
            lambda j: write_rig_json(RIG, j / "second.json"),
            r"several calibration files \(rig.json, second.json\)",
        ),
        (
            lambda j: (j / "cam2.mp4").rename(j / "side.mp4"),
            r"rig.json: video side.mp4: cannot tell which camera",
        ),
        (
            lambda j: (j / "cameras.toml").write_text("[cameras]\nx = 3\n"),
            r"cameras.toml: field 'cameras.x'",
        ),
        (
            lambda j: (j / "cameras.toml").write_text("[offsets]\ncam9 = 2\n"),
            r"cameras.toml: \[offsets\] names camera\(s\) cam9",
        ),
        (
            lambda j: (j / "cameras.toml").write_text("[cameras]\ncam1 = 'cam2'\n"),
            r"several videos map to camera\(s\) cam2",
        ),
    ],
)
def test_inconsistent_folders_are_refused_naming_file_and_field(
    tmp_path: Path, setup, match: str
) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4"])
    setup(job)
    videos = sorted(p.name for p in job.glob("*.mp4"))
    with pytest.raises(MultiviewJobError, match=match) as info:
        find_spec(job, videos)
    assert info.value.exit_code == 2


def test_a_broken_calibration_names_camera_and_field(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4"])
    data = json.loads((job / "rig.json").read_text())
    del data["cameras"]["cam2"]["K"]
    (job / "rig.json").write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match=r"rig.json: cameras.cam2.*'K'"):
        find_spec(job, ["cam1.mp4", "cam2.mp4"])


def test_one_video_next_to_a_calibration_is_refused(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4"])
    with pytest.raises(MultiviewJobError, match=r"at least two videos.*found 1 \(cam1.mp4\)"):
        find_spec(job, ["cam1.mp4"])


def test_check_videos_reports_frame_rates_and_sizes(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4", "cam3.mp4"])
    spec = find_spec(job, ["cam1.mp4", "cam2.mp4", "cam3.mp4"])
    assert spec is not None
    ok = {"cam1.mp4": (*SIZE, 60.0), "cam2.mp4": (*SIZE, 60.0), "cam3.mp4": (*SIZE, 60.1)}
    assert check_videos(spec, ok) == []
    bad = {**ok, "cam2.mp4": (*SIZE, 50.0), "cam3.mp4": (640, 480, 60.0)}
    problems = check_videos(spec, bad)
    assert len(problems) == 2
    assert problems[0].startswith("cam3.mp4:") and "640" in problems[0]
    assert "cam1.mp4 runs at 60 fps but cam2.mp4 50 fps" in problems[1]


def test_triangulate_job_recovers_the_motion_and_summarises_cameras(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4", "cam3.mp4"])
    truth = walking_motion(F)
    px = project_views(truth, RIG.cameras, noise_px=1.0)
    views = [view(f"cam{i + 1}.mp4", px[i], SIZE) for i in (2, 0, 1)]  # any order
    tri = triangulate_job(views, job)
    assert tri is not None
    assert [v.video for v in tri.views] == ["cam1.mp4", "cam2.mp4", "cam3.mp4"]
    err = np.linalg.norm(tri.points() - truth, axis=-1)
    assert np.nanmedian(err) < 4.0
    summary = camera_summaries(tri)
    assert [s.camera for s in summary] == ["cam1", "cam2", "cam3"]
    assert all(
        s.median_reprojection_px is not None and s.median_reprojection_px < 2 for s in summary
    )
    assert all(s.swaps == 0 for s in summary)


def test_a_view_without_predictions_fails_the_trial(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4", "cam3.mp4"])
    px = project_views(walking_motion(F), RIG.cameras)
    views = [view("cam1.mp4", px[0], SIZE), view("cam2.mp4", px[1], SIZE)]
    with pytest.raises(MultiviewJobError, match=r"no predictions for view\(s\) cam3.mp4"):
        triangulate_job(views, job)


def test_views_whose_size_does_not_fit_the_calibration_are_refused(tmp_path: Path) -> None:
    job = _job(tmp_path, ["cam1.mp4", "cam2.mp4"])
    px = project_views(walking_motion(F), RIG.cameras)
    views = [view("cam1.mp4", px[0], SIZE), view("cam2.mp4", px[1], (720, 1280))]
    with pytest.raises(InputError, match="cam2"):
        triangulate_job(views, job)
