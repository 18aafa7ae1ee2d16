"""Joint angles against closed-form ground truth, and their documented conventions."""

from __future__ import annotations

import numpy as np
import pytest
from tests.analyzer.conftest import (
    SKELETON,
    body_to_camera,
    idx,
    make_arm,
    make_results,
    rotation,
    standing_body,
)

from neuropose.analyzer import (
    ANGLE_NAMES,
    JointNotFoundError,
    angle_3pt,
    compute_angle,
    estimate_up_axis,
    load_trial,
    trial_from_arrays,
)
from neuropose.errors import InputError


def _trial(body: np.ndarray, tilt: float = 25.0, yaw: float = 0.0):
    t = np.arange(body.shape[0]) / 30.0
    return trial_from_arrays(body_to_camera(body, tilt, yaw), t, SKELETON)


@pytest.mark.parametrize("jitter", [0.0, 0.4])
def test_elbow_flexion_of_the_synthetic_arm_is_exact(jitter: float) -> None:
    trial, truth = make_arm(jitter=jitter, tilt_deg=20.0)
    got = compute_angle(trial, "left_elbow_flexion")
    np.testing.assert_allclose(got, truth, atol=1e-9)
    assert got.min() == pytest.approx(30.0, abs=1e-9)
    assert got.max() == pytest.approx(120.0, abs=0.2)


def test_neutral_standing_pose_gives_zero_for_every_named_angle() -> None:
    trial = _trial(standing_body(5), tilt=30.0, yaw=40.0)
    for name in ANGLE_NAMES:
        np.testing.assert_allclose(compute_angle(trial, name), 0.0, atol=1e-9, err_msg=name)


def test_knee_flexion_and_hip_flexion_signs_follow_the_conventions() -> None:
    body = standing_body(1)
    # Left thigh swung 40° forward (towards +z, the subject's front), shank vertical.
    th = np.radians(40)
    thigh = 450 * np.array([0, -np.cos(th), np.sin(th)])
    body[0, idx("left_knee")] = body[0, idx("left_hip")] + thigh
    body[0, idx("left_ankle")] = body[0, idx("left_knee")] + np.array([0, -450, 0])
    # Right thigh 15° backwards (extension).
    th2 = np.radians(15)
    leg = 450 * np.array([0, -np.cos(th2), -np.sin(th2)])
    body[0, idx("right_knee")] = body[0, idx("right_hip")] + leg
    body[0, idx("right_ankle")] = body[0, idx("right_knee")] + leg
    trial = _trial(body, tilt=10.0, yaw=-35.0)
    assert compute_angle(trial, "left_hip_flexion")[0] == pytest.approx(40.0, abs=1e-9)
    assert compute_angle(trial, "left_knee_flexion")[0] == pytest.approx(40.0, abs=1e-9)
    assert compute_angle(trial, "right_hip_flexion")[0] == pytest.approx(-15.0, abs=1e-9)
    assert compute_angle(trial, "right_knee_flexion")[0] == pytest.approx(0.0, abs=1e-9)


def test_ankle_dorsiflexion_is_positive_when_toes_rise_towards_the_shin() -> None:
    body = standing_body(2)
    for f, deg in ((0, 20.0), (1, -30.0)):
        th = np.radians(deg)
        heel = body[f, idx("left_heel")]
        body[f, idx("left_toe")] = heel + 200 * np.array([0, np.sin(th), np.cos(th)])
    trial = _trial(body)
    np.testing.assert_allclose(
        compute_angle(trial, "left_ankle_dorsiflexion"), [20.0, -30.0], atol=1e-9
    )


