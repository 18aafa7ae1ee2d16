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

Spatial parameters
------------------
Stride length, step width and gait speed need positions that are not
root-relative (:func:`progression`); for root-relative data (BlazePose on one
camera) they are ``None`` with the reason: the pelvis is fixed at the origin,
so body translation is not observable. With metric data (a multi-camera
triangulation: world frame, mm, up axis from the calibration; or an absolute
monocular model, whose depth has its own scale error: ``approximate``):

* the **pelvis progression** is the least-squares horizontal velocity of the
  pelvis (mm/s); **gait speed** is its magnitude;
* a **treadmill** is recognised when the pelvis progresses less than
  :data:`TREADMILL_RATIO` × the foot's excursion per stride (the 5th–95th
  percentile range of ``(heel − pelvis) · F``; overground walking progresses
  about twice the excursion per stride). Overground speed is then
  meaningless and not reported; the stride length becomes **belt-relative**:
  ``Δheel · F + v_belt × stride time``, with ``v_belt`` the median backward
  speed of the mid-foot over the middle half of every stance (the foot rides
  the belt), also reported;
* gait speed is reported only when at least one complete stride was found
  (a clip shorter than a stride is not steady walking);
* **stride length** (overground) = horizontal heel displacement between
  consecutive ipsilateral heel strikes;
* **step width** = at each heel strike, the distance between the two heels
  along the horizontal axis perpendicular to the progression (the walking
  direction ``F`` on a treadmill), the other foot being in stance.

Each value is per cycle (``gait_cycles``) and averaged per side and overall
(``gait_parameters``), with ``spatial_status`` (``metric``, ``approximate``,
``treadmill`` or ``not_computed``) and a one-line ``spatial_note``.
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
    "TREADMILL_RATIO",
    "GaitEvents",
    "Progression",
    "detect_gait_events",
    "gait_cycles",
    "gait_parameters",
    "progression",
    "symmetry_index",
    "walking_direction",
]

_SIDES = ("left", "right")
#: Pelvis progression per stride below this fraction of the foot's excursion = treadmill.
TREADMILL_RATIO = 0.3


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


@dataclass(frozen=True)
class Progression:
    """How the body travels over the ground (metric, not root-relative data only).

    Attributes
    ----------
    velocity : ndarray, shape (3,)
        Least-squares horizontal velocity of the pelvis (mm/s, the trial's axes).
    foot_excursion_mm : float
        Median over both feet of the 5th–95th percentile range of ``(heel − pelvis) · F``.
    ratio : float
        ``|velocity| × stride time / foot_excursion_mm`` (mean stride time; 1 s
        when no complete stride was found).
    treadmill : bool
        ``ratio < TREADMILL_RATIO``.
    belt_speed_mm_s : float or None
        Median backward speed of the stance feet (treadmill only).
    forward, lateral : ndarray, shape (3,)
        Unit horizontal direction of travel (the walking direction ``F`` on a
        treadmill) and the perpendicular horizontal axis.
    approximate : bool
        True for monocular absolute data (depth scale error).
    """

    velocity: np.ndarray
    foot_excursion_mm: float
    ratio: float
    treadmill: bool
    belt_speed_mm_s: float | None
    forward: np.ndarray
    lateral: np.ndarray
    approximate: bool

    @property
    def speed_mm_s(self) -> float:
        """Horizontal pelvis speed (mm/s)."""
        return float(np.linalg.norm(self.velocity))

    def record(self) -> dict[str, Any]:
        """JSON-ready values for the report."""
        return {
            "pelvis_speed_mm_s": _round(self.speed_mm_s),
            "foot_excursion_mm": _round(self.foot_excursion_mm),
            "progression_ratio": _round(self.ratio),
            "treadmill_ratio_threshold": TREADMILL_RATIO,
            "treadmill": self.treadmill,
            "belt_speed_mm_s": _round(self.belt_speed_mm_s),
        }


def _round(v: float | None, nd: int = 3) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def _stances(events: GaitEvents, side: str) -> list[tuple[int, int]]:
    """(heel strike, next ipsilateral toe off) frame pairs of one side."""
    hs, to = events.heel_strikes[side], events.toe_offs[side]
    out = []
    for k, a in enumerate(hs):
        end = hs[k + 1] if k + 1 < len(hs) else np.iinfo(np.int64).max
        b = _first_between(to, int(a), int(end))
        if b is not None:
            out.append((int(a), b))
    return out


def _mean_stride_time(events: GaitEvents) -> float | None:
    t = events.timestamps
    d = [float(np.diff(t[h]).mean()) for h in events.heel_strikes.values() if len(h) > 1]
    return float(np.mean(d)) if d else None


