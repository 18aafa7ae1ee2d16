"""Gap filling and filters: frequency response on measured sampling rates, NaN runs."""

from __future__ import annotations

import numpy as np
import pytest

from neuropose.analyzer import (
    acceleration,
    butterworth,
    interpolate_gaps,
    measured_rate,
    one_euro,
    savitzky_golay,
    segment_stats,
    speed,
    summary_stats,
    velocity,
)
from neuropose.errors import InputError


def _gain(fs: float, freq: float, cutoff: float, jitter: float = 0.0) -> float:
    """Amplitude gain of the Butterworth for a sinusoid, measured away from the edges."""
    n = int(20 * fs)
    t = np.arange(n) / fs
    if jitter:
        t = t + np.random.default_rng(0).uniform(-jitter, jitter, n) / fs
    x = np.sin(2 * np.pi * freq * t)
    y, _ = butterworth(x, t, cutoff_hz=cutoff, order=4)
    mid = slice(n // 4, 3 * n // 4)
    return float(np.sqrt(np.mean(y[mid] ** 2)) / np.sqrt(np.mean(x[mid] ** 2)))


@pytest.mark.parametrize("fs", [30.0, 34.0, 60.0])
def test_butterworth_has_unity_dc_gain_and_at_least_20_db_at_ten_times_cutoff(fs: float) -> None:
    t = np.arange(300) / fs
    y, rec = butterworth(np.full(300, 7.5), t, cutoff_hz=1.2, order=4)
    np.testing.assert_allclose(y, 7.5, rtol=1e-9)
    assert rec["result"]["measured_fs_hz"] == pytest.approx(fs)
    cutoff = fs / 25  # 10x cut-off stays below Nyquist
    assert 20 * np.log10(_gain(fs, 10 * cutoff, cutoff)) <= -20.0
    assert _gain(fs, 0.1 * cutoff, cutoff) == pytest.approx(1.0, abs=1e-3)


def test_butterworth_is_designed_for_the_measured_rate_not_a_nominal_one() -> None:
    # Recorded at 34 fps (FreeMoCap's pitfall): the zero-phase response is -6 dB at cut-off.
    g = _gain(34.0, 5.0, 5.0)
    assert 20 * np.log10(g) == pytest.approx(-6.02, abs=0.3)


def test_butterworth_on_variable_timestamps_resamples_and_keeps_low_frequencies() -> None:
    g = _gain(30.0, 0.5, 6.0, jitter=0.3)
    assert g == pytest.approx(1.0, abs=0.01)
    t = np.cumsum(np.r_[0, np.random.default_rng(2).uniform(0.02, 0.05, 299)])
    _, rec = butterworth(np.sin(t), t, cutoff_hz=3.0)
    assert rec["result"]["resampled_runs"] == 1


def test_filters_run_per_contiguous_run_and_keep_nan_and_count_short_runs() -> None:
    t = np.arange(200) / 30.0
    x = np.sin(2 * np.pi * 0.5 * t)
    x[100:103] = np.nan
    x[190:195] = np.nan  # leaves a 5-frame run at the end: too short
    y, rec = butterworth(x, t, cutoff_hz=3.0)
    assert np.isnan(y[100:103]).all() and np.isnan(y[190:195]).all()
    assert rec["result"]["runs_filtered"] == 2
    assert rec["result"]["runs_too_short"] == 1
    np.testing.assert_array_equal(y[195:], x[195:])
    assert rec["params"] == {"cutoff_hz": 3.0, "order": 4, "zero_phase": True, "min_run_frames": 16}


def test_cutoff_above_nyquist_is_rejected_with_the_measured_rate() -> None:
    t = np.arange(50) / 30.0
    with pytest.raises(InputError, match=r"Nyquist frequency 15\.000 Hz"):
        butterworth(np.zeros(50), t, cutoff_hz=20.0)


def test_interpolate_gaps_fills_short_interior_gaps_in_time_and_reports_counts() -> None:
    t = np.array([0.0, 0.1, 0.15, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    x = np.stack([2 * t, -t], axis=1)
    x[[2, 3]] = np.nan  # 2-frame gap: filled, linear in *time*
    x[[5, 6, 7]] = np.nan  # 3-frame gap: too long
    x[0] = np.nan  # leading: never filled
    y, rec = interpolate_gaps(x, t, max_gap=2)
    np.testing.assert_allclose(y[[2, 3]], np.stack([2 * t[[2, 3]], -t[[2, 3]]], 1))
    assert np.isnan(y[[0, 5, 6, 7]]).all()
    assert rec["result"] == {
        "gaps_filled": 1,
        "filled_frames": 2,
        "gaps_unfilled": 2,
        "unfilled_frames": 4,
    }


def test_savitzky_golay_preserves_polynomials_and_one_euro_tracks_a_constant() -> None:
    t = np.arange(100) / 30.0
    q = 3 * t**2 - t + 1
    y, rec = savitzky_golay(q, t, window_s=0.3, polyorder=3)
    np.testing.assert_allclose(y, q, atol=1e-9)
    assert rec["params"]["window_frames"] == 9
    z, _ = one_euro(np.full(100, 4.0), t, min_cutoff_hz=1.0, beta=0.01)
    np.testing.assert_allclose(z, 4.0)


def test_derivatives_use_timestamps_not_frame_numbers() -> None:
    t = np.cumsum(np.r_[0.0, np.random.default_rng(5).uniform(0.01, 0.05, 99)])
    x = 3 * t**2
    v = velocity(x, t)
    np.testing.assert_allclose(v[1:-1], 6 * t[1:-1], rtol=1e-9)
    assert measured_rate(t) == pytest.approx(1 / np.median(np.diff(t)))
    # Uniform circular motion: constant speed r*w, centripetal acceleration r*w^2.
    tt = np.arange(300) / 60.0
    w, r = 2 * np.pi * 0.5, 200.0
    p = np.stack([r * np.cos(w * tt), r * np.sin(w * tt), 0 * tt], axis=1)
    np.testing.assert_allclose(speed(p, tt)[2:-2], r * w, rtol=1e-3)
    acc = np.linalg.norm(acceleration(p, tt), axis=1)
    np.testing.assert_allclose(acc[3:-3], r * w**2, rtol=1e-2)
    x2 = x.copy()
    x2[50] = np.nan
    assert np.isnan(velocity(x2, t)[50]) and np.isfinite(velocity(x2, t)[49])


def test_summary_and_segment_statistics_count_missing_samples() -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    s = summary_stats(x)
    assert (s["n"], s["n_missing"], s["min"], s["max"], s["rom"], s["mean"]) == (4, 1, 1, 5, 4, 3)
    rows = segment_stats(x, [(0, 1), (3, 4)])
    assert [r["mean"] for r in rows] == [1.5, 4.5]
    assert summary_stats(np.full(3, np.nan))["mean"] is None