def test_shoulder_elevation_is_90_for_an_arm_held_sideways() -> None:
    body = standing_body(1)
    sh = body[0, idx("left_shoulder")]
    body[0, idx("left_elbow")] = sh + np.array([300.0, 0, 0])
    body[0, idx("left_wrist")] = sh + np.array([550.0, 0, 0])
    trial = _trial(body)
    assert compute_angle(trial, "left_shoulder_elevation")[0] == pytest.approx(90.0, abs=1e-9)
    assert compute_angle(trial, "left_elbow_flexion")[0] == pytest.approx(0.0, abs=1e-9)


def test_trunk_inclination_uses_the_estimated_up_axis_not_the_camera_y_axis() -> None:
    body = standing_body(3)
    # Lean the upper body 20° forward about the hips (rotation about the subject's left axis).
    upper = [
        idx(n)
        for n in (
            "neck",
            "head",
            "left_shoulder",
            "right_shoulder",
            "left_elbow",
            "right_elbow",
            "left_wrist",
            "right_wrist",
        )
    ]
    r = rotation("x", 20.0)  # body x = left; +20° turns +y (up) towards +z (forward)
    body[:, upper] = body[:, upper] @ r.T
    trial = _trial(body, tilt=35.0)
    up = estimate_up_axis(trial)
    assert up.method == "ground_plane"
    assert up.tilt_from_camera_deg == pytest.approx(35.0, abs=1e-6)
    np.testing.assert_allclose(compute_angle(trial, "trunk_inclination", up=up), 20.0, atol=1e-9)
    # Assuming the camera's -y were vertical would be wrong by the camera tilt.
    wrong = compute_angle(trial, "trunk_inclination", up=estimate_up_axis(trial, method="camera"))
    assert abs(wrong[0] - 20.0) > 10


def test_missing_frames_give_nan_angles_without_an_exception() -> None:
    trial, truth = make_arm(cycles=2)
    poses = trial.poses.copy()
    poses[5] = np.nan
    poses[9, idx("left_wrist")] = np.nan
    tr = trial_from_arrays(poses, trial.timestamps, SKELETON)
    a = compute_angle(tr, "left_elbow_flexion")
    assert np.isnan(a[[5, 9]]).all()
    np.testing.assert_allclose(np.delete(a, [5, 9]), np.delete(truth, [5, 9]), atol=1e-9)


def test_load_trial_picks_the_primary_subject_and_leaves_missed_frames_nan(tmp_path) -> None:
    trial, truth = make_arm(cycles=1)
    path = tmp_path / "results.json"
    path.write_text(make_results(trial, missing=(3, 4)).model_dump_json())
    loaded = load_trial(path)
    assert loaded.track_id == 1
    assert np.isnan(loaded.poses[[3, 4]]).all()
    a = compute_angle(loaded, "left_elbow_flexion")
    np.testing.assert_allclose(np.delete(a, [3, 4]), np.delete(truth, [3, 4]), atol=1e-3)
    with pytest.raises(InputError, match="no track 7"):
        load_trial(path, track_id=7)


def test_blazepose_results_resolve_canonical_joints() -> None:
    from neuropose.skeletons import BLAZEPOSE_33

    rng = np.random.default_rng(1)
    poses = rng.normal(size=(4, 33, 3)) * 100
    tr = trial_from_arrays(poses, np.arange(4) / 30, BLAZEPOSE_33)
    lh, rh = BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")
    np.testing.assert_allclose(tr.joint("pelvis"), (poses[:, lh] + poses[:, rh]) / 2)
    k = [BLAZEPOSE_33.index(n) for n in ("left_hip", "left_knee", "left_ankle")]
    np.testing.assert_allclose(
        compute_angle(tr, "left_knee_flexion"), 180 - angle_3pt(*(poses[:, i] for i in k))
    )


def test_unknown_angle_and_joint_names_are_clear_errors() -> None:
    trial, _ = make_arm(cycles=1)
    with pytest.raises(InputError, match="unknown angle 'left_knee_flex'"):
        compute_angle(trial, "left_knee_flex")
    with pytest.raises(JointNotFoundError, match="'left_pinky'"):
        trial.joint("left_pinky")
