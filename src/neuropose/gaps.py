"""Runs of valid frames and linear gap filling in time (analyzer and signals share these).

Time runs along axis 0; NaN (or any non-finite value) marks a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GapFill", "contiguous_runs", "fill_gaps", "valid_runs"]


def valid_runs(valid: np.ndarray) -> list[tuple[bool, int, int]]:
    """Runs of equal values of a boolean (F,) mask, in order.

    Parameters
    ----------
    valid : array_like of bool, shape (F,)
        True where the frame is valid.

    Returns
    -------
    list of (bool, int, int)
        ``(is_valid, start, stop)`` per run; ``start:stop`` is half-open and
        the runs tile ``0:F`` (empty list when F = 0).

    Examples
    --------
    >>> valid_runs(np.array([True, True, False, True]))
    [(True, 0, 2), (False, 2, 3), (True, 3, 4)]
    """
    v = np.asarray(valid, dtype=bool)
    if v.size == 0:
        return []
    edges = np.flatnonzero(np.diff(v.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [v.size]])
    return [(bool(v[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def contiguous_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` index ranges of consecutive True values of ``valid`` (F,).

    Examples
    --------
    >>> contiguous_runs(np.array([False, True, True, False, True]))
    [(1, 3), (4, 5)]
    """
    return [(a, b) for ok, a, b in valid_runs(valid) if ok]


@dataclass(frozen=True)
class GapFill:
    """What :func:`fill_gaps` did, counted per gap and per missing sample.

    A *sample* is a frame with ``whole_frames=True``, one value otherwise.
    Unfilled counts include gaps touching the first or last frame.
    """

    gaps_filled: int
    filled: int
    gaps_unfilled: int
    unfilled: int


def fill_gaps(
    t: np.ndarray,
    x: np.ndarray,
    max_gap: int | None = None,
    *,
    whole_frames: bool = False,
) -> tuple[np.ndarray, GapFill]:
    """Fill interior gaps linearly in time: ``y = y0 + w (y1 - y0)``, ``w = (t - t0) / (t1 - t0)``.

    ``(t0, y0)`` and ``(t1, y1)`` are the valid samples either side of the
    gap, so uneven frame intervals (variable frame rate, dropped frames) are
    interpolated in real time, not in frame index.

    Parameters
    ----------
    t : ndarray, shape (F,)
        Frame times, strictly increasing (any unit; not checked here).
    x : array_like, shape (F, ...)
        Values; non-finite = missing.
    max_gap : int, optional
        Longest gap filled, in frames (>= 0); longer gaps stay NaN.
        Default: every interior gap.
    whole_frames : bool
        When True a frame is missing as soon as any of its values is, and
        all its values are filled together from the same two frames; when
        False each value (column of the flattened frame) has its own gaps.

    Returns
    -------
    y : ndarray of float64, same shape as ``x``
        A copy; gaps touching the first or last frame, and gaps longer than
        ``max_gap``, keep their original (non-finite) values.
    counts : GapFill

    Examples
    --------
    >>> t = np.arange(7.0)
    >>> y, n = fill_gaps(t, np.array([0.0, np.nan, 2, np.nan, np.nan, 5, np.nan]))
    >>> y.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, nan]
    >>> n
    GapFill(gaps_filled=2, filled=3, gaps_unfilled=1, unfilled=1)
    >>> fill_gaps(t, np.array([0.0, np.nan, 2, np.nan, np.nan, 5, 6]), 1)[0].tolist()
    [0.0, 1.0, 2.0, nan, nan, 5.0, 6.0]
    >>> xy = np.array([[0.0, 0], [np.nan, 1], [2, 2]])
    >>> fill_gaps(t[:3], xy, whole_frames=True)[0].tolist()
    [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    """
    y = np.array(x, dtype=np.float64)
    n = y.shape[0]
    flat = y.reshape(n, int(np.prod(y.shape[1:])))
    finite = np.isfinite(flat)
    if whole_frames:
        masks = [(slice(None), np.asarray(finite.all(axis=1)))]
    else:
        masks = [(slice(k, k + 1), finite[:, k]) for k in range(flat.shape[1])]
    counts = {"gaps_filled": 0, "filled": 0, "gaps_unfilled": 0, "unfilled": 0}
    for cols, ok in masks:
        for good, a, b in valid_runs(ok):
            if good:
                continue
            if a == 0 or b == n or (max_gap is not None and b - a > max_gap):
                counts["gaps_unfilled"] += 1
                counts["unfilled"] += b - a
                continue
            w = (t[a:b] - t[a - 1]) / (t[b] - t[a - 1])
            flat[a:b, cols] = flat[a - 1, cols] + w[:, None] * (flat[b, cols] - flat[a - 1, cols])
            counts["gaps_filled"] += 1
            counts["filled"] += b - a
    return y, GapFill(**counts)
