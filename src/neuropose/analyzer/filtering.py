"""Gap interpolation and smoothing filters on real timestamps.

Every function takes values ``x`` of shape (F,) or (F, …) — time on axis 0
— and the frame timestamps ``t`` (F,) in seconds, and returns the new values
plus a **transform record**: a JSON-ready dict ``{"step", "params",
"result"}`` with every parameter and what was done (counts of filled gaps,
runs filtered, the measured sampling rate). Reports keep these records so an
analysis is reproducible from the report alone.

NaN policy
----------
NaN marks a missing value (undetected frame). Filters never invent data
across gaps: :func:`interpolate_gaps` fills only gaps of at most ``max_gap``
frames (interior gaps, never the ends), and the smoothing filters run
separately on each contiguous run of finite samples; NaN stays NaN.

Sampling rate
-------------
The sampling rate is **measured** from the timestamps (1 / median frame
interval), never taken from a nominal fps. When the intervals of a run vary
by more than 1 % of the median (variable frame rate or dropped frames), the
Butterworth and Savitzky–Golay filters resample the run onto a uniform grid
at the measured rate (linear interpolation), filter it, and interpolate back
to the original timestamps; the record says so (``resampled_runs``).

Examples
--------
>>> import numpy as np
>>> t = np.arange(10) / 10
>>> x = np.array([0., 1, np.nan, 3, 4, np.nan, np.nan, np.nan, 8, 9])
>>> y, rec = interpolate_gaps(x, t, max_gap=2)
>>> y.tolist()[:5], rec["result"]["filled_frames"], rec["result"]["unfilled_frames"]
([0.0, 1.0, 2.0, 3.0, 4.0], 1, 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuropose.errors import InputError
from neuropose.gaps import contiguous_runs, fill_gaps

__all__ = [
    "Transform",
    "butterworth",
    "interpolate_gaps",
    "measured_rate",
    "one_euro",
    "savitzky_golay",
]

Transform = dict[str, Any]


def _check(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or x.shape[:1] != t.shape:
        raise InputError(
            f"values have {x.shape[0] if x.ndim else 0} frames but timestamps have {t.shape}"
        )
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise InputError("timestamps must be strictly increasing")
    return x, t


def measured_rate(t: np.ndarray) -> float:
    """Sampling rate in Hz measured as 1 / median frame interval of ``t`` (s)."""
    t = np.asarray(t, dtype=np.float64)
    if t.size < 2:
        raise InputError("at least two timestamps are needed to measure a sampling rate")
    return float(1.0 / np.median(np.diff(t)))


def _valid_rows(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)


def interpolate_gaps(x: np.ndarray, t: np.ndarray, *, max_gap: int) -> tuple[np.ndarray, Transform]:
    """Linearly interpolate (in time) interior gaps of at most ``max_gap`` frames.

    A frame is missing when any of its values is NaN (all components are
    interpolated together). Gaps touching the first or last frame, and gaps
    longer than ``max_gap``, stay NaN. The filling is
    :func:`neuropose.gaps.fill_gaps` with ``whole_frames=True``.

    Returns
    -------
    y : ndarray, same shape as ``x``
    record : dict
        ``result`` holds ``gaps_filled``, ``filled_frames``, ``gaps_unfilled``,
        ``unfilled_frames`` (NaN frames left, including leading/trailing).
    """
    if max_gap < 0:
        raise InputError(f"max_gap must be >= 0, got {max_gap}")
    x, t = _check(x, t)
    y, n = fill_gaps(t, x, max_gap, whole_frames=True)
    rec = {
        "step": "interpolate_gaps",
        "params": {"max_gap_frames": int(max_gap), "method": "linear_in_time"},
        "result": {
            "gaps_filled": n.gaps_filled,
            "filled_frames": n.filled,
            "gaps_unfilled": n.gaps_unfilled,
            "unfilled_frames": n.unfilled,
        },
    }
    return y, rec


def _uniform(t: np.ndarray, fs: float) -> tuple[np.ndarray, bool]:
    dt = np.diff(t)
    med = 1.0 / fs
    if np.all(np.abs(dt - med) <= 0.01 * med):
        return t, False
    n = math.floor((t[-1] - t[0]) * fs + 1e-9) + 1
    return t[0] + np.arange(n) / fs, True


def _run_filter(
    x: np.ndarray,
    t: np.ndarray,
    fs: float,
    min_len: int,
    apply: Any,
) -> tuple[np.ndarray, dict[str, int]]:
    y = x.copy()
    flat_in = x.reshape(x.shape[0], -1)
    flat_out = y.reshape(y.shape[0], -1)
    stats = {"runs_filtered": 0, "runs_too_short": 0, "frames_unfiltered": 0, "resampled_runs": 0}
    for a, b in contiguous_runs(_valid_rows(x)):
        tt = t[a:b]
        grid, resampled = _uniform(tt, fs) if b - a > 1 else (tt, False)
        if len(grid) < min_len:
            stats["runs_too_short"] += 1
            stats["frames_unfiltered"] += b - a
            continue
        seg = flat_in[a:b]
        if resampled:
            seg_u = np.stack([np.interp(grid, tt, seg[:, k]) for k in range(seg.shape[1])], 1)
            out_u = apply(seg_u)
            flat_out[a:b] = np.stack(
                [np.interp(tt, grid, out_u[:, k]) for k in range(seg.shape[1])], 1
            )
            stats["resampled_runs"] += 1
        else:
            flat_out[a:b] = apply(seg)
        stats["runs_filtered"] += 1
    return y, stats


def butterworth(
    x: np.ndarray, t: np.ndarray, *, cutoff_hz: float, order: int = 4
) -> tuple[np.ndarray, Transform]:
    """Zero-phase low-pass Butterworth filter on each contiguous valid run.

    The filter is designed for the sampling rate measured from ``t`` and run
    forwards and backwards (``scipy.signal.sosfiltfilt``), so there is no
    phase lag and the effective magnitude response is the square of the
    designed one: −6 dB at ``cutoff_hz``, unity gain at DC. Runs shorter
    than the filter's padding needs (``3 * (2 * n_sections + 1)`` samples)
    are left unfiltered and counted.

    Parameters
    ----------
    cutoff_hz : float
        −3 dB frequency of the single-pass design, Hz; must be below the
        measured Nyquist frequency.
    order : int
        Order of the single-pass design (the zero-phase result has twice
        the roll-off).
    """
    x, t = _check(x, t)
    fs = measured_rate(t)
    if not 0 < cutoff_hz < fs / 2:
        raise InputError(
            f"butterworth cutoff_hz={cutoff_hz} must be between 0 and the Nyquist "
            f"frequency {fs / 2:.3f} Hz of the measured {fs:.3f} Hz sampling rate"
        )
    if order < 1:
        raise InputError(f"butterworth order must be >= 1, got {order}")
    from scipy import signal as sps  # 1-2 s to import: only when used

    sos = sps.butter(order, cutoff_hz, btype="low", fs=fs, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    y, stats = _run_filter(
        x, t, fs, padlen + 1, lambda s: sps.sosfiltfilt(sos, s, axis=0, padlen=padlen)
    )
    return y, {
        "step": "butterworth",
        "params": {
            "cutoff_hz": cutoff_hz,
            "order": order,
            "zero_phase": True,
            "min_run_frames": padlen + 1,
        },
        "result": {"measured_fs_hz": round(fs, 6), **stats},
    }


def savitzky_golay(
    x: np.ndarray, t: np.ndarray, *, window_s: float, polyorder: int = 3
) -> tuple[np.ndarray, Transform]:
    """Savitzky–Golay smoothing with a window given in seconds, per valid run.

    The window in frames is ``window_s`` × measured rate, rounded to the
    nearest odd integer ≥ ``polyorder + 2``. Runs shorter than the window
    are left unfiltered and counted.
    """
    x, t = _check(x, t)
    fs = measured_rate(t)
    w = round(window_s * fs)
    w = max(w + (1 - w % 2), polyorder + 2 + (polyorder % 2))
    if w % 2 == 0:
        w += 1
    from scipy import signal as sps  # 1-2 s to import: only when used

    y, stats = _run_filter(
        x, t, fs, w, lambda s: sps.savgol_filter(s, w, polyorder, axis=0, mode="interp")
    )
    return y, {
        "step": "savitzky_golay",
        "params": {"window_s": window_s, "window_frames": w, "polyorder": polyorder},
        "result": {"measured_fs_hz": round(fs, 6), **stats},
    }


def one_euro(
    x: np.ndarray,
    t: np.ndarray,
    *,
    min_cutoff_hz: float = 1.0,
    beta: float = 0.0,
    d_cutoff_hz: float = 1.0,
) -> tuple[np.ndarray, Transform]:
    """One-euro filter (Casiez et al., 2012) using the true interval between frames.

    An adaptive first-order low-pass whose cut-off rises with speed:
    ``fc = min_cutoff_hz + beta * |dx/dt|`` (per component). It is causal
    (it lags slightly), suitable for live display; prefer :func:`butterworth`
    for analysis. Each valid run restarts the filter.

    This is the reference (Casiez) variant and deliberately not
    :class:`neuropose.smoothing.OneEuroFilter`, which reproduces MediaPipe's:
    here the speed is taken against the previous *filtered* value (there,
    the previous raw value, times a ``value_scale``), and a frame with any
    NaN component restarts every component (there, each element restarts on
    its own). With ``beta = 0`` both give the same numbers (to rounding);
    with ``beta > 0`` they differ (on a 0.5 Hz, ±100 sine with σ = 5 noise
    at 60 fps, up to 10.6 at ``beta = 0.01``), so reports that record
    ``one_euro`` keep this variant's numbers.
    """
    x, t = _check(x, t)
    if min_cutoff_hz <= 0 or d_cutoff_hz <= 0 or beta < 0:
        raise InputError("one_euro needs min_cutoff_hz > 0, d_cutoff_hz > 0 and beta >= 0")
    y = x.copy()
    flat_in = x.reshape(x.shape[0], -1)
    flat = y.reshape(y.shape[0], -1)

    def alpha(fc: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * fc)
        return 1.0 / (1.0 + tau / dt)

    runs = contiguous_runs(_valid_rows(x))
    for a, b in runs:
        prev = flat_in[a].copy()
        dprev = np.zeros_like(prev)
        for i in range(a + 1, b):
            dt = t[i] - t[i - 1]
            dx = (flat_in[i] - prev) / dt
            dprev = dprev + alpha(d_cutoff_hz, dt) * (dx - dprev)
            fc = min_cutoff_hz + beta * np.abs(dprev)
            prev = prev + alpha(fc, dt) * (flat_in[i] - prev)
            flat[i] = prev
    return y, {
        "step": "one_euro",
        "params": {"min_cutoff_hz": min_cutoff_hz, "beta": beta, "d_cutoff_hz": d_cutoff_hz},
        "result": {"runs_filtered": len(runs)},
    }
