"""Trial glue: cross-view person association, pairing, container start times."""

from __future__ import annotations

import numpy as np
import pytest

from neuropose.errors import InputError
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.multiview.trial import TrialOptions, pair_videos_with_cameras, triangulate_trial
from neuropose.schemas import VideoMetadata, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33

F = 60
RIG = ring_rig(3)


def _view(name: str, people: list[tuple[int, np.ndarray]], primary: int, t0: float = 0.0):
    """A view with one detection per person and frame: ``people`` = [(track id, px (F, J, 2))]."""
    base = VideoPredictions.empty_for_tests(BLAZEPOSE_33, F).model_dump()
    rows = sorted((f, tid, px[f]) for tid, px in people for f in range(F))
    d = len(rows)
    base.update(
        video=name,
        metadata=VideoMetadata(
            width=1080, height=1920, decoded_frame_count=F, fps_reported=60.0, duration_s=1.0
        ),
        timestamp_s=t0 + np.arange(F) / 60.0,
        det_frame=np.array([r[0] for r in rows], np.int32),
        track_id=np.array([r[1] for r in rows], np.int32),
        boxes=np.tile(np.array([[0, 0, 100, 100, 1]], np.float32), (d, 1)),
        poses3d=np.zeros((d, 33, 3), np.float32),
        poses2d=np.stack([r[2] for r in rows]).astype(np.float32),
        confidence=np.full((d, 33), 0.9, np.float32),
        primary_track_id=primary,
    )
    return VideoPredictions(**base)


def test_the_reference_subject_is_found_in_the_other_views() -> None:
    subject = walking_motion(F)
    bystander = subject + np.array([0.0, 1200.0, 0.0])  # walks alongside, 1.2 m to the left
    sub_px = project_views(subject, RIG.cameras, noise_px=1.0)
    by_px = project_views(bystander, RIG.cameras, noise_px=1.0)
    # view 2: its tracker calls the bystander "primary" (id 0) and the subject id 1;
    # view 3: ids switch half-way (subject 5 then 6)
    switch_a = np.where(np.arange(F)[:, None, None] < 30, sub_px[2], by_px[2])
    switch_b = np.where(np.arange(F)[:, None, None] < 30, by_px[2], sub_px[2])
    views = [
        _view("cam1.mp4", [(0, sub_px[0]), (1, by_px[0])], primary=0),
        _view("cam2.mp4", [(0, by_px[1]), (1, sub_px[1])], primary=0),
        _view("cam3.mp4", [(5, switch_a), (6, switch_b)], primary=5),
    ]
    tri = triangulate_trial(views, RIG)
    err = np.linalg.norm(tri.points() - subject, axis=-1)
    assert np.median(err) < 4
    assert [v.reassigned_frames for v in tri.views] == [0, F, 30]


def test_container_start_times_align_views() -> None:
    subject = walking_motion(F)
    px = project_views(subject, RIG.cameras, noise_px=1.0)
    late = np.concatenate([px[2][5:], np.full((5, 33, 2), np.nan)])  # started 5 frames late
    views = [
        _view("cam1.mp4", [(0, px[0])], 0),
        _view("cam2.mp4", [(0, px[1])], 0),
        _view("cam3.mp4", [(0, late)], 0, t0=5 / 60.0),
    ]
    tri = triangulate_trial(views, RIG)
    assert tri.views[2].offset_frames == -5 and tri.views[2].offset_source == "none"
    assert np.nanmedian(np.linalg.norm(tri.points() - subject, axis=-1)) < 4
    assert tri.used[:, :, 2].sum() > 0.8 * tri.used[:, :, 0].sum()


def test_pairing_rules() -> None:
    assert pair_videos_with_cameras(["cam1.mp4", "b.mp4"], RIG, {"b": "cam3"}) == ["cam1", "cam3"]
    with pytest.raises(InputError, match="several videos map to camera"):
        pair_videos_with_cameras(["cam1.mp4", "x.mp4"], RIG, {"x.mp4": "cam1"})
    with pytest.raises(InputError, match="offset given for camera"):
        subject = project_views(walking_motion(F), RIG.cameras)
        views = [_view(f"cam{i + 1}.mp4", [(0, subject[i])], 0) for i in range(2)]
        triangulate_trial(views, RIG, options=TrialOptions(offsets={"cam3": 1}))


def test_a_view_without_the_subject_is_reported_and_the_others_still_triangulate() -> None:
    subject = walking_motion(F)
    px = project_views(subject, RIG.cameras, noise_px=1.0)
    px[1] = np.nan  # nobody detected in cam2
    views = [_view(f"cam{i + 1}.mp4", [(0, px[i])], 0) for i in range(3)]
    tri = triangulate_trial(views, RIG)
    assert any("camera cam2: no keypoint of the subject" in w for w in tri.warnings)
    assert np.nanmedian(np.linalg.norm(tri.points() - subject, axis=-1)) < 5
    assert not tri.used[:, :, 1].any()


def test_the_analyzer_loads_the_triangulated_subject() -> None:
    from neuropose.analyzer.angles import compute_angle
    from neuropose.analyzer.load import TRIANGULATED, SubjectNotFoundError, load_trial
    from neuropose.schemas import JobResults

    subject = walking_motion(F)
    px = project_views(subject, RIG.cameras, noise_px=1.0)
    views = tuple(_view(f"cam{i + 1}.mp4", [(0, px[i])], 0) for i in range(3))
    res = JobResults(
        job_id="t",
        created_at="t",
        neuropose_version="0",
        videos=views,
        triangulation=triangulate_trial(views, RIG),
    )
    trial = load_trial(res, video=TRIANGULATED)
    assert not trial.root_relative and trial.video == TRIANGULATED
    truth = load_trial(res, video="cam1.mp4")  # same skeleton; compare angles with the truth
    knee = compute_angle(trial, "left_knee_flexion")
    true_knee = compute_angle(
        type(truth)(poses=subject, timestamps=trial.timestamps, skeleton=trial.skeleton),
        "left_knee_flexion",
    )
    assert np.nanmax(np.abs(knee - true_knee)) < 2.0
    mono = res.model_copy(update={"triangulation": None})
    with pytest.raises(SubjectNotFoundError, match="has no triangulation"):
        load_trial(mono, video=TRIANGULATED)


def test_the_analyzer_takes_the_up_axis_from_the_calibration() -> None:
    from neuropose.analyzer.angles import estimate_up_axis
    from neuropose.analyzer.load import TRIANGULATED, load_trial
    from neuropose.schemas import JobResults

    px = project_views(walking_motion(F), RIG.cameras, noise_px=1.0)
    views = tuple(_view(f"cam{i + 1}.mp4", [(0, px[i])], 0) for i in range(3))
    res = JobResults(
        job_id="t",
        created_at="t",
        neuropose_version="0",
        videos=views,
        triangulation=triangulate_trial(views, RIG),
    )
    up = estimate_up_axis(load_trial(res, video=TRIANGULATED))
    assert up.method == "calibration" and up.vector.tolist() == [0.0, 0.0, 1.0]
