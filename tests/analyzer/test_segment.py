"""Repetition segmentation on the synthetic arm: 10 repetitions at the right times."""

from __future__ import annotations

import numpy as np
import pytest
from tests.analyzer.conftest import SKELETON, make_arm

from neuropose.analyzer import compute_angle, compute_signal, segment_repetitions, trial_from_arrays
from neuropose.errors import InputError
from neuropose.schemas.analysis import SegmentationSignal


@pytest.mark.parametrize("jitter", [0.0, 0.45])
def test_ten_repetitions_valley_to_valley_at_the_true_times(jitter: float) -> None:
    trial, _ = make_arm(fs=30.0, cycles=10, freq=1.0, jitter=jitter)
    t = trial.timestamps
    x = compute_angle(trial, "left_elbow_flexion")
    res = segment_repetitions(x, t, min_distance_s=0.5)
    assert len(res.segments) == 10
    assert all(s.complete for s in res.segments)
    one_frame = 1 / 30 + 1e-9
    for k, s in enumerate(res.segments):
        assert abs(s.start_s - k) <= one_frame and abs(s.end_s - (k + 1)) <= one_frame
        assert abs(t[s.peak_frame] - (k + 0.5)) <= one_frame
        assert s.prominence == pytest.approx(90.0, abs=0.5)
        assert s.duration_ratio == pytest.approx(1.0, abs=0.07)
    assert res.record["params"]["min_distance_s"] == 0.5
    assert res.record["result"]["measured_fs_hz"] == pytest.approx(30.0, rel=0.02)


def test_variable_frame_rate_timing_uses_timestamps() -> None:
    # 1 Hz movement sampled at a rate that drifts between 20 and 50 fps.
    dt = 1 / (35 + 15 * np.sin(np.linspace(0, 20, 400)))
    t = np.r_[0.0, np.cumsum(dt)][:400]
    t = t[t <= 7.6]
    x = 75 - 45 * np.cos(2 * np.pi * t)
    res = segment_repetitions(x, t, min_distance_s=0.5)
    complete = res.complete
    assert len(complete) == 7
    for s in complete:
        assert s.end_s - s.start_s == pytest.approx(1.0, abs=2 * float(np.max(dt)))


def test_recording_starting_mid_repetition_flags_the_first_and_last_as_incomplete() -> None:
    trial, _ = make_arm(cycles=5.5, phase_s=0.3)  # starts rising, ends falling
    x = compute_angle(trial, "left_elbow_flexion")
    res = segment_repetitions(x, trial.timestamps, min_distance_s=0.5)
    flags = [s.complete for s in res.segments]
    assert flags[0] is False and flags[-1] is False
    assert all(flags[1:-1]) and len(flags) == 6


def test_min_distance_in_seconds_and_prominence_reject_small_or_close_peaks() -> None:
    t = np.arange(0, 6, 1 / 30)
    x = np.sin(2 * np.pi * t) + 0.2 * np.sin(2 * np.pi * 7 * t)
    assert len(segment_repetitions(x, t, prominence=0.1, min_distance_s=0.01).segments) > 6
    assert len(segment_repetitions(x, t, min_distance_s=0.7).segments) == 6
    with pytest.raises(InputError, match="only 2 finite samples"):
        segment_repetitions(np.r_[1.0, 2.0, np.full(10, np.nan)], np.arange(12) / 30)


def test_signal_kinds_and_missing_frames_are_bridged_for_detection() -> None:
    trial, _ = make_arm(cycles=4)
    poses = trial.poses.copy()
    poses[40:44] = np.nan
    tr = trial_from_arrays(poses, trial.timestamps, SKELETON)
    ang, unit = compute_signal(tr, SegmentationSignal(kind="angle", angle="left_elbow_flexion"))
    assert unit == "deg" and np.isnan(ang[40:44]).all()
    res = segment_repetitions(ang, tr.timestamps, min_distance_s=0.5)
    assert len(res.complete) == 4
    assert res.record["result"]["missing_frames_bridged"] == 4
    three, _ = compute_signal(
        tr, SegmentationSignal(kind="angle", joints=("left_shoulder", "left_elbow", "left_wrist"))
    )
    np.testing.assert_allclose(180 - three, ang, atol=1e-9)
    dist, unit = compute_signal(tr, SegmentationSignal.parse("distance:left_wrist,left_shoulder"))
    assert unit == "mm" and np.nanmax(dist) > np.nanmin(dist)
    spd, unit = compute_signal(tr, SegmentationSignal.parse("speed:left_wrist"))
    assert unit == "mm/s"
    # Forearm 250 mm; flexion rate peaks at 45° · 2π rad/s, so wrist speed peaks at 250·π/4·2π.
    assert np.nanmax(spd) == pytest.approx(250 * np.radians(45) * 2 * np.pi, rel=0.02)
    up, _ = compute_signal(tr, SegmentationSignal.parse("axis:left_wrist:up"))
    # Wrist height above the elbow is -250 cos(flexion): range 250 (cos 30° - cos 120°).
    assert np.nanmax(up) - np.nanmin(up) == pytest.approx(
        250 * (np.cos(np.radians(30)) - np.cos(np.radians(120))), rel=1e-6
    )
    with pytest.raises(ValueError, match="cannot parse signal"):
        SegmentationSignal.parse("elbow")
