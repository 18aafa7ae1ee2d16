"""The lab trial (cam01 + cam02, Calib.qca.txt) through the real BlazePose model.

Ranges, not point values: they hold the figures written in
docs/multiview.md with a margin for TFLite/OpenCV version noise. Caveats:
only two of the four calibrated cameras have video, 100 frames (1.7 s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer.angles import compute_angle
from neuropose.analyzer.load import Trial
from neuropose.config import Settings
from neuropose.estimator import Estimator
from neuropose.multiview.calibration import load_calibration
from neuropose.multiview.trial import TrialOptions, triangulate_trial
from neuropose.multiview.triangulate import TriangulationOptions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(shared_media: Path, blazepose_model):  # type: ignore[no-untyped-def]
    root = shared_media / "lab_single_person"
    views = []
    # The production path (monocular refinement on): triangulation reads each view's
    # raw model output (poses2d_raw), so these tests measure the cross-view swap
    # detection on what BlazePose itself labelled.
    for name in ("cam01.mp4", "cam02.mp4"):
        blazepose_model.reset()
        views.append(Estimator(blazepose_model, Settings()).process_video(root / name))
    return views, load_calibration(root / "Calib.qca.txt")


def test_lab_trial_triangulates_consistently(lab) -> None:  # type: ignore[no-untyped-def]
    """Bars restated on 2026-11-29 after the BlazePose fidelity fix.

    Measured (docs/multiview.md, "Implausible limbs"): before exclusion the
    right upper arm's CV was 16.1 % because of one frame (81: 669 mm
    against a 263 mm median; the whole upper body of that frame is off, a
    2D error along the epipolar direction that reprojects within the gate).
    The plausibility check excludes 3 joint positions (right shoulder and
    elbow in frame 81, left ankle in frame 64: shank 486 vs 355 mm); the
    kept points' CVs are 3.0-8.6 % (median 5.0 %). Bars: every kept CV
    below 10 % and their median below 6 % (the old 15 % bar only tolerated
    that one frame); the CV before exclusion is reported and above the
    kept one; 1-10 excluded positions (not a blanket rejection).
    """
    views, rig = lab
    tri = triangulate_trial(views, rig, options=TrialOptions(sync_search=10))
    cam01, cam02 = tri.views
    # the videos are synchronised: no residual offset, and it is identifiable
    assert cam02.offset_frames == 0 and (cam02.offset_contrast or 0) > 1.3
    # 2D noise of BlazePose at 1080x1920: a few px, measured 4.4 / 3.8 px
    assert cam01.median_reprojection_px is not None and 2 < cam01.median_reprojection_px < 7
    assert cam02.median_reprojection_px is not None and 2 < cam02.median_reprojection_px < 7
    # BlazePose swaps cam02's labels in about a third of the frames (measured 31 of 100)
    assert cam01.swaps <= 3 and 20 <= cam02.swaps <= 45
    assert np.isfinite(tri.points_mm[..., 0]).mean() > 0.85
    cv = tri.bone_length_cv
    assert all(v is not None and v < 0.10 for v in cv.values())
    assert np.median([v for v in cv.values() if v is not None]) < 0.06
    before = tri.bone_length_cv_before_exclusion
    assert all((before[k] or 0) >= (v or 0) for k, v in cv.items())
    assert 1 <= len(tri.excluded) <= 10 and sum(tri.implausible.values()) >= 1
    for rec in tri.excluded:  # each exclusion is a gross length error, not noise
        assert all(abs(s.length_mm / s.reference_mm - 1) > 0.3 for s in rec.segments)
    assert not [w for w in tri.warnings if "disagree" in w or "looks away" in w]
    # the body stands on the lab floor: z-up world, feet near z = 0, head 1.4-2 m up
    p = tri.points()
    feet = np.nanmedian(p[:, [29, 30, 31, 32], 2])
    head = np.nanmedian(p[:, 0, 2])
    assert -100 < feet < 200 and 1400 < head < 2000


def test_swap_detection_is_what_makes_the_limbs_consistent(lab) -> None:  # type: ignore[no-untyped-def]
    views, rig = lab
    off = triangulate_trial(
        views, rig, options=TrialOptions(triangulation=TriangulationOptions(detect_swaps=False))
    )
    on = triangulate_trial(views, rig)
    assert (
        np.isfinite(on.points_mm[..., 0]).mean() > np.isfinite(off.points_mm[..., 0]).mean() + 0.05
    )
    # compared before the plausibility check, which would hide the swapped frames' shanks
    # (measured 17.2 % vs 5.2 %); the check then excludes what the swaps broke (10 vs 3)
    before_off, before_on = off.bone_length_cv_before_exclusion, on.bone_length_cv_before_exclusion
    assert (before_off["right_shank"] or 0) > 2 * (before_on["right_shank"] or 1)
    assert len(off.excluded) > len(on.excluded)


def test_triangulated_angles_differ_from_monocular(lab) -> None:  # type: ignore[no-untyped-def]
    views, rig = lab
    tri = triangulate_trial(views, rig)
    world = Trial(poses=tri.points(), timestamps=tri.timestamp_s, skeleton=tri.skeleton)
    knee = compute_angle(world, "right_knee_flexion")
    assert 0 <= np.nanmin(knee) < 20 and 45 < np.nanmax(knee) < 80  # a gait-like knee range
    rms = []
    for vp in views:
        mono = Trial(poses=vp.track()[0], timestamps=vp.timestamp_s, skeleton=vp.skeleton)
        for name in ("left_knee_flexion", "right_knee_flexion", "right_elbow_flexion"):
            d = compute_angle(world, name) - compute_angle(mono, name)
            rms.append(float(np.sqrt(np.nanmean(d**2))))
    # monocular angles are far from the triangulated ones (measured 10.8-57.7 deg RMS)
    assert min(rms) > 5 and max(rms) > 25
