"""Exact DTW against a brute-force O(NM) reference; alignment, NaN policies, engines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuropose.analyzer import (
    DTWInputError,
    dtw,
    dtw_all,
    dtw_per_joint,
    dtw_relation,
    exact_dtw,
    fast_dtw,
)
from neuropose.analyzer.dtw import path_cost


def brute_dtw(x: np.ndarray, y: np.ndarray, radius: float | None = None) -> float:
    """Textbook DTW with an explicit cell mask (independent of the engine's band code)."""
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    n, m = len(x), len(y)
    d = np.full((n + 1, m + 1), math.inf)
    d[0, 0] = 0.0
    slope = (m - 1) / (n - 1) if n > 1 else 0.0
    r = None if radius is None else max(radius, (slope + 1) / 2)
    for i in range(n):
        for j in range(m):
            if (
                r is not None
                and abs(j - i * slope) > r + 1e-9
                and not (i == 0 and j == 0)
                and not (i == n - 1 and j == m - 1)
            ):
                continue
            c = math.sqrt(float(((x[i] - y[j]) ** 2).sum()))
            d[i + 1, j + 1] = c + min(d[i, j], d[i, j + 1], d[i + 1, j])
    return float(d[n, m])


def _valid_path(p: np.ndarray, n: int, m: int) -> None:
    assert tuple(p[0]) == (0, 0) and tuple(p[-1]) == (n - 1, m - 1)
    steps = np.diff(p, axis=0)
    assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    m=st.integers(1, 40),
    dim=st.sampled_from([1, 3, 12]),
    seed=st.integers(0, 10_000),
    backend=st.sampled_from(["numpy", "numba"]),
)
def test_exact_dtw_equals_brute_force_on_random_unequal_sequences(n, m, dim, seed, backend):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, dim)), rng.normal(size=(m, dim))
    r = exact_dtw(x, y, backend=backend)
    assert r.params["backend"] == backend
    ref = brute_dtw(x, y)
    assert r.distance == pytest.approx(ref, rel=1e-9, abs=1e-9)
    _valid_path(r.path, n, m)
    assert path_cost(x, y, r.path) == pytest.approx(ref, rel=1e-9, abs=1e-9)
    assert r.normalized_distance == pytest.approx(r.distance / len(r.path))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 45),
    m=st.integers(2, 45),
    window=st.integers(0, 6),
    seed=st.integers(0, 10_000),
    backend=st.sampled_from(["numpy", "numba"]),
)
def test_banded_exact_dtw_equals_brute_force_with_the_same_band(n, m, window, seed, backend):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    r = exact_dtw(x, y, window=window, backend=backend)
    assert r.distance == pytest.approx(brute_dtw(x, y, radius=window), rel=1e-9)
    _valid_path(r.path, n, m)
    slope = (m - 1) / (n - 1)
    radius = max(window, (slope + 1) / 2)
    assert np.all(np.abs(r.path[:, 1] - r.path[:, 0] * slope) <= radius + 1e-9)
    assert r.distance >= exact_dtw(x, y).distance - 1e-9


def test_high_dimensional_frames_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(60, 33, 3)), rng.normal(size=(45, 33, 3))
    full, banded = brute_dtw(x, y), brute_dtw(x, y, radius=4.5)
    for backend in ("numpy", "numba"):
        assert exact_dtw(x, y, backend=backend).distance == pytest.approx(full, rel=1e-9)
        assert exact_dtw(x, y, band=0.1, backend=backend).distance == pytest.approx(
            banded, rel=1e-9
        )


def test_time_warped_copy_has_zero_distance_and_fastdtw_is_an_upper_bound() -> None:
    t = np.linspace(0, 1, 80)
    a = np.stack([np.sin(6 * t), np.cos(4 * t)], 1)
    warp = np.sort(np.r_[np.arange(80), np.arange(0, 80, 3)])  # repeats some frames
    b = a[warp]
    r = dtw(a, b)
    assert r.distance == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(120, 6)), rng.normal(size=(90, 6))
    fast = fast_dtw(x, y, radius=1)
    assert fast.distance >= exact_dtw(x, y).distance - 1e-9
    assert fast.engine == "fastdtw"
    assert dtw(x, y, engine="fastdtw").distance == pytest.approx(fast.distance)
    with pytest.raises(DTWInputError, match="fastdtw is constrained by radius"):
        dtw(x, y, engine="fastdtw", band=0.1)


def _rot(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ np.array(
        [[1, 0, 0], [0, c, -s], [0, s, c]]
    )


def _moving_skeleton(n: int) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n)
    base = np.random.default_rng(4).normal(size=(8, 3)) * 200
    out = np.repeat(base[None], n, axis=0)
    out[:, 0] += 150 * np.stack([np.sin(t), np.cos(t), 0 * t], 1)
    out[:, 5] += 100 * np.stack([0 * t, np.sin(2 * t), np.cos(t)], 1)
    return out


def test_procrustes_sequence_alignment_works_for_unequal_lengths() -> None:
    a = _moving_skeleton(100)
    b = _moving_skeleton(137) @ _rot(40).T * 1.3 + np.array([500.0, -20, 3000])
    none = dtw_all(a, b)
    seq = dtw_all(a, b, alignment="procrustes_sequence", scale=True)
    assert seq.normalized_distance < 0.05 * none.normalized_distance
    assert seq.normalized_distance < 5.0  # mm per step: only resampling error remains
    frame = dtw_all(a, b, alignment="procrustes_frame", scale=True)
    assert frame.normalized_distance < 0.01
    assert seq.path[-1].tolist() == [99, 136]


def test_relation_dtw_is_invariant_to_rotation_and_per_joint_gives_one_result_per_joint() -> None:
    a = _moving_skeleton(50)
    b = _moving_skeleton(70)
    pairs = [(0, 1), (0, 5), (2, 5)]
    r = dtw_relation(a, b, pairs)
    moved = dtw_relation(a, b @ _rot(75).T + 40.0, pairs)
    assert moved.distance == pytest.approx(r.distance, rel=1e-9)
    assert dtw_relation(a, a @ _rot(75).T - 9.0, pairs).distance == pytest.approx(0, abs=1e-9)
    assert dtw_all(a, b @ _rot(75).T).distance > 10 * r.distance
    assert moved.params["pairs"] == [[0, 1], [0, 5], [2, 5]]
    per = dtw_per_joint(a, np.repeat(a, 2, axis=0), names=[f"j{k}" for k in range(8)])
    assert list(per) == [f"j{k}" for k in range(8)]
    assert all(v.distance == pytest.approx(0.0, abs=1e-9) for v in per.values())


def test_nan_policies() -> None:
    a = _moving_skeleton(40)
    b = a.copy()
    b[[10, 11, 30]] = np.nan
    with pytest.raises(DTWInputError, match="sequence b has 3 of 40 frames with missing values"):
        dtw_all(a, b)
    dropped = dtw_all(a, b, nan_policy="drop")
    assert dropped.params["dropped_frames_b"] == 3
    assert not np.isin(dropped.path[:, 1], [10, 11, 30]).any()  # original frame numbers
    assert dropped.path[-1].tolist() == [39, 39]
    filled = dtw_all(a, b, nan_policy="interpolate")
    assert filled.params["interpolated_frames_b"] == 3
    assert filled.normalized_distance < 5.0
    with pytest.raises(DTWInputError, match="unknown nan_policy"):
        dtw_all(a, b, nan_policy="ignore")
    with pytest.raises(DTWInputError, match="empty"):
        exact_dtw(np.zeros((0, 3)), a[:, 0])
