"""Repetition segmentation of a named 1-D signal (valley to valley).

Signals
-------
A :class:`~neuropose.schemas.analysis.SegmentationSignal` names what to segment:

* ``joint_axis`` — one coordinate of a joint, ``axis`` = ``x``/``y``/``z``
  (camera axes) or ``up`` (projection on the estimated up axis), mm;
* ``distance`` — distance between two joints, mm;
* ``speed`` — speed of a joint from timestamps, mm/s;
* ``angle`` — a named clinical angle (:data:`~neuropose.analyzer.angles.ANGLE_NAMES`)
  or a generic 3-point angle given by ``joints = [a, vertex, c]``, degrees.

Algorithm
---------
1. Missing frames are bridged by linear interpolation in time for detection
   only; optionally the signal is low-passed (zero-phase Butterworth,
   ``smoothing_hz``). With ``polarity="min"`` the signal is negated so that
   repetitions are troughs.
2. Peaks are local maxima with prominence ≥ ``prominence`` (default: 30 % of
   the 5th–95th percentile range); peaks closer than ``min_distance_s``
   seconds **of timestamp** (not frames) to a more prominent one are dropped.
3. Valleys are the minima between consecutive peaks; the leading/trailing
   valleys are the minima before the first / after the last peak. Each
   repetition runs from valley to valley and contains one peak.
4. An edge repetition is **complete** only if its outer valley lies within
   10 % of the typical peak-to-valley amplitude of the median interior valley
   level; otherwise the recording cut it and ``complete`` is False.
5. Quality per segment: ``prominence`` (peak minus the higher bounding
   valley, signal units) and ``duration_ratio`` (duration / median complete
   duration).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.analyzer.angles import UpAxis, angle_3pt, compute_angle, estimate_up_axis
from neuropose.analyzer.filtering import butterworth, measured_rate
from neuropose.analyzer.kinematics import speed
from neuropose.analyzer.load import Trial
from neuropose.errors import InputError
from neuropose.schemas.analysis import SegmentationSignal
from neuropose.schemas.segmentation import Segment, Segmentation
from neuropose.signals import SignalGraph, load_spec
from neuropose.timefmt import utc_iso

__all__ = [
    "RepetitionResult",
    "compute_signal",
    "derived_matrix",
    "derived_signals",
    "segment_repetitions",
    "segment_trial",
]

_AXES = {"x": 0, "y": 1, "z": 2}


def derived_signals(
    trial: Trial, spec_file: str | Path, names: tuple[str, ...]
) -> dict[str, tuple[np.ndarray, str]]:
    """Nodes ``names`` of a derived-signal spec computed on ``trial``: name → (values, unit).

    The graph runs offline on the whole trial (:meth:`SignalGraph.run`,
    missing detections propagated), on the trial as given (after any
    preprocessing the caller did). Values have leading dimension F.
    """
    spec = load_spec(spec_file)
    out = SignalGraph(spec, trial.skeleton).run(trial.timestamps, trial.poses)
    units = spec.units()
    return {n: (out[n], units[n]) for n in names}


def derived_matrix(
    trial: Trial, spec_file: str | Path, names: tuple[str, ...]
) -> tuple[np.ndarray, str]:
    """Nodes ``names`` as one (F, k) feature matrix (each node flattened per frame) for DTW,
    and their units (comma-separated, in order of first use)."""
    sig = derived_signals(trial, spec_file, names)
    x = np.concatenate([v.reshape(v.shape[0], -1) for v, _ in sig.values()], axis=1)
    return x, ", ".join(dict.fromkeys(u for _, u in sig.values()))


def compute_signal(
    trial: Trial, spec: SegmentationSignal, *, up: UpAxis | None = None
) -> tuple[np.ndarray, str]:
    """The 1-D signal (F,) named by ``spec`` and its unit."""
    if spec.kind == "signal":
        assert spec.node is not None
        if spec.spec_file is None:
            raise InputError(
                f"signal {spec.node!r} names no signals spec",
                hint="give signals_spec in the config, or signal:NODE:SPEC_FILE",
            )
        x, unit = derived_signals(trial, spec.spec_file, (spec.node,))[spec.node]
        if x.ndim != 1:
            raise InputError(
                f"{spec.spec_file}: node {spec.node!r} gives values of shape "
                f"{list(x.shape[1:])} per frame; a segmentation needs one number per frame",
                hint="segment a scalar node (an angle, a distance, a speed, a joint axis)",
            )
        return x, unit
    if spec.kind == "joint_axis":
        assert spec.joint is not None
        p = trial.joint(spec.joint)
        if spec.axis == "up":
            axis = (up or estimate_up_axis(trial)).vector
            return p @ axis, "mm"
        return p[:, _AXES[spec.axis]], "mm"
    if spec.kind == "distance":
        a, b = spec.joints
        return np.linalg.norm(trial.joint(b) - trial.joint(a), axis=1), "mm"
    if spec.kind == "speed":
        assert spec.joint is not None
        return speed(trial.joint(spec.joint), trial.timestamps), "mm/s"
    # angle
    if spec.angle is not None:
        return compute_angle(trial, spec.angle, up=up), "deg"
    a, v, c = spec.joints
    return angle_3pt(trial.joint(a), trial.joint(v), trial.joint(c)), "deg"


@dataclass(frozen=True)
class RepetitionResult:
    """Repetitions found in a signal.

    Attributes
    ----------
    segments : tuple of Segment
        Valley-to-valley repetitions in time order (incomplete edges flagged).
    peaks : ndarray of int
        Frame of each repetition's extremum.
    record : dict
        Method, parameters and counts (a transform record).
    """

    segments: tuple[Segment, ...]
    peaks: np.ndarray
    record: dict[str, Any]

    @property
    def complete(self) -> tuple[Segment, ...]:
        """Only the complete repetitions."""
        return tuple(s for s in self.segments if s.complete)


def _fill_for_detection(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.sum() < 3:
        raise InputError(
            f"the signal has only {int(ok.sum())} finite samples; cannot segment repetitions"
        )
    return np.interp(t, t[ok], x[ok])


def segment_repetitions(
    x: np.ndarray,
    t: np.ndarray,
    *,
    prominence: float | None = None,
    min_distance_s: float = 0.3,
    smoothing_hz: float | None = None,
    polarity: str = "max",
) -> RepetitionResult:
    """Valley-to-valley repetition segmentation of signal ``x`` at times ``t``.

    Parameters
    ----------
    x : ndarray, shape (F,)
        Signal (NaN where missing).
    t : ndarray, shape (F,)
        Timestamps, seconds (strictly increasing; may be irregular).
    prominence : float, optional
        Minimum peak prominence in signal units.
    min_distance_s : float
        Minimum time between repetition peaks, seconds.
    smoothing_hz : float, optional
        Zero-phase low-pass cut-off applied before detection.
    polarity : {"max", "min"}
        Whether a repetition is a peak or a trough of the signal.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 5, 1 / 30)
    >>> x = -np.cos(2 * np.pi * t)
    >>> r = segment_repetitions(x, t)
    >>> len(r.segments), all(s.complete for s in r.segments)
    (5, True)
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if x.shape != t.shape:
        raise InputError(f"signal has shape {x.shape} but timestamps have {t.shape}")
    if polarity not in {"max", "min"}:
        raise InputError(f"polarity must be 'max' or 'min', got {polarity!r}")
    s = _fill_for_detection(x, t)
    smoothing_record = None
    if smoothing_hz is not None:
        s, smoothing_record = butterworth(s, t, cutoff_hz=smoothing_hz, order=2)
    if polarity == "min":
        s = -s
    spread = float(np.percentile(s, 95) - np.percentile(s, 5))
    prom = prominence if prominence is not None else 0.3 * spread
    if prom <= 0:
        prom = np.finfo(float).eps
    from scipy import signal as sps  # 1-2 s to import: only when used

    peaks, props = sps.find_peaks(s, prominence=prom)
    # Minimum spacing in seconds of timestamp: keep the most prominent peaks first.
    order = np.argsort(-props["prominences"], kind="stable")
    kept: list[int] = []
    for k in order:
        p = int(peaks[k])
        if all(abs(t[p] - t[q]) >= min_distance_s for q in kept):
            kept.append(p)
    pk = np.array(sorted(kept), dtype=np.int64)
    segments: list[Segment] = []
    if pk.size:
        interior = [int(a + np.argmin(s[a : b + 1])) for a, b in itertools.pairwise(pk)]
        lead = int(np.argmin(s[: pk[0] + 1]))
        trail = int(pk[-1] + np.argmin(s[pk[-1] :]))
        valleys = [lead, *interior, trail]
        amp = np.median(s[pk])
        valley_level = float(np.median(s[interior])) if interior else float(min(s[lead], s[trail]))
        tol = 0.1 * max(float(amp - valley_level), 0.0)
        for k, p in enumerate(pk):
            a, b = valleys[k], valleys[k + 1]
            complete = True
            if k == 0 and s[a] > valley_level + tol:
                complete = False
            if k == len(pk) - 1 and s[b] > valley_level + tol:
                complete = False
            if a == p or b == p:
                complete = False
            segments.append(
                Segment(
                    start_frame=a,
                    end_frame=b,
                    start_s=float(t[a]),
                    end_s=float(t[b]),
                    complete=complete,
                    prominence=round(float(s[p] - max(s[a], s[b])), 6),
                    peak_frame=int(p),
                )
            )
        durations = [sg.end_s - sg.start_s for sg in segments if sg.complete]
        med = float(np.median(durations)) if durations else None
        if med:
            segments = [
                sg.model_copy(update={"duration_ratio": round((sg.end_s - sg.start_s) / med, 6)})
                for sg in segments
            ]
    record = {
        "step": "segment_repetitions",
        "params": {
            "method": "valley_to_valley",
            "prominence": prom,
            "prominence_default": prominence is None,
            "min_distance_s": min_distance_s,
            "smoothing_hz": smoothing_hz,
            "polarity": polarity,
        },
        "result": {
            "measured_fs_hz": round(measured_rate(t), 6),
            "repetitions": len(segments),
            "complete": sum(sg.complete for sg in segments),
            "missing_frames_bridged": int((~np.isfinite(x)).sum()),
            "smoothing": smoothing_record,
        },
    }
    return RepetitionResult(tuple(segments), pk, record)


def segment_trial(
    trial: Trial,
    spec: SegmentationSignal,
    *,
    prominence: float | None = None,
    min_distance_s: float = 0.3,
    smoothing_hz: float | None = None,
    polarity: str = "max",
    version: str = "",
) -> Segmentation:
    """Segment a trial's named signal into a storable :class:`Segmentation`."""
    from neuropose import __version__

    x, unit = compute_signal(trial, spec)
    res = segment_repetitions(
        x,
        trial.timestamps,
        prominence=prominence,
        min_distance_s=min_distance_s,
        smoothing_hz=smoothing_hz,
        polarity=polarity,
    )
    # Segments refer to positions in the frame arrays of the results file.
    return Segmentation(
        method="valley_to_valley",
        signal={**spec.model_dump(mode="json"), "unit": unit},
        parameters={**res.record["params"], "track_id": trial.track_id},
        segments=res.segments,
        created_at=utc_iso(),
        neuropose_version=version or __version__,
    )
