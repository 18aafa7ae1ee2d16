"""Stride length, step width and gait speed from metric world-frame walks with known values.

``world_walk`` builds a walker in a z-up world frame (mm) heading ``heading_deg`` from
+x: each foot is planted during stance (overground) or rides a belt backwards at the
walking speed (treadmill, pelvis in place) and swings forward, the heels ``width`` mm
apart laterally. Ground truth: stride length = speed × stride time (belt-relative on
the treadmill), step width = ``width``, speed = ``speed`` (overground only).
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import JOINTS, SKELETON

from neuropose.analyzer import detect_gait_events, gait_cycles, gait_parameters
from neuropose.analyzer.gait import TREADMILL_RATIO
from neuropose.analyzer.load import TRIANGULATED, Trial, trial_from_arrays
from neuropose.cli import main

PERIOD, STANCE, SPEED, WIDTH = 1.1, 0.62, 1200.0, 180.0
STRIDE = SPEED * PERIOD  # 1320 mm


def world_walk(
    *,
    treadmill: bool = False,
    heading_deg: float = 30.0,
    fs: float = 60.0,
    duration: float = 6.0,
    noise_mm: float = 2.0,
) -> Trial:
    n = int(duration * fs)
    t = np.arange(n) / fs
    h = np.radians(heading_deg)
    d, z = np.array([np.cos(h), np.sin(h), 0.0]), np.array([0.0, 0.0, 1.0])
    lat = np.cross(z, d)  # subject's left
    lead = STRIDE * STANCE / 2  # heel ahead of the pelvis at heel strike
    pelvis_along = np.zeros(n) if treadmill else SPEED * t
    p = np.zeros((n, len(JOINTS), 3))

    def put(name: str, along: np.ndarray, side: float, height: np.ndarray | float) -> None:
        p[:, JOINTS.index(name)] = (
            along[:, None] * d + side * lat + np.broadcast_to(height, (n,))[:, None] * z
        )

    for name, side, height in (
        ("pelvis", 0.0, 950.0), ("neck", 0.0, 1450.0), ("head", 0.0, 1600.0),
        ("left_hip", 100.0, 950.0), ("right_hip", -100.0, 950.0),
        ("left_shoulder", 180.0, 1450.0), ("right_shoulder", -180.0, 1450.0),
        ("left_elbow", 190.0, 1150.0), ("right_elbow", -190.0, 1150.0),
        ("left_wrist", 200.0, 900.0), ("right_wrist", -200.0, 900.0),
    ):  # fmt: skip
        put(name, pelvis_along, side, height)
    for sname, sgn, t0 in (("left", 1.0, 0.13), ("right", -1.0, 0.13 + PERIOD / 2)):
        k = np.floor((t - t0) / PERIOD)
        ph = (t - t0) / PERIOD - k
        x_hs = SPEED * (t0 + k * PERIOD) + lead  # overground heel position at this cycle's HS
        q = np.clip((ph - STANCE) / (1 - STANCE), 0.0, 1.0)
        heel = x_hs + STRIDE * (1 - np.cos(np.pi * q)) / 2
        if treadmill:
            heel = heel - SPEED * t
        lift = np.where(ph < STANCE, 0.0, 80 * np.sin(np.pi * q))
        half = sgn * WIDTH / 2
        put(f"{sname}_heel", heel, half, 50 + lift)
        put(f"{sname}_toe", heel + 200, half, 20 + lift)
        put(f"{sname}_ankle", heel + 50, half, 90 + lift)
        put(f"{sname}_knee", (heel + 50 + pelvis_along) / 2 + 60, half, 520 + lift / 2)
    p += np.random.default_rng(1).normal(0.0, noise_mm, p.shape)
    tr = trial_from_arrays(p, t, SKELETON, root_relative=False, source="walk")
    return replace(tr, video=TRIANGULATED, up=z)


@pytest.mark.parametrize("heading", [0.0, 30.0, 200.0])
def test_overground_stride_length_step_width_and_speed(heading: float) -> None:
    tr = world_walk(heading_deg=heading)
    params = gait_parameters(detect_gait_events(tr), tr)
    assert params["spatial_status"] == "metric" and params["treadmill"] is False
    assert params["stride_length_mm"] == pytest.approx(STRIDE, rel=0.02)
    assert params["step_width_mm"] == pytest.approx(WIDTH, abs=5.0)
    assert params["speed_mm_s"] == pytest.approx(SPEED, rel=0.02)
    assert params["progression"]["progression_ratio"] == pytest.approx(1 / STANCE, rel=0.1)
    for side in ("left", "right"):
        assert params["per_side"][side]["stride_length_mm"] == pytest.approx(STRIDE, rel=0.02)
    assert "triangulated" in params["spatial_note"]


def test_a_treadmill_is_flagged_no_speed_and_stride_length_is_belt_relative() -> None:
    tr = world_walk(treadmill=True)
    ev = detect_gait_events(tr)
    params = gait_parameters(ev, tr)
    assert params["spatial_status"] == "treadmill" and params["treadmill"] is True
    assert params["speed_mm_s"] is None
    assert params["progression"]["progression_ratio"] < TREADMILL_RATIO
    assert params["progression"]["belt_speed_mm_s"] == pytest.approx(SPEED, rel=0.03)
    assert params["stride_length_mm"] == pytest.approx(STRIDE, rel=0.03)
    assert params["step_width_mm"] == pytest.approx(WIDTH, abs=5.0)
    assert "overground speed is meaningless" in params["spatial_note"]
    rows = gait_cycles(ev, tr)
    assert rows and all(r["stride_length_mm"] == pytest.approx(STRIDE, rel=0.05) for r in rows)


def test_root_relative_data_refuses_spatial_parameters_with_the_reason() -> None:
    tr = world_walk()
    pelvis = tr.joint("pelvis")
    rel = replace(tr, poses=tr.poses - pelvis[:, None, :], root_relative=True, video="cam.mp4")
    params = gait_parameters(detect_gait_events(rel), rel)
    assert params["spatial_status"] == "not_computed"
    for key in ("stride_length_mm", "step_width_mm", "speed_mm_s", "treadmill"):
        assert params[key] is None
    assert "root-relative" in params["spatial_note"] and "multi-camera" in params["spatial_note"]
    assert params["cadence_steps_per_min"] == pytest.approx(120 / PERIOD, rel=0.02)


def test_monocular_absolute_data_is_approximate() -> None:
    tr = replace(world_walk(), video="cam.mp4")
    params = gait_parameters(detect_gait_events(tr), tr)
    assert params["spatial_status"] == "approximate" and "scale error" in params["spatial_note"]
    assert params["stride_length_mm"] == pytest.approx(STRIDE, rel=0.02)


def test_analyze_reports_spatial_gait_of_a_triangulated_trial(tmp_path: Path) -> None:
    """End to end: 3 virtual cameras, the synthetic walker of neuropose.multiview.synthetic."""
    import tests.multiview.test_trial as tt
    from tests.multiview.test_trial import RIG, _view

    from neuropose.multiview.synthetic import project_views, walking_motion
    from neuropose.multiview.trial import triangulate_trial
    from neuropose.schemas import JobResults

    n, speed, cadence = 300, 1000.0, 0.9
    old = tt.F
    tt.F = n  # _view builds views of tt.F frames
    try:
        px = project_views(walking_motion(n, speed=speed, cadence_hz=cadence), RIG.cameras,
                           noise_px=0.5)  # fmt: skip
        views = tuple(_view(f"cam{i + 1}.mp4", [(0, px[i])], 0) for i in range(3))
    finally:
        tt.F = old
    res = JobResults(job_id="t", created_at="t", neuropose_version="0", videos=views,
                     triangulation=triangulate_trial(views, RIG))  # fmt: skip
    path = tmp_path / "trial.json"
    path.write_text(res.model_dump_json())
    cfg = tmp_path / "g.toml"
    cfg.write_text('video = "triangulated"\nangles = ["left_knee_flexion"]\n[gait]\n')
    out = tmp_path / "rep.json"
    assert main(["analyze", str(cfg), "--inputs", str(path), "-o", str(out)]) == 0
    gait = json.loads(out.read_text())["inputs"][0]["gait"]["parameters"]
    assert gait["spatial_status"] == "metric"
    assert gait["speed_mm_s"] == pytest.approx(speed, rel=0.03)
    assert gait["stride_length_mm"] == pytest.approx(speed / cadence, rel=0.03)
    assert gait["step_width_mm"] == pytest.approx(220.0, abs=10.0)  # heels at y = +-110 mm
    with open(tmp_path / "rep.gait_summary.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["spatial_status"] == "metric" and row["treadmill"] == "False"
    assert float(row["step_width_mm"]) == pytest.approx(220.0, abs=10.0)


def test_a_clip_shorter_than_a_stride_reports_no_gait_speed() -> None:
    tr = world_walk(duration=1.0)
    params = gait_parameters(detect_gait_events(tr), tr)
    assert params["cycles"] == 0 and params["speed_mm_s"] is None
    assert "no complete stride" in params["spatial_note"]
    assert params["progression"]["pelvis_speed_mm_s"] == pytest.approx(SPEED, rel=0.02)