def progression(events: GaitEvents, trial: Trial) -> Progression | None:
    """The body's travel over the ground, or None for root-relative data (see module docstring).

    Raises
    ------
    InputError
        No frame has a finite pelvis.
    """
    if trial.root_relative:
        return None
    u, f0 = events.up.vector, events.forward
    t = trial.timestamps
    pelvis = trial.joint("pelvis")
    ok = np.isfinite(pelvis).all(axis=1)
    if ok.sum() < 2:
        raise InputError(f"{trial.source}: fewer than two frames have a pelvis; no progression")
    horiz = pelvis[ok] - np.outer(pelvis[ok] @ u, u)
    tc = t[ok] - t[ok].mean()
    vel = (tc @ (horiz - horiz.mean(axis=0))) / float(tc @ tc)
    exc = []
    for side in _SIDES:
        rel = (trial.joint(f"{side}_heel") - pelvis) @ f0
        rel = rel[np.isfinite(rel)]
        if rel.size:
            exc.append(float(np.percentile(rel, 95) - np.percentile(rel, 5)))
    excursion = float(np.median(exc)) if exc else float("nan")
    stride = _mean_stride_time(events) or 1.0
    ratio = float(np.linalg.norm(vel)) * stride / excursion if excursion > 0 else float("nan")
    treadmill = bool(ratio < TREADMILL_RATIO)
    fwd = f0
    if not treadmill and np.linalg.norm(vel) > 0:
        fwd = vel / np.linalg.norm(vel)
    lateral = np.cross(u, fwd)
    belt = None
    if treadmill:
        speeds = []
        for side in _SIDES:
            mid = (trial.joint(f"{side}_heel") + trial.joint(f"{side}_toe")) / 2 @ f0
            v = np.full(mid.shape, np.nan)
            good = np.isfinite(mid)
            if good.sum() >= 2:
                v[good] = np.gradient(mid[good], t[good])
            for a, b in _stances(events, side):
                q = (b - a) / 4
                speeds += list(-v[round(a + q) : round(b - q) + 1])
        sp = np.asarray(speeds, dtype=np.float64)
        belt = float(np.median(sp[np.isfinite(sp)])) if np.isfinite(sp).any() else None
    approximate = trial.video != TRIANGULATED
    return Progression(vel, excursion, ratio, treadmill, belt, fwd, lateral, approximate)


def gait_cycles(events: GaitEvents, trial: Trial | None = None) -> list[dict[str, Any]]:
    """One row per stride (HS → next ipsilateral HS) with its temporal parameters.

    Times in seconds, percentages of the stride time; ``None`` where an
    event needed for a parameter was not detected within the cycle. With
    metric ``trial`` data, ``stride_length_mm`` (belt-relative on a treadmill)
    and ``step_width_mm`` too (module docstring).
    """
    t = events.timestamps
    prog = progression(events, trial) if trial is not None else None
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
                "step_width_mm": None,
            }
            if trial is not None and prog is not None:
                row.update(_spatial(trial, prog, events.up.vector, side, other, a, b, stride))
            rows.append(row)
    return rows


def _spatial(
    trial: Trial, prog: Progression, u: np.ndarray, side: str, other: str, a: int, b: int,
    stride_s: float,
) -> dict[str, float | None]:  # fmt: skip
    heel = trial.joint(f"{side}_heel")
    d = heel[b] - heel[a]
    if prog.treadmill:
        belt = prog.belt_speed_mm_s
        length = float(d @ prog.forward) + belt * stride_s if belt is not None else float("nan")
    else:
        length = float(np.linalg.norm(d - (d @ u) * u))
    width = abs(float((heel[a] - trial.joint(f"{other}_heel")[a]) @ prog.lateral))
    return {"stride_length_mm": _round(length), "step_width_mm": _round(width)}


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

    Returns a JSON-ready dict; the spatial keys (``stride_length_mm``,
    ``step_width_mm``, ``speed_mm_s``, ``treadmill``, ``progression``,
    ``spatial_status``, ``spatial_note``) follow the module docstring: ``None``
    with the reason for root-relative data, no speed on a treadmill.
    """
    rows = gait_cycles(events, trial)
    keys = (
        "stride_time_s",
        "step_time_s",
        "stance_pct",
        "swing_pct",
        "double_support_pct",
        "stride_length_mm",
        "step_width_mm",
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
    out.update(_spatial_summary(rows, events, trial))
    return out


def _spatial_summary(
    rows: list[dict[str, Any]], events: GaitEvents, trial: Trial | None
) -> dict[str, Any]:
    prog = progression(events, trial) if trial is not None else None
    if prog is None:
        return {
            "stride_length_mm": None,
            "step_width_mm": None,
            "speed_mm_s": None,
            "treadmill": None,
            "progression": None,
            "spatial_status": "not_computed",
            "spatial_note": (
                "not computed: poses are root-relative (pelvis fixed at the origin), so body "
                "translation, stride length, step width and speed are not observable (nor "
                "whether the subject walked on a treadmill); use a multi-camera trial"
            ),
        }

    def mean(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return round(float(np.mean(vals)), 3) if vals else None

    where = (
        "metric, triangulated from calibrated cameras (world frame, calibration up axis)"
        if not prog.approximate
        else "from absolute monocular camera coordinates (depth carries a scale error: approximate)"
    )
    if prog.treadmill:
        status = "treadmill"
        note = (
            f"{where}; treadmill: the pelvis progressed {prog.ratio:.2f} foot excursions per "
            f"stride (< {TREADMILL_RATIO}), so overground speed is meaningless and not "
            "reported; stride length is relative to the belt (belt speed estimated from the "
            "stance feet)"
        )
    else:
        status = "approximate" if prog.approximate else "metric"
        note = where
    if not rows:
        note += (
            "; no complete stride in the recording: no stride length, step width or gait "
            f"speed (the pelvis moved {prog.speed_mm_s:.0f} mm/s horizontally, see progression)"
        )
    return {
        "stride_length_mm": mean("stride_length_mm"),
        "step_width_mm": mean("step_width_mm"),
        "speed_mm_s": None if prog.treadmill or not rows else _round(prog.speed_mm_s),
        "treadmill": prog.treadmill,
        "progression": prog.record(),
        "spatial_status": status,
        "spatial_note": note,
    }
