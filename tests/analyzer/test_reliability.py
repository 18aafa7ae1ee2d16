"""The reliability ingredients, verdict and analyze output against synthetic ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import (
    SKELETON,
    body_to_camera,
    idx,
    make_results,
    standing_body,
    timestamps,
)

from neuropose.analyzer.angles import compute_angle
from neuropose.analyzer.load import trial_from_arrays
from neuropose.analyzer.reliability import (
    EDGE_ON,
    ERROR_BANDS_DEG,
    Evidence,
    Thresholds,
    angle_reliability,
    ingredient_ratios,
    supported,
)
from neuropose.cli import main

N = 30
TH = Thresholds()


def bent_body(n: int = N, yaw_deg: float = 90.0) -> np.ndarray:
    """Standing body, both knees bent (ankles 200 mm forward), elbows bent (wrists 200 mm
    forward), in camera axes; yaw 90 = seen from the side, yaw 0 = seen from the front."""
    p = standing_body(n)
    for side in ("left", "right"):
        for j in (f"{side}_ankle", f"{side}_heel", f"{side}_toe", f"{side}_wrist"):
            p[:, idx(j), 2] += 200.0
    return body_to_camera(p, yaw_deg=yaw_deg)


def evidence(poses: np.ndarray, **kw) -> Evidence:  # type: ignore[no-untyped-def]
    kw.setdefault("confidence", np.full(poses.shape[:2], 0.97))
    kw.setdefault("plausible", np.ones(poses.shape[0], bool))
    return Evidence(poses, SKELETON, **kw)


def knee(poses: np.ndarray) -> np.ndarray:
    return compute_angle(trial_from_arrays(poses, timestamps(len(poses), 60.0), SKELETON),
                         "left_knee_flexion")  # fmt: skip


def flagged(ev: Evidence, name: str, angle: np.ndarray) -> dict[int, tuple[str, ...]]:
    r = angle_reliability(ev, name, angle)
    return {t: f for t, f in enumerate(r.flags) if f}


def test_a_clean_side_view_has_no_flag() -> None:
    p = bent_body()
    a = knee(p)
    assert np.allclose(a, np.degrees(np.arctan2(200, 450)))  # the synthetic knee: 24.0 deg
    assert flagged(evidence(p), "left_knee_flexion", a) == {}


def test_low_confidence_flags_that_frame_with_the_documented_ratio() -> None:
    p = bent_body()
    conf = np.full(p.shape[:2], 0.97)
    conf[5, idx("left_knee")] = 0.4
    ev = evidence(p, confidence=conf)
    ratios = ingredient_ratios(ev, "left_knee_flexion", knee(p))
    assert ratios["confidence"][5] == pytest.approx(0.6 / (1 - TH.min_confidence))
    assert flagged(ev, "left_knee_flexion", knee(p)) == {5: ("confidence",)}
    assert flagged(ev, "right_knee_flexion", knee(p)) == {}  # another joint's confidence


def test_a_stretched_shank_flags_length_not_the_elbow() -> None:
    p = bent_body()
    shank = p[7, idx("left_ankle")] - p[7, idx("left_knee")]
    p[7, idx("left_ankle")] = p[7, idx("left_knee")] + 1.45 * shank  # +45 %, same direction
    ev = evidence(p)
    ratios = ingredient_ratios(ev, "left_knee_flexion", knee(p))
    assert ratios["length"][7] == pytest.approx(0.45 / TH.max_length_dev, rel=1e-6)
    assert flagged(ev, "left_knee_flexion", knee(p)) == {7: ("length",)}
    assert flagged(ev, "left_elbow_flexion", np.full(N, 24.0)) == {}


def test_a_swap_flags_its_body_part_with_the_margin() -> None:
    p = bent_body()
    lower = np.zeros(N, bool)
    lower[10:12] = True
    ev = evidence(p, swapped={"lower": lower, "upper": np.zeros(N, bool)})
    m = TH.swap_margin
    want = {t: ("swap",) for t in range(10 - m, 12 + m)}
    assert flagged(ev, "left_knee_flexion", knee(p)) == want
    assert flagged(ev, "left_elbow_flexion", np.full(N, 24.0)) == {}


@pytest.mark.parametrize(("freq_hz", "flags"), [(1.0, False), (15.0, True)])
def test_jitter_is_the_second_difference_of_a_known_sine(freq_hz: float, flags: bool) -> None:
    t = np.arange(N) / 60.0
    a = 30 + 10 * np.sin(2 * np.pi * freq_hz * t)
    ratios = ingredient_ratios(evidence(bent_body()), "left_knee_flexion", a)
    peak = 10 * (1 - np.cos(2 * np.pi * freq_hz / 60.0))  # closed form of |a - mean(neighbours)|
    assert np.nanmax(ratios["jitter"]) == pytest.approx(peak / TH.max_jitter_deg, rel=1e-3)
    assert bool(np.nanmax(ratios["jitter"]) >= 1) is flags


def test_knee_seen_from_the_front_is_unreliable_from_the_side_it_is_not() -> None:
    front, side = bent_body(yaw_deg=0.0), bent_body(yaw_deg=90.0)
    r_front = angle_reliability(evidence(front), "left_knee_flexion", knee(front))
    r_side = angle_reliability(evidence(side), "left_knee_flexion", knee(side))
    assert r_front.median_out_of_plane == pytest.approx(1.0) and EDGE_ON <= 1.0
    assert r_front.verdict == "unreliable" and "edge-on" in r_front.reasons[0]
    assert r_side.median_out_of_plane == pytest.approx(0.0, abs=1e-9)
    # from the side only the measured band (> 10 deg) keeps it at "caution"
    assert r_side.verdict == "caution"
    assert r_side.expected_error_deg == ERROR_BANDS_DEG["knee_flexion"]
    # the elbow bends in the same (sagittal) plane: its own vectors give the same answer
    r_elbow = angle_reliability(evidence(front), "left_elbow_flexion", np.full(N, 24.0))
    assert r_elbow.median_out_of_plane == pytest.approx(1.0)


def test_more_than_half_flagged_is_unreliable() -> None:
    p = bent_body()
    conf = np.full(p.shape[:2], 0.97)
    conf[: N // 2 + 1, idx("left_hip")] = 0.3
    r = angle_reliability(evidence(p, confidence=conf), "left_knee_flexion", knee(p))
    assert r.verdict == "unreliable" and r.flagged == N // 2 + 1


def test_supported_needs_every_joint() -> None:
    assert supported(SKELETON, "left_knee_flexion")
    assert not supported(SKELETON, "not_an_angle")


def test_analyze_excludes_implausible_poses_and_writes_verdicts(tmp_path: Path) -> None:
    p = bent_body()
    bad = 12
    p[bad, idx("left_ankle")] = p[bad, idx("left_hip")] + [0.0, 10.0, 0.0]  # knee folded: ~180
    results = make_results(trial_from_arrays(p, timestamps(N, 60.0), SKELETON), video="w.mp4")
    vp = results.videos[0]
    plausible = np.ones(vp.track_id.shape[0], bool)
    plausible[(vp.track_id == 1) & (vp.det_frame == bad)] = False
    results = results.model_copy(
        update={"videos": (vp.model_copy(update={"plausible": plausible}),)}
    )
    path = tmp_path / "results.json"
    path.write_text(results.model_dump_json())
    cfg = tmp_path / "a.toml"
    cfg.write_text('angles = ["left_knee_flexion", "left_elbow_flexion"]\n')
    out = tmp_path / "rep.json"
    assert main(["analyze", str(cfg), "--inputs", str(path), "-o", str(out)]) == 0

    entry = json.loads(out.read_text())["inputs"][0]
    assert entry["implausible_frames"] == 1
    stats = entry["angles"]["left_knee_flexion"]
    assert stats["n"] == N - 1  # the implausible pose is not interpolated back in
    assert stats["max"] == pytest.approx(np.degrees(np.arctan2(200, 450)), abs=1e-4)
    rel = entry["reliability"]["left_knee_flexion"]
    assert rel["flagged"] == [bad - 1, bad, bad + 1]  # implausible + its jitter neighbours
    assert rel["expected_error_deg"] == ERROR_BANDS_DEG["knee_flexion"]
    assert entry["reliability"]["left_elbow_flexion"]["flagged"] == [bad]

    with open(tmp_path / "rep.angle_summary.csv", newline="") as fh:
        rows = {r["angle"]: r for r in csv.DictReader(fh)}
    assert rows["left_knee_flexion"]["verdict"] == "caution"
    assert rows["left_knee_flexion"]["excluded_implausible"] == "1"
    assert rows["left_knee_flexion"]["flagged_frames"] == "3"
    with open(tmp_path / "rep.angles.csv", newline="") as fh:
        frames = [r for r in csv.DictReader(fh) if r["angle"] == "left_knee_flexion"]
    assert frames[bad]["value_deg"] == "" and "implausible" in frames[bad]["flags"].split(";")
    assert frames[0]["flags"] == ""
