"""Triangulation core on virtual rigs with known 3D ground truth.

Scene: a BlazePose-33 body walking at 1 m/s for 2 s at 60 fps, seen by
2-6 cameras on a 4 m circle (f = 1500 px, 1080x1920, mild distortion),
with 1 px Gaussian noise on every keypoint unless a test says otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuropose.multiview.geometry import mirror_permutation
from neuropose.multiview.qc import bone_length_cv, camera_checks, suspect_cameras
from neuropose.multiview.sync import estimate_offsets, shift_frames
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.multiview.triangulate import (
    TriangulationOptions,
    normalize_views,
    triangulate_views,
)
from neuropose.schemas.rig import RigCamera
from neuropose.skeletons import BLAZEPOSE_33

F = 120
PERM = mirror_permutation(BLAZEPOSE_33.joints)


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    return walking_motion(F)


def _views(truth: np.ndarray, n: int, noise: float = 1.0, seed: int = 0):
    rig = ring_rig(n)
    px = project_views(truth, rig.cameras, noise_px=noise, rng=np.random.default_rng(seed))
    return rig, px, np.ones(px.shape[:3])


def _turned(c: RigCamera, rot: np.ndarray) -> RigCamera:
    """``c`` turned in place (same centre) to world-to-camera rotation ``rot``."""
    t = -rot @ c.center_mm
    return RigCamera(
        **{**c.model_dump(), "rotation": tuple(map(tuple, rot)), "translation_mm": tuple(t)}
    )


def _err(rec, truth: np.ndarray) -> np.ndarray:
    return np.linalg.norm(rec.points_mm - truth, axis=-1)


@pytest.mark.parametrize(("n", "tol_mm"), [(2, 6.0), (3, 4.0), (4, 3.0), (6, 3.0)])
def test_noisy_views_give_mm_accuracy(truth: np.ndarray, n: int, tol_mm: float) -> None:
    rig, px, conf = _views(truth, n)
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    err = _err(rec, truth)
    assert np.all(rec.agreed)
    assert np.median(err) < tol_mm
    assert not rec.swapped.any()
    # reprojection of 1 px noise: median below 1.5 px in every view
    assert np.all(np.nanmedian(rec.reprojection_px, axis=(0, 1)) < 1.5)


def test_noise_free_is_exact_despite_distortion(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 3, noise=0.0)
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    assert np.max(_err(rec, truth)) < 0.01


def test_outliers_are_rejected_by_consensus(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 4)
    rng = np.random.default_rng(3)
    bad = rng.random(px.shape[:3]) < 0.05  # 5 % of keypoints thrown 100-300 px away
    angle = rng.uniform(0, 2 * np.pi, bad.sum())
    px[bad] += np.stack([np.cos(angle), np.sin(angle)], 1) * rng.uniform(100, 300, (bad.sum(), 1))
    naive = triangulate_views(px, conf, rig.cameras, PERM, TriangulationOptions(gate_px=1e9))
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    assert np.percentile(_err(naive, truth), 95) > 30  # outliers do corrupt plain DLT
    assert np.percentile(_err(rec, truth), 95) < 8
    assert (
        not rec.used[bad.transpose(1, 2, 0)].any() or rec.used[bad.transpose(1, 2, 0)].mean() < 0.02
    )


def test_missing_joints_and_a_missing_view(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 3)
    conf[0, :, 25] = 0.0  # view 0 never sees the left knee
    px[2, 40:80] = np.nan  # view 2 is absent for 40 frames
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    err = _err(rec, truth)
    assert np.all(rec.agreed[:40]) and np.all(rec.agreed[80:])
    # frames 40-80: only views 0 and 1, and the left knee only in view 1 -> not triangulated
    assert not rec.agreed[40:80, 25].any()
    assert np.all(rec.agreed[40:80, np.arange(33) != 25])
    assert np.nanmedian(err) < 5
    assert not rec.used[40:80, :, 2].any()


@pytest.mark.parametrize("n", [2, 3, 4])
def test_swapped_view_is_found_and_corrected(truth: np.ndarray, n: int) -> None:
    rig, px, conf = _views(truth, n)
    rng = np.random.default_rng(5)
    sw = np.zeros(F, bool)
    sw[10:50] = True  # a run, like BlazePose's swaps
    sw |= rng.random(F) < 0.1  # plus isolated frames
    sw[:3] = False  # the first frames anchor the labelling when two views tie
    px[1, sw] = px[1, sw][:, PERM]
    plain = TriangulationOptions(detect_swaps=False, gate_px=1e9)
    naive = triangulate_views(px, conf, rig.cameras, PERM, plain)
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    assert np.array_equal(rec.swapped[:, 1], sw)
    assert not rec.swapped[:, [v for v in range(n) if v != 1]].any()
    limbs = [15, 16, 27, 28]  # wrists and ankles: where a swap hurts most
    assert np.median(_err(rec, truth)[sw][:, limbs]) < 6
    assert np.median(_err(naive, truth)[sw][:, limbs]) > 40


def test_offset_of_k_frames_is_found(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 3)
    # view 2's frame f shows reference frame f - 4, i.e. it started 4 frames earlier:
    # its frame f + 4 is the reference's frame f -> offset +4
    px[2] = shift_frames(px[2], -4)
    px[1, 20:60] = px[1, 20:60][:, :, :][:, PERM]  # swaps must not fool the search
    xn, _ = normalize_views(px, conf, rig.cameras, 0.3)
    est = estimate_offsets(xn, rig.cameras, PERM, max_offset=8)
    assert [e.frames for e in est] == [0, 0, 4]
    assert abs(est[2].subframe - 4) < 0.3
    assert est[2].contrast > 2


def test_a_broken_camera_is_named(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 4)
    cams = list(rig.cameras)
    c = cams[2]
    a = np.radians(2)  # the file's rotation of cam3 is off by 2 degrees about its y axis
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]) @ c.R
    cams[2] = _turned(c, rot)
    rec = triangulate_views(px, conf, cams, PERM)
    checks = camera_checks(rec, cams)
    msgs = suspect_cameras(checks, gate_px=20)
    assert len(msgs) == 1 and "camera cam3 disagrees" in msgs[0]
    assert np.median(_err(rec, truth)) < 5  # and the consensus still ignores it


def test_camera_looking_away_is_named(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 3)
    cams = list(rig.cameras)
    c = cams[0]
    flip = np.diag([-1.0, 1.0, -1.0]) @ c.R  # turned 180 degrees: looks away from the volume
    cams[0] = _turned(c, flip)
    rec = triangulate_views(px, conf, cams, PERM)
    msgs = suspect_cameras(camera_checks(rec, cams), gate_px=20)
    assert any("cam1" in m for m in msgs)


def test_two_disagreeing_cameras_are_both_named(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 2)
    cams = list(rig.cameras)
    c = cams[1]
    cams[1] = RigCamera(**{**c.model_dump(), "translation_mm": tuple(c.t + np.array([0, 300, 0]))})
    rec = triangulate_views(px, conf, cams, PERM)
    msgs = suspect_cameras(camera_checks(rec, cams), gate_px=20)
    assert len(msgs) == 1 and "cam1 and cam2 disagree" in msgs[0]


def test_bone_length_cv_of_a_good_reconstruction(truth: np.ndarray) -> None:
    rig, px, conf = _views(truth, 4)
    rec = triangulate_views(px, conf, rig.cameras, PERM)
    cv = bone_length_cv(rec.points_mm, BLAZEPOSE_33)
    assert set(cv) == {
        f"{s}_{g}" for s in ("left", "right") for g in ("thigh", "shank", "upper_arm", "forearm")
    }
    assert max(cv.values()) < 0.02  # true lengths are constant
    assert max(bone_length_cv(truth, BLAZEPOSE_33).values()) < 1e-9


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="min_views"):
        TriangulationOptions(min_views=1)
    with pytest.raises(ValueError, match="gate_px"):
        TriangulationOptions(gate_px=0)
