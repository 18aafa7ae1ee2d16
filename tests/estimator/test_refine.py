"""Left/right swap correction and smoothing on synthetic tracks with known ground truth.

A walking BlazePose-33 body (frontal, 30 fps) is generated analytically; swaps
are injected by relabelling chosen frames with the skeleton's mirror
permutation, and the test checks that exactly those frames come back.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuropose.estimator.refine import OneEuroParams, RefineOptions, one_euro, refine
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33, H36M_17, lower_body_mask, mirror_permutation

FPS = 30.0


def _body(n: int, skeleton=BLAZEPOSE_33, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, J, 3) mm root-relative and (n, J, 2) px poses: a frontal body swinging its limbs."""
    rng = np.random.default_rng(seed)
    j = len(skeleton.joints)
    perm = mirror_permutation(skeleton)
    base = rng.uniform(-50, 50, (j, 3))
    lower = lower_body_mask(skeleton)
    for i, name in enumerate(skeleton.joints):
        if perm[i] != i:  # left joints at +x, right at -x (frontal view): 300 mm apart
            side = 150.0 if ("left" in name or name.startswith("l")) else -150.0
            base[i, 0] = side
        base[i, 1] = 400.0 if lower[i] else -300.0
    t = np.arange(n) / FPS
    swing = 80 * np.sin(2 * np.pi * 1.0 * t)[:, None] * np.where(lower, 1.0, 0.5)[None]
    p3 = np.repeat(base[None], n, axis=0)
    p3[:, :, 2] += swing
    p3[:, :, 1] += 0.3 * swing
    p2 = 500 + 0.4 * p3[:, :, :2] + np.array([2.0, 0.0]) * np.arange(n)[:, None, None]
    return p3, p2


def _predictions(p3: np.ndarray, p2: np.ndarray, skeleton=BLAZEPOSE_33) -> VideoPredictions:
    n, j = p3.shape[:2]
    vp = VideoPredictions.empty_for_tests(skeleton, n_frames=n)
    box = np.array([300, 200, 400, 600, 0.9], np.float32)
    conf = np.tile(np.linspace(0.5, 1.0, j, dtype=np.float32), (n, 1))
    return VideoPredictions.model_validate(
        {
            **{k: getattr(vp, k) for k in VideoPredictions.model_fields},
            "primary_track_id": 0,
            "det_frame": np.arange(n, dtype=np.int32),
            "track_id": np.zeros(n, np.int32),
            "boxes": np.tile(box, (n, 1)),
            "poses3d": p3.astype(np.float32),
            "poses2d": p2.astype(np.float32),
            "confidence": conf,
        }
    )


def _inject(arr: np.ndarray, frames: list[int], joints: np.ndarray, perm: np.ndarray) -> None:
    for f in frames:
        arr[f, joints] = arr[f, perm[joints]].copy()


SWAP_ONLY = RefineOptions(smoothing=False)


@pytest.mark.parametrize("part", ["upper", "lower", "both"])
def test_injected_swaps_are_found_and_undone(part: str) -> None:
    p3, p2 = _body(90)
    perm = mirror_permutation(BLAZEPOSE_33)
    lower = lower_body_mask(BLAZEPOSE_33)
    bil = perm != np.arange(perm.size)
    joints = {"upper": bil & ~lower, "lower": bil & lower, "both": bil}[part]
    swapped = [10, 11, 12, 40, *range(60, 75)]
    q3, q2 = p3.copy(), p2.copy()
    _inject(q3, swapped, np.nonzero(joints)[0], perm)
    _inject(q2, swapped, np.nonzero(joints)[0], perm)
    vp = _predictions(q3, q2)
    conf_before = vp.confidence.copy()
    out = refine(vp, SWAP_ONLY)

    np.testing.assert_allclose(out.poses3d, p3, atol=1e-3)
    np.testing.assert_allclose(out.poses2d, p2, atol=1e-3)
    # The model's output is kept untouched.
    np.testing.assert_array_equal(out.poses3d_raw, vp.poses3d)
    np.testing.assert_array_equal(out.confidence_raw, conf_before)
    # Confidence follows its joint.
    swapped_conf = conf_before[10].copy()
    swapped_conf[joints] = conf_before[10][perm[joints]]
    np.testing.assert_array_equal(out.confidence[10], conf_before[10][perm] * 0 + swapped_conf)
    # Every correction is recorded, with its frames and reason.
    parts = {"upper", "lower"} if part == "both" else {part}
    got = {
        (c.part, f) for c in out.swap_corrections for f in range(c.first_frame, c.last_frame + 1)
    }
    assert got == {(p, f) for p in parts for f in swapped}
    for c in out.swap_corrections:
        assert c.cost_swapped < c.cost_model and "left/right" in c.reason
    assert sum(c.n_frames for c in out.swap_corrections) == len(swapped) * len(parts)


def test_a_clean_track_is_left_alone() -> None:
    p3, p2 = _body(60)
    out = refine(_predictions(p3, p2), SWAP_ONLY)
    assert out.swap_corrections == ()
    np.testing.assert_allclose(out.poses3d, p3, atol=1e-3)


