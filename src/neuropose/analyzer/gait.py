"""Gait events (Zeni et al., 2008) and spatiotemporal parameters.

Events
------
The walking direction ``F`` is estimated, not assumed: with ``U`` the
estimated up axis (:func:`~neuropose.analyzer.angles.estimate_up_axis`) and
``L`` the median pelvis left–right axis (left hip − right hip) made
horizontal, ``F = L × U`` is the direction the subject faces. Then, per side,

* **heel strike** (HS) = local maxima of ``(heel − pelvis) · F``
  (the heel is furthest in front of the pelvis),
* **toe off** (TO) = local minima of ``(toe − pelvis) · F``
  (the toe is furthest behind the pelvis),

after bridging gaps and an optional zero-phase low-pass (``smoothing_hz``).
Extrema must have a prominence ≥ ``prominence_fraction`` × the 5th–95th
percentile range of the signal and be at least ``min_event_interval_s``
seconds of timestamp apart. This needs only positions relative to the
pelvis, so it works on root-relative (BlazePose) data and on a treadmill.

Cycles and parameters
---------------------
A gait cycle (stride) runs from one heel strike to the next heel strike of
the same foot. Per cycle: stride time; stance time = first ipsilateral TO
after the HS; swing = stride − stance; step time = HS to the next
contralateral HS; double support = initial (HS → contralateral TO) plus
terminal (contralateral HS → ipsilateral TO), as % of the stride. Cadence
is 120 / mean stride time (steps/min). Symmetry index (Robinson et al.,
1987): ``SI = 100 · |L − R| / ((L + R) / 2)``, 0 = perfect symmetry.

Stride length and speed are reported **only** for absolute (not
root-relative) metric data, as the horizontal heel displacement between
consecutive heel strikes. For root-relative data (BlazePose) they are
``None`` with the reason: the pelvis is fixed at the origin, so body
translation is not observable (and on a treadmill it would need the belt
speed anyway). Monocular absolute depth has its own scale error; treat such
values as approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neuropose.analyzer.angles import UpAxis, estimate_up_axis
from neuropose.analyzer.filtering import butterworth
from neuropose.analyzer.load import TRIANGULATED, Trial
from neuropose.errors import InputError

__all__ = [
    "GaitEvents",
    "detect_gait_events",
    "gait_cycles",
    "gait_parameters",
    "symmetry_index",
    "walking_direction",
]

_SIDES = ("left", "right")


@dataclass(frozen=True)
class GaitEvents:
    """Heel strikes and toe offs per side (frame positions in the trial).

    Attributes
    ----------
    heel_strikes, toe_offs : dict side -> ndarray of int
        Frames of each event, ascending.
    timestamps : ndarray, shape (F,)
        The trial's timestamps (s), to convert frames to times.
    forward : ndarray, shape (3,)
        Estimated walking direction (unit, camera axes).
    up : UpAxis
        The up axis used.
    record : dict
        Transform record (method, parameters, counts).
    """

    heel_strikes: dict[str, np.ndarray]
    toe_offs: dict[str, np.ndarray]
    timestamps: np.ndarray
    forward: np.ndarray
    up: UpAxis
    record: dict[str, Any]

    def table(self) -> list[dict[str, Any]]:
        """Tidy rows: side, event, frame, time_s — in time order."""
        rows = []
        for side in _SIDES:
            for ev, frames in (
                ("heel_strike", self.heel_strikes[side]),
                ("toe_off", self.toe_offs[side]),
            ):
                rows += [
                    {
                        "side": side,
                        "event": ev,
                        "frame": int(f),
                        "time_s": round(float(self.timestamps[f]), 6),
                    }
                    for f in frames
                ]
        return sorted(rows, key=lambda r: (r["time_s"], r["side"]))


def walking_direction(trial: Trial, up: UpAxis) -> np.ndarray:
    """Unit vector the subject faces: (left hip − right hip, made horizontal) × up."""
    lat = trial.joint("left_hip") - trial.joint("right_hip")
    ok = np.isfinite(lat).all(axis=1)
    if not ok.any():
        raise InputError(f"{trial.source}: no frame has both hips; cannot find walking direction")
    lateral = np.median(lat[ok], axis=0)
    u = up.vector
    lateral = lateral - (lateral @ u) * u
    norm = np.linalg.norm(lateral)
    if norm == 0:
        raise InputError(f"{trial.source}: hips are vertically aligned; no walking direction")
    f = np.cross(lateral / norm, u)
    return f / np.linalg.norm(f)


def _extrema(
    x: np.ndarray, t: np.ndarray, fraction: float, min_interval_s: float, smoothing_hz: float | None
) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return np.zeros(0, np.int64)
    s = np.interp(t, t[ok], x[ok])
    if smoothing_hz is not None:
        s, _ = butterworth(s, t, cutoff_hz=smoothing_hz, order=2)
    prom = fraction * float(np.percentile(s, 95) - np.percentile(s, 5))
    from scipy import signal as sps  # 1-2 s to import: only when used

    peaks, props = sps.find_peaks(s, prominence=max(prom, 1e-12))
    order = np.argsort(-props["prominences"], kind="stable")
    kept: list[int] = []
    for k in order:
        p = int(peaks[k])
        if ok[p] and all(abs(t[p] - t[q]) >= min_interval_s for q in kept):
            kept.append(p)
    return np.array(sorted(kept), dtype=np.int64)


def detect_gait_events(
    trial: Trial,
    *,
    up: UpAxis | None = None,
    min_event_interval_s: float = 0.35,
    prominence_fraction: float = 0.2,
    smoothing_hz: float | None = 6.0,
) -> GaitEvents:
    """Heel strikes and toe offs of both feet (see module docstring).

    Events on frames where the subject was not detected are discarded.
    """
    u = up or estimate_up_axis(trial)
    fwd = walking_direction(trial, u)
    pelvis = trial.joint("pelvis")
    t = trial.timestamps
    hs: dict[str, np.ndarray] = {}
    to: dict[str, np.ndarray] = {}
    for side in _SIDES:
        heel = (trial.joint(f"{side}_heel") - pelvis) @ fwd
        toe = (trial.joint(f"{side}_toe") - pelvis) @ fwd
        hs[side] = _extrema(heel, t, prominence_fraction, min_event_interval_s, smoothing_hz)
        to[side] = _extrema(-toe, t, prominence_fraction, min_event_interval_s, smoothing_hz)
    record = {
        "step": "gait_events",
        "params": {
            "method": "zeni2008",
            "min_event_interval_s": min_event_interval_s,
            "prominence_fraction": prominence_fraction,
            "smoothing_hz": smoothing_hz,
        },
        "result": {
            "up_axis": u.record(),
            "walking_direction": [round(float(v), 6) for v in fwd],
            **{f"heel_strikes_{s}": int(hs[s].size) for s in _SIDES},
            **{f"toe_offs_{s}": int(to[s].size) for s in _SIDES},
        },
    }
    return GaitEvents(hs, to, t, fwd, u, record)


def _first_between(events: np.ndarray, a: int, b: int) -> int | None:
    sel = events[(events > a) & (events < b)]
    return int(sel[0]) if sel.size else None


def gait_cycles(events: GaitEvents, trial: Trial | None = None) -> list[dict[str, Any]]:
    """One row per stride (HS → next ipsilateral HS) with its temporal parameters.

    Times in seconds, percentages of the stride time; ``None`` where an
    event needed for a parameter was not detected within the cycle.
    """
    t = events.timestamps
    rows = []
    for side in _SIDES:
        other = "right" if side == "left" else "left"
        hs = events.heel_strikes[side]
        for k in range(len(hs) - 1):
            a, b = int(hs[k]), int(hs[k + 1])
            stride = float(t[b] - t[a])
            to = _first_between(events.toe_offs[side], a, b)
            c_to = _first_between(events.toe_offs[other], a, b)
            c_hs = _first_between(events.heel_strikes[other], a, b)
            stance = float(t[to] - t[a]) if to is not None else None
            ids = float(t[c_to] - t[a]) if c_to is not None and (to is None or c_to < to) else None
            tds = (
                float(t[to] - t[c_hs])
                if to is not None and c_hs is not None and c_hs < to
                else None
            )
            row: dict[str, Any] = {
                "side": side,
                "cycle": k,
                "start_frame": a,
                "end_frame": b,
                "start_s": round(float(t[a]), 6),
                "stride_time_s": round(stride, 6),
                "step_time_s": round(float(t[c_hs] - t[a]), 6) if c_hs is not None else None,
                "stance_time_s": None if stance is None else round(stance, 6),
                "swing_time_s": None if stance is None else round(stride - stance, 6),
                "stance_pct": None if stance is None else round(100 * stance / stride, 4),
                "swing_pct": None if stance is None else round(100 * (stride - stance) / stride, 4),
                "double_support_pct": (
                    round(100 * (ids + tds) / stride, 4)
                    if ids is not None and tds is not None
                    else None
                ),
                "stride_length_mm": None,
            }
            if trial is not None and not trial.root_relative:
                heel = trial.joint(f"{side}_heel")
                u = events.up.vector
                d = heel[b] - heel[a]
                d = d - (d @ u) * u
                length = float(np.linalg.norm(d))
                row["stride_length_mm"] = round(length, 3) if np.isfinite(length) else None
            rows.append(row)
    return rows


def symmetry_index(left: float | None, right: float | None) -> float | None:
    """Robinson symmetry index 100·|L−R| / ((L+R)/2), in %; None if undefined."""
    if left is None or right is None or (left + right) == 0:
        return None
    return round(100 * abs(left - right) / ((left + right) / 2), 4)


def _mean(rows: list[dict[str, Any]], key: str, side: str) -> float | None:
    vals = [r[key] for r in rows if r["side"] == side and r[key] is not None]
    return round(float(np.mean(vals)), 6) if vals else None


def gait_parameters(events: GaitEvents, trial: Trial | None = None) -> dict[str, Any]:
    """Spatiotemporal summary: per-side means, cadence, symmetry indices.

    Returns a JSON-ready dict; ``stride_length_mm`` / ``speed_mm_s`` are
    ``None`` with ``spatial_note`` explaining why for root-relative data.
    """
    rows = gait_cycles(events, trial)
    keys = (
        "stride_time_s",
        "step_time_s",
        "stance_pct",
        "swing_pct",
        "double_support_pct",
        "stride_length_mm",
    )
    per_side = {s: {k: _mean(rows, k, s) for k in keys} for s in _SIDES}
    for s in _SIDES:
        per_side[s]["cycles"] = sum(r["side"] == s for r in rows)
    strides = [r["stride_time_s"] for r in rows]
    cadence = round(120.0 / float(np.mean(strides)), 4) if strides else None
    out: dict[str, Any] = {
        "cycles": len(rows),
        "cadence_steps_per_min": cadence,
        "per_side": per_side,
        "symmetry_index_pct": {
            k: symmetry_index(per_side["left"][k], per_side["right"][k])
            for k in ("stride_time_s", "step_time_s", "stance_pct", "swing_pct")
        },
    }
    metric = trial is not None and not trial.root_relative
    if metric:
        lengths = [r["stride_length_mm"] for r in rows if r["stride_length_mm"] is not None]
        sl = float(np.mean(lengths)) if lengths else None
        st = float(np.mean(strides)) if strides else None
        out["stride_length_mm"] = None if sl is None else round(sl, 3)
        out["speed_mm_s"] = None if sl is None or not st else round(sl / st, 3)
        out["spatial_note"] = (
            "metric, triangulated from calibrated cameras (world frame); on a treadmill "
            "the speed is not the subject's progression"
            if trial is not None and trial.video == TRIANGULATED
            else "from absolute camera coordinates; monocular depth carries scale error"
        )
    else:
        out["stride_length_mm"] = None
        out["speed_mm_s"] = None
        out["spatial_note"] = (
            "not computed: poses are root-relative (pelvis fixed at the origin), so body "
            "translation is not observable; on a treadmill stride length also needs the belt speed"
        )
    return out
