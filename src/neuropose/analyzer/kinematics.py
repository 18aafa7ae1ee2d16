"""Derivatives from timestamps and summary statistics.

Derivatives use the real frame times (``numpy.gradient`` with the
timestamp array: second-order central differences on non-uniform spacing,
one-sided at run ends), never the frame index, so variable frame rates and
dropped frames give correct units. NaN samples split the signal: a
derivative is only computed inside contiguous finite runs of at least two
samples; elsewhere it is NaN.

Units: positions in mm give velocity in mm/s and acceleration in mm/s²;
angles in degrees give deg/s and deg/s².
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuropose.analyzer.filtering import _check, _valid_rows
from neuropose.gaps import contiguous_runs

__all__ = ["acceleration", "range_of_motion", "segment_stats", "speed", "summary_stats", "velocity"]


def velocity(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Time derivative of ``x`` (F, …) along axis 0 using timestamps ``t`` (s).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0.0, 0.1, 0.25, 0.3])
    >>> velocity(2 * t, t).round(6).tolist()
    [2.0, 2.0, 2.0, 2.0]
    """
    x, t = _check(x, t)
    out = np.full_like(x, np.nan)
    for a, b in contiguous_runs(_valid_rows(x)):
        if b - a >= 2:
            out[a:b] = np.gradient(x[a:b], t[a:b], axis=0, edge_order=1)
    return out


def speed(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Magnitude of the velocity of points ``x`` (F, …, 3): shape (F, …)."""
    return np.linalg.norm(velocity(x, t), axis=-1)


def acceleration(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Second time derivative of ``x`` along axis 0 (derivative of :func:`velocity`)."""
    return velocity(velocity(x, t), t)


def range_of_motion(x: np.ndarray) -> float:
    """Max − min of the finite values of a 1-D signal (NaN if none)."""
    x = np.asarray(x, dtype=np.float64)
    f = x[np.isfinite(x)]
    return float(f.max() - f.min()) if f.size else float("nan")


def _r(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 6)


def summary_stats(x: np.ndarray) -> dict[str, Any]:
    """Summary of a 1-D signal: n, n_missing, mean, sd (ddof=1), min, max, median, p5, p95, rom.

    Missing (NaN) samples are excluded and counted; statistics of an
    all-missing signal are ``None``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    f = x[np.isfinite(x)]
    out: dict[str, Any] = {"n": int(f.size), "n_missing": int(x.size - f.size)}
    if f.size == 0:
        return {**out, **dict.fromkeys(("mean", "sd", "min", "max", "median", "p5", "p95", "rom"))}
    out.update(
        mean=_r(f.mean()),
        sd=_r(f.std(ddof=1)) if f.size > 1 else None,
        min=_r(f.min()),
        max=_r(f.max()),
        median=_r(np.median(f)),
        p5=_r(np.percentile(f, 5)),
        p95=_r(np.percentile(f, 95)),
        rom=_r(f.max() - f.min()),
    )
    return out


def segment_stats(x: np.ndarray, segments: list[tuple[int, int]] | Any) -> list[dict[str, Any]]:
    """:func:`summary_stats` of ``x`` within each segment (inclusive frame ranges).

    ``segments`` is a sequence of ``(start_frame, end_frame)`` pairs or of
    objects with ``start_frame`` / ``end_frame`` attributes
    (:class:`neuropose.schemas.Segment`).
    """
    x = np.asarray(x, dtype=np.float64)
    out = []
    for k, seg in enumerate(segments):
        a, b = (seg.start_frame, seg.end_frame) if hasattr(seg, "start_frame") else seg
        out.append(
            {
                "segment": k,
                "start_frame": int(a),
                "end_frame": int(b),
                **summary_stats(x[a : b + 1]),
            }
        )
    return out