def test_swaps_in_other_skeletons_are_found() -> None:
    p3, p2 = _body(40, skeleton=H36M_17)
    perm = mirror_permutation(H36M_17)
    q3, q2 = p3.copy(), p2.copy()
    _inject(q3, [20, 21], np.arange(17), perm)
    _inject(q2, [20, 21], np.arange(17), perm)
    out = refine(_predictions(q3, q2, H36M_17), SWAP_ONLY)
    np.testing.assert_allclose(out.poses3d, p3, atol=1e-3)
    assert {(c.part, c.first_frame, c.last_frame) for c in out.swap_corrections} == {
        ("upper", 20, 21),
        ("lower", 20, 21),
    }


def test_swap_correction_can_be_turned_off() -> None:
    p3, p2 = _body(30)
    perm = mirror_permutation(BLAZEPOSE_33)
    _inject(p3, [5], np.arange(33), perm)
    _inject(p2, [5], np.arange(33), perm)
    vp = _predictions(p3, p2)
    out = refine(vp, RefineOptions(swap_correction=False, smoothing=False))
    assert out.swap_corrections == ()
    np.testing.assert_array_equal(out.poses3d, vp.poses3d)
    assert out.provenance.options["refine_swap_correction"] is False
    assert out.provenance.options["refine_smoothing"] == "none"


def test_one_euro_removes_white_noise_and_keeps_slow_motion() -> None:
    # Known spectrum: a 0.5 Hz, 100 mm sine plus white noise of 10 mm s.d. at 30 fps.
    rng = np.random.default_rng(1)
    t = np.arange(300) / FPS
    truth = 100 * np.sin(2 * np.pi * 0.5 * t)
    noisy = truth + rng.normal(0, 10, t.size)
    y = one_euro(noisy * 1e-3, t, OneEuroParams(0.1, 40.0)) * 1e3
    err_before = np.sqrt(np.mean((noisy - truth)[30:] ** 2))
    err_after = np.sqrt(np.mean((y - truth)[30:] ** 2))
    assert err_before == pytest.approx(10, rel=0.15)
    assert err_after < 0.85 * err_before  # measured 0.77: MediaPipe trades noise for lag
    # Frame-to-frame jitter (second difference) drops by about half.
    jit = lambda x: np.median(np.abs(x[1:-1] - (x[:-2] + x[2:]) / 2))  # noqa: E731
    assert jit(y) < 0.6 * jit(noisy)  # measured 0.52


def test_one_euro_passes_nan_and_restarts() -> None:
    t = np.arange(6) / FPS
    x = np.array([1.0, 1.0, np.nan, 5.0, 5.0, 5.0])
    y = one_euro(x, t, OneEuroParams(1.0, 0.0))
    assert np.isnan(y[2]) and y[3] == 5.0 and y[5] == 5.0


def test_smoothing_keeps_raw_and_records_provenance(tmp_path) -> None:
    p3, p2 = _body(60)
    rng = np.random.default_rng(2)
    noisy3 = p3 + rng.normal(0, 10, p3.shape)
    vp = _predictions(noisy3, p2)
    out = refine(vp)
    np.testing.assert_array_equal(out.poses3d_raw, vp.poses3d)
    err_raw = np.median(np.linalg.norm(out.poses3d_raw - p3, axis=2))
    err_smooth = np.median(np.linalg.norm(out.poses3d - p3, axis=2))
    assert err_smooth < 0.8 * err_raw
    opts = out.provenance.options
    assert opts["refine_smoothing"] == "one_euro" and opts["refine_3d_beta"] == 40.0
    # Re-refining starts again from the raw arrays (idempotent).
    assert refine(out) == out
    # Written and read back through the results file.
    path = tmp_path / "r.results.json"
    jr = JobResults(
        job_id="r", created_at="1970-01-01T00:00:00Z", neuropose_version="0", videos=(out,)
    )
    write_model_atomic(path, jr)
    back = load_model(path, JobResults).videos[0]
    assert back == out
    raw = json.loads(path.read_text())["videos"][0]
    assert "poses3d_raw" in raw and raw["swap_corrections"] == []


def test_a_results_file_without_refinement_fields_still_loads(tmp_path) -> None:
    p3, p2 = _body(5)
    vp = _predictions(p3, p2)
    jr = JobResults(
        job_id="old", created_at="1970-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
    )
    data = json.loads(jr.model_dump_json())
    for key in ("poses3d_raw", "poses2d_raw", "confidence_raw", "swap_corrections"):
        data["videos"][0].pop(key)
    path = tmp_path / "old.results.json"
    path.write_text(json.dumps(data))
    back = load_model(path, JobResults).videos[0]
    assert back.poses3d_raw is None and back.swap_corrections == ()
    np.testing.assert_array_equal(back.poses3d, vp.poses3d)


def test_a_raw_array_of_the_wrong_shape_is_refused() -> None:
    p3, p2 = _body(5)
    vp = _predictions(p3, p2)
    with pytest.raises(ValueError, match="poses3d_raw has shape"):
        VideoPredictions.model_validate(
            {**{k: getattr(vp, k) for k in VideoPredictions.model_fields}, "poses3d_raw": p3[:2]}
        )
