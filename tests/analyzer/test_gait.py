"""Gait events on a synthetic walker with known contact times (Zeni et al. 2008)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.analyzer.conftest import make_walker

from neuropose.analyzer import detect_gait_events, gait_cycles, gait_parameters, symmetry_index


def _nearest(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    return np.array([int(np.argmin(np.abs(t - x))) for x in times])


@pytest.mark.parametrize(
    ("jitter", "tilt", "yaw"), [(0.0, 0.0, 0.0), (0.35, 15.0, 30.0), (0.2, -10.0, 90.0)]
)
def test_heel_strikes_and_toe_offs_within_one_frame(jitter: float, tilt: float, yaw: float) -> None:
    w = make_walker(fs=60.0, jitter=jitter, tilt_deg=tilt, yaw_deg=yaw)
    ev = detect_gait_events(w.trial)
    t = w.trial.timestamps
    assert ev.up.method == "ground_plane"
    for side in ("left", "right"):
        for got, true in (
            (ev.heel_strikes[side], w.hs_times[side]),
            (ev.toe_offs[side], w.to_times[side]),
        ):
            # Events closer than 0.3 s to the recording's ends cannot be confirmed.
            inner = true[(true > t[0] + 0.3) & (true < t[-1] - 0.3)]
            expected = _nearest(t, inner)
            matched = [g for g in got if np.min(np.abs(expected - g)) <= 1]
            assert (
                len(matched)
                == len(expected)
                == len(got[(t[got] > t[0] + 0.3) & (t[got] < t[-1] - 0.3)])
            )
            assert np.max(np.abs(np.sort(matched) - expected)) <= 1


def test_spatiotemporal_parameters_match_the_construction() -> None:
    w = make_walker(fs=60.0, period=1.1, stance=0.62)
    ev = detect_gait_events(w.trial)
    params = gait_parameters(ev, w.trial)
    frame = 1 / 60
    assert params["cadence_steps_per_min"] == pytest.approx(120 / 1.1, rel=0.01)
    for side in ("left", "right"):
        s = params["per_side"][side]
        assert s["stride_time_s"] == pytest.approx(1.1, abs=frame)
        assert s["step_time_s"] == pytest.approx(0.55, abs=frame)
        assert s["stance_pct"] == pytest.approx(62.0, abs=100 * 2 * frame / 1.1)
        assert s["double_support_pct"] == pytest.approx(24.0, abs=100 * 4 * frame / 1.1)
    assert params["symmetry_index_pct"]["stride_time_s"] < 1.0
    assert params["stride_length_mm"] is None and "root-relative" in params["spatial_note"]
    cycles = gait_cycles(ev, w.trial)
    left = [c for c in cycles if c["side"] == "left"]
    assert all(c["end_frame"] > c["start_frame"] for c in left)
    assert [c["cycle"] for c in left] == list(range(len(left)))


def test_stride_length_only_for_absolute_coordinates() -> None:
    w = make_walker(fs=60.0, tilt_deg=0.0, yaw_deg=0.0)
    tr = w.trial
    # Overground walking at 1.2 m/s: pelvis moves forward (towards the camera, -z).
    v = 1200.0
    moved = tr.poses + (v * tr.timestamps)[:, None, None] * np.array([0, 0, -1.0])
    absolute = replace(tr, poses=moved, root_relative=False)
    ev = detect_gait_events(absolute)
    params = gait_parameters(ev, absolute)
    assert params["stride_length_mm"] == pytest.approx(v * 1.1, rel=0.02)
    assert params["speed_mm_s"] == pytest.approx(v, rel=0.02)


def test_symmetry_index() -> None:
    assert symmetry_index(1.0, 1.0) == 0.0
    assert symmetry_index(1.1, 0.9) == pytest.approx(20.0)
    assert symmetry_index(None, 1.0) is None
