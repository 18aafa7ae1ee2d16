"""Implausible triangulated limbs are flagged and excluded, not averaged in.

Ground truth: the synthetic BlazePose-33 walk (segment lengths exactly
constant) seen by two cameras 90 degrees apart, 4 px Gaussian 2D noise
(BlazePose's median reprojection error on the lab trial is 3.7-4.3 px). A
joint is moved 300 mm along camera 1's viewing ray and camera 2's keypoint
is placed on the projection of the moved point (i.e. on the epipolar line
of camera 1's keypoint): both rays still meet, so the point reprojects
within the gate in both views and only the limb lengths show the error.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuropose.cli import main
from neuropose.errors import FutureSchemaError
from neuropose.io import load_model, write_model_atomic
from neuropose.multiview.qc import check_segment_lengths
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.multiview.trial import TrialOptions, triangulate_trial
from neuropose.schemas import JobResults
from neuropose.schemas.triangulation import POINT_IMPLAUSIBLE, POINT_TOO_FEW_VIEWS, Triangulation
from neuropose.skeletons import BLAZEPOSE_33
from tests.multiview.mvjob_helpers import view, write_rig_json

F, K = 240, 100  # 4 s at 60 fps, +-2 m around the rig's centre; the error goes in frame K
RIG = ring_rig(2)
TRUTH = walking_motion(F)
J = BLAZEPOSE_33.joints


def _px(joint: str | None = None, *, seed: int = 1, noise: float = 4.0) -> np.ndarray:
    """2D of both views (V, F, J, 2); ``joint`` moved 300 mm in depth for camera 1 in frame K."""
    px = project_views(TRUTH, RIG.cameras, noise_px=noise, rng=np.random.default_rng(seed))
    if joint is not None:
        j = J.index(joint)
        cam1, cam2 = RIG.cameras
        x = TRUTH[K, j]
        ray = (x - cam1.center_mm) / np.linalg.norm(x - cam1.center_mm)
        moved = x + 300.0 * ray
        noise_2 = px[1, K, j] - cam2.project(x[None])[0]
        px[1, K, j] = cam2.project(moved[None])[0] + noise_2
    return px


def _trial(px: np.ndarray, **options) -> Triangulation:  # type: ignore[no-untyped-def]
    views = [view(f"cam{v + 1}.mp4", px[v], (1080, 1920), 60.0) for v in range(2)]
    return triangulate_trial(views, RIG, options=TrialOptions(**options))


def test_a_depth_error_passes_the_reprojection_gate_but_is_excluded() -> None:
    px = _px("left_elbow")
    elbow = J.index("left_elbow")
    off = _trial(px, plausibility=False)
    # what reprojection QC sees: both views agree within the 20 px gate, yet the elbow is
    # ~300 mm away from the truth
    assert np.linalg.norm(off.points()[K, elbow] - TRUTH[K, elbow]) > 250
    assert np.all(off.reprojection_px[K, elbow] < 20) and off.used[K, elbow].all()
    assert off.excluded == () and off.implausible == {}
    assert off.options["plausibility"] is False

    tri = _trial(px)
    assert [(e.frame, e.joint, e.reason) for e in tri.excluded] == [
        (K, "left_elbow", "implausible_segment_length")
    ]
    rec = tri.excluded[0]
    assert np.allclose(rec.position_mm, off.points()[K, elbow], atol=0.01)
    lengths = {s.segment: s.length_mm / s.reference_mm for s in rec.segments}
    assert set(lengths) == {"left_upper_arm", "left_forearm"}
    assert all(r > 1.3 for r in lengths.values())
    # exactly that point is NaN, with status 2; everything else is unchanged
    assert np.isnan(tri.points()[K, elbow]).all()
    assert np.argwhere(tri.point_status == POINT_IMPLAUSIBLE).tolist() == [[K, elbow]]
    same = np.ones((F, len(J)), bool)
    same[K, elbow] = False
    assert np.array_equal(tri.points()[same], off.points()[same], equal_nan=True)
    assert {s: n for s, n in tri.implausible.items() if n} == {
        "left_upper_arm": 1,
        "left_forearm": 1,
    }
    assert len(tri.implausible) == 8  # every clinical segment was checked
    assert [w for w in tri.warnings if "left_upper_arm" in w and "left_elbow in 1 frame" in w]
    # the CV reflects the kept points; the CV before exclusion is reported too
    before = tri.bone_length_cv_before_exclusion
    assert before == off.bone_length_cv
    assert (before["left_upper_arm"] or 0) > 1.2 * (tri.bone_length_cv["left_upper_arm"] or 1)
    assert tri.bone_length_cv["right_thigh"] == before["right_thigh"]


@pytest.mark.parametrize(
    "joint", ["left_wrist", "left_shoulder", "right_elbow", "left_ankle", "right_knee"]
)
def test_the_displaced_joint_is_the_one_blamed(joint: str) -> None:
    tri = _trial(_px(joint))
    assert [(e.frame, e.joint) for e in tri.excluded] == [(K, joint)]
    assert np.argwhere(tri.point_status == POINT_IMPLAUSIBLE).tolist() == [[K, J.index(joint)]]


@pytest.mark.parametrize("seed", range(5))
def test_an_unperturbed_trial_flags_nothing(seed: int) -> None:
    tri = _trial(_px(seed=seed))
    assert tri.excluded == ()
    assert set(tri.implausible.values()) == {0} and len(tri.implausible) == 8
    assert not np.any(tri.point_status == POINT_IMPLAUSIBLE)
    assert tri.bone_length_cv == tri.bone_length_cv_before_exclusion
    assert all(v is not None and v < 0.06 for v in tri.bone_length_cv.values())


def test_an_end_nothing_vouches_for_is_blamed_and_short_trials_are_not_checked() -> None:
    p = walking_motion(30)
    elbow, wrist, shoulder = (J.index(f"left_{n}") for n in ("elbow", "wrist", "shoulder"))
    p[12, wrist] = np.nan  # the forearm cannot vouch for the elbow...
    p[12, elbow] += (0.0, 0.0, -300.0)
    chk = check_segment_lengths(p, BLAZEPOSE_33)
    # ...but shoulder width and trunk side vouch for the shoulder: the elbow is blamed
    assert sorted(chk.blame) == [(12, elbow)]
    assert chk.counts()["left_upper_arm"] == 1 and chk.counts()["left_forearm"] == 0
    p[12, [J.index("right_shoulder"), J.index("left_hip")]] = np.nan
    chk = check_segment_lengths(p, BLAZEPOSE_33)  # nothing vouches for either end: both go
    assert sorted(chk.blame) == [(12, shoulder), (12, elbow)]
    short = check_segment_lengths(p[:9], BLAZEPOSE_33)  # fewer than 10 frames: no reference
    assert short.counts() == {} and not short.blamed.any()
    with pytest.raises(ValueError, match="tolerance must be positive"):
        check_segment_lengths(p, BLAZEPOSE_33, tolerance=0)


def _per_view_files(tmp_path: Path, px: np.ndarray) -> list[str]:
    paths = []
    for v in range(2):
        vp = view(f"cam{v + 1}.mp4", px[v], (1080, 1920), 60.0)
        res = JobResults(job_id=f"cam{v + 1}", created_at="t", neuropose_version="0", videos=(vp,))
        write_model_atomic(tmp_path / f"cam{v + 1}.results.json", res)
        paths.append(str(tmp_path / f"cam{v + 1}.results.json"))
    return paths


def test_cli_reports_exclusions_and_can_turn_the_check_off(tmp_path: Path, capsys) -> None:
    inputs = _per_view_files(tmp_path, _px("left_wrist"))
    calib = str(write_rig_json(RIG, tmp_path / "rig.json"))
    out = tmp_path / "trial.json"
    assert main(["triangulate", *inputs, "--calibration", calib, "-o", str(out)]) == 0
    cap = capsys.readouterr()
    assert "implausible limb lengths (frames): left_forearm 1; 1 joint position(s) excluded" in (
        cap.out
    )
    assert "before exclusion" in cap.out
    assert "warning: segment left_forearm" in cap.err and "left_wrist in 1 frame" in cap.err
    tri = load_model(out, JobResults).triangulation
    assert tri is not None and [(e.frame, e.joint) for e in tri.excluded] == [(K, "left_wrist")]
    assert tri.options["plausibility"] is True and tri.options["length_tolerance"] == 0.3

    off = tmp_path / "off.json"
    rc = main(["triangulate", str(out), "-o", str(off), "--no-plausibility"])
    cap = capsys.readouterr()
    assert rc == 0 and "limb-length plausibility check: off" in cap.out
    tri = load_model(off, JobResults).triangulation
    assert tri is not None and tri.excluded == () and tri.implausible == {}
    assert tri.options["plausibility"] is False
    assert np.isfinite(tri.points()[K, J.index("left_wrist")]).all()

    loose = tmp_path / "loose.json"
    assert main(["triangulate", str(out), "-o", str(loose), "--length-tolerance", "0.8"]) == 0
    tri = load_model(loose, JobResults).triangulation
    assert tri is not None and tri.options["length_tolerance"] == 0.8  # 437 / 271 mm = +61 %
    assert tri.excluded == () and tri.implausible["left_forearm"] == 0


def test_a_triangulation_written_before_the_check_migrates(tmp_path: Path) -> None:
    inputs = _per_view_files(tmp_path, _px("left_elbow"))
    calib = str(write_rig_json(RIG, tmp_path / "rig.json"))
    out = tmp_path / "trial.json"
    assert main(["triangulate", *inputs, "--calibration", calib, "-o", str(out)]) == 0
    raw = json.loads(out.read_text())
    tri = raw["triangulation"]
    assert tri["schema_version"] == Triangulation.SCHEMA_VERSION == 2
    for key in (
        "schema_version",
        "point_status",
        "excluded",
        "implausible",
        "bone_length_cv_before_exclusion",
    ):
        tri.pop(key)
    for key in ("plausibility", "length_tolerance"):
        tri["options"].pop(key)
    out.write_text(json.dumps(raw))
    old = load_model(out, JobResults).triangulation
    assert old is not None and old.schema_version == 2
    # v1 ran no check: its NaN points were "fewer than two views agree", nothing excluded
    nan = ~np.all(np.isfinite(old.points()), axis=-1)
    assert nan.any() and np.array_equal(old.point_status == POINT_TOO_FEW_VIEWS, nan)
    assert old.excluded == () and old.implausible == {}
    assert old.bone_length_cv_before_exclusion == old.bone_length_cv
    raw["triangulation"]["schema_version"] = 3  # written by a newer NeuroPose
    out.write_text(json.dumps(raw))
    with pytest.raises(FutureSchemaError, match="Triangulation schema version 3"):
        load_model(out, JobResults)
