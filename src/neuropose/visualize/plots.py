"""Joint-angle and confidence plots (PNG and SVG) with segments and events marked.

Figures
-------
``<stem>.angles.png/.svg``
    Clinical joint angles of the subject over time (degrees vs seconds),
    computed by :func:`neuropose.analyzer.angles.compute_angle` (conventions
    in ``docs/analyzer.md``): knee flexion, hip flexion and ankle
    dorsiflexion, left and right, one panel per joint pair. Angles the
    skeleton cannot support are left out.
``<stem>.confidence.png/.svg``
    Per-joint confidence (0..1) of the subject over time, one line per joint,
    plus the subject's detection as a shaded band where it is missing.

Marks
-----
Every segment of every ``VideoPredictions.segmentations`` entry is shown as
a dashed vertical line at its start and a dotted one at its end (alternate
segments lightly shaded) and the segmentation's name appears in the legend.
Gait events (``{name: times in seconds}``, from
:func:`subject_gait_events`) are drawn as markers on the time axis; the
pipeline adds them when asked (``--gait``) or when a stored segmentation
looks like gait (:func:`looks_like_gait`), because the event detector
assumes the subject walks. Time is the container timestamp in seconds. In the SVG, text is
kept as text and the marks carry ids ``segment-start-<name>-<i>``,
``segment-end-<name>-<i>`` and ``event-<name>`` (``<i>`` counts from 0).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuropose.io import write_bytes_atomic
from neuropose.schemas import JobResults, Segmentation
from neuropose.schemas.predictions import VideoPredictions
from neuropose.visualize.sides import GROUP_COLOURS, LEFT_HEX, RIGHT_HEX, limb_groups

#: Default low-pass cut-off of the drawn joint angles, Hz (gait kinematics convention).
ANGLE_FILTER_HZ = 6.0
_SIDE_HEX = {"left": LEFT_HEX, "right": RIGHT_HEX}

if TYPE_CHECKING:
    from neuropose.analyzer.reliability import AngleReliability

__all__ = [
    "DEFAULT_ANGLES",
    "looks_like_gait",
    "plot_angles",
    "plot_confidence",
    "plot_triangulated_angles",
    "subject_angles",
    "subject_gait_events",
    "subject_reliability",
]

#: Angle names plotted by default, grouped per panel.
DEFAULT_ANGLES: tuple[tuple[str, str], ...] = (
    ("left_knee_flexion", "right_knee_flexion"),
    ("left_hip_flexion", "right_hip_flexion"),
    ("left_ankle_dorsiflexion", "right_ankle_dorsiflexion"),
)


def subject_angles(
    vp: VideoPredictions, names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Clinical angles (degrees, shape (F,)) of the subject, by name.

    Angles the skeleton cannot support, or a video without a subject, are
    omitted (an empty dict when none can be computed).
    """
    from neuropose.analyzer.angles import compute_angle
    from neuropose.analyzer.load import load_trial
    from neuropose.errors import InputError

    wanted = list(names) if names is not None else [n for pair in DEFAULT_ANGLES for n in pair]
    try:
        trial = load_trial(vp)
    except InputError:
        return {}
    out: dict[str, np.ndarray] = {}
    for name in wanted:
        try:
            out[name] = np.asarray(compute_angle(trial, name), dtype=np.float64)
        except InputError:
            continue
    return out


def looks_like_gait(vp: VideoPredictions) -> bool:
    """True when a stored segmentation's name or method mentions gait, stride or step."""
    words = ("gait", "stride", "step", "heel")
    return any(
        any(w in f"{name} {seg.method}".lower() for w in words)
        for name, seg in vp.segmentations.items()
    )


def subject_gait_events(vp: VideoPredictions) -> dict[str, list[float]]:
    """Heel strikes and toe offs of the subject, in seconds, by ``"<side> <event>"``.

    Uses :func:`neuropose.analyzer.gait.detect_gait_events` (Zeni et al.,
    2008), which assumes the subject is walking; returns an empty dict when
    the skeleton lacks heels/toes or there is no subject.
    """
    from neuropose.analyzer.gait import detect_gait_events
    from neuropose.analyzer.load import load_trial
    from neuropose.errors import InputError

    try:
        events = detect_gait_events(load_trial(vp))
    except (InputError, ValueError):
        return {}
    t = events.timestamps
    out: dict[str, list[float]] = {}
    for side in ("left", "right"):
        out[f"{side} heel strike"] = [float(t[f]) for f in events.heel_strikes[side]]
        out[f"{side} toe off"] = [float(t[f]) for f in events.toe_offs[side]]
    return out


def _figure(
    n_panels: int, height_per: float = 2.2, width: float = 10.0
) -> tuple[Any, Any, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, 0.8 + height_per * n_panels), dpi=100, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    axes = [fig.add_subplot(n_panels, 1, i + 1) for i in range(n_panels)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    return fig, canvas, axes


def _mark(
    ax: Any,
    segmentations: Mapping[str, Segmentation],
    events: Mapping[str, Sequence[float]] | None,
    legend: bool,
) -> None:
    colours = ["tab:purple", "tab:brown", "tab:olive", "tab:cyan"]
    for k, (name, seg) in enumerate(sorted(segmentations.items())):
        col = colours[k % len(colours)]
        for i, s in enumerate(seg.segments):
            label = f"segment start ({name})" if legend and i == 0 else None
            ax.axvline(s.start_s, color=col, ls="--", lw=1.0, label=label,
                       gid=f"segment-start-{name}-{i}")  # fmt: skip
            ax.axvline(s.end_s, color=col, ls=":", lw=1.0, gid=f"segment-end-{name}-{i}")
            if i % 2 == 0:
                ax.axvspan(s.start_s, s.end_s, color=col, alpha=0.07, lw=0)
    if events:
        markers = ["v", "^", "s", "D"]
        for k, (name, times) in enumerate(sorted(events.items())):
            t = np.asarray(times, dtype=np.float64)
            if t.size == 0:
                continue
            ax.plot(
                t,
                np.zeros_like(t),
                markers[k % len(markers)],
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                ms=7,
                label=name if legend else None,
                gid=f"event-{name}",
            )


def _save(fig: Any, canvas: Any, stem_path: Path) -> list[Path]:
    written = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        if ext == "png":
            canvas.print_png(buf)
        else:
            from matplotlib import rc_context

            # Keep text as text so labels stay searchable and editable in the SVG.
            with rc_context({"svg.fonttype": "none", "svg.hashsalt": "neuropose"}):
                fig.savefig(buf, format="svg")
        target = stem_path.with_name(f"{stem_path.name}.{ext}")
        write_bytes_atomic(target, buf.getvalue())
        written.append(target)
    return written


def subject_reliability(
    vp: VideoPredictions, angles: Mapping[str, np.ndarray]
) -> dict[str, AngleReliability]:
    """Reliability verdict and per-frame flags of each of ``angles`` (one camera's subject).

    ``angles`` are the unfiltered angles (deg, (F,)) of the primary subject, as
    :func:`subject_angles` returns them; names the skeleton cannot score, or a
    video without a subject, are left out. See
    :func:`neuropose.analyzer.reliability.angle_reliability`.
    """
    from neuropose.analyzer.reliability import (
        angle_reliability,
        evidence_from_predictions,
        supported,
    )

    if vp.primary_track_id is None:
        return {}
    ev = evidence_from_predictions(vp)
    return {
        n: angle_reliability(ev, n, np.asarray(a, dtype=np.float64))
        for n, a in angles.items()
        if supported(vp.skeleton, n)
    }


def plot_angles(
    vp: VideoPredictions,
    out_stem: Path,
    *,
    angles: Mapping[str, np.ndarray] | None = None,
    events: Mapping[str, Sequence[float]] | None = None,
    frames: tuple[int, int | None] | None = None,
    filter_hz: float | None = ANGLE_FILTER_HZ,
    reliability: Mapping[str, AngleReliability] | None = None,
    bands: bool = True,
) -> list[Path]:
    """Write ``<out_stem>.png`` and ``<out_stem>.svg`` with the subject's joint angles.

    Each angle is drawn low-pass filtered (zero-phase Butterworth, order 4,
    ``filter_hz``, or 0.4 × the measured frame rate when that is lower; see
    :func:`neuropose.analyzer.filtering.butterworth`: each run of detected
    frames on its own, NaN kept) with the raw angle faint behind it, left in
    blue and right in orange (:mod:`neuropose.visualize.sides`).

    One camera's angles carry their reliability
    (:mod:`neuropose.analyzer.reliability`): the expected-error band
    (± :data:`~neuropose.analyzer.reliability.ERROR_BANDS_DEG`, shaded around
    the drawn line, SVG id ``band-<angle>``), flagged frames as black crosses
    on the raw angle (``flagged-<angle>``), and an angle whose verdict is
    ``unreliable`` drawn grey and dashed, without band, labelled "not reliable
    from one view" with the reason (``unreliable-<angle>``). Poses the
    estimator marked implausible are left out of the filtered line (and
    flagged). The legend says what the band is and where it was measured.

    Parameters
    ----------
    vp : VideoPredictions
        Predictions (timestamps, segmentations, subject).
    out_stem : Path
        Output path without extension, e.g. ``dir/cam01.angles``.
    angles : mapping, optional
        Name -> degrees per frame (F,); computed with :func:`subject_angles`
        when omitted. Names sharing a suffix after ``left_``/``right_`` share
        a panel.
    events : mapping, optional
        Event name -> times (s) to mark, e.g. gait heel strikes.
    frames : (start, stop), optional
        Decode-index range to plot.
    filter_hz : float or None
        Cut-off of the drawn filtered line, Hz; ``None`` draws the raw angles only.
    reliability : mapping, optional
        Name -> :class:`~neuropose.analyzer.reliability.AngleReliability`;
        computed with :func:`subject_reliability` when omitted and ``bands``.
    bands : bool
        Draw reliability (bands, flags, greyed angles); False draws the angles only.

    Returns
    -------
    list of Path
        The PNG and SVG written.

    Raises
    ------
    InputError
        No angle can be computed (no subject, or the skeleton lacks the joints).
    """
    from neuropose.errors import InputError

    data = dict(angles) if angles is not None else subject_angles(vp)
    if not data:
        raise InputError(
            f"{vp.video}: no joint angle can be computed (no subject detected, or skeleton "
            f"{vp.skeleton.name!r} lacks hip/knee/ankle joints)"
        )
    rel: Mapping[str, AngleReliability] = {}
    if bands:
        rel = reliability if reliability is not None else subject_reliability(vp, data)
    sel = _selection(vp, frames)
    title = f"{vp.video}: joint angles of subject (track {vp.primary_track_id}), one camera"
    panel = _AnglePanel(vp.timestamp_s[sel], filter_hz, vp.segmentations, events)
    return panel.draw(
        {n: np.asarray(a, dtype=np.float64)[sel] for n, a in data.items()},
        {n: _sliced(r, sel) for n, r in rel.items()},
        title,
        out_stem,
    )


def plot_triangulated_angles(
    results: JobResults,
    out_stem: Path,
    *,
    events: Mapping[str, Sequence[float]] | None = None,
    frames: tuple[int, int | None] | None = None,
    filter_hz: float | None = ANGLE_FILTER_HZ,
) -> list[Path]:
    """Write ``<out_stem>.png/.svg``: joint angles of a multi-camera trial's triangulated subject.

    The same panels, filter and colours as :func:`plot_angles`, from the
    world-frame 3D (mm, the calibration's up axis). No monocular error band
    or flag is drawn: the title says the angles are triangulated and from
    which cameras (the monocular validation does not apply to them).

    Raises
    ------
    InputError
        The results hold no triangulation, or no angle can be computed.
    """
    from neuropose.analyzer.angles import compute_angle, estimate_up_axis
    from neuropose.analyzer.load import TRIANGULATED, load_trial
    from neuropose.errors import InputError

    trial = load_trial(results, video=TRIANGULATED)
    assert results.triangulation is not None  # load_trial refused otherwise
    up = estimate_up_axis(trial)
    data: dict[str, np.ndarray] = {}
    for name in (n for pair in DEFAULT_ANGLES for n in pair):
        try:
            data[name] = np.asarray(compute_angle(trial, name, up=up), dtype=np.float64)
        except InputError:
            continue
    if not data:
        raise InputError(f"{trial.source}: no joint angle can be computed from the triangulation")
    fi = trial.frame_index
    sel = np.ones(fi.shape[0], bool)
    if frames is not None:
        stop = frames[1] if frames[1] is not None else np.iinfo(np.int64).max
        sel = (fi >= frames[0]) & (fi < stop)
    cams = ", ".join(results.triangulation.camera_names)
    title = (
        f"triangulated from {len(results.triangulation.views)} calibrated views ({cams}), "
        "world frame: no monocular error band"
    )
    panel = _AnglePanel(trial.timestamps[sel], filter_hz, {}, events)
    return panel.draw({n: a[sel] for n, a in data.items()}, {}, title, out_stem)


def _sliced(r: AngleReliability, sel: np.ndarray) -> AngleReliability:
    from dataclasses import replace

    pos = np.nonzero(sel)[0]
    return replace(r, score=r.score[sel], flags=[r.flags[i] for i in pos])


#: Alpha of the shaded expected-error band (the faint raw line uses 0.35).
BAND_ALPHA = 0.18
#: Colour of an angle that cannot be trusted from one view, and of flagged-frame crosses.
UNRELIABLE_HEX, FLAG_HEX = "#8C8C8C", "#000000"


class _AnglePanel:
    """Draws named angles, one panel per angle kind, with their reliability."""

    def __init__(
        self,
        t: np.ndarray,
        filter_hz: float | None,
        segmentations: Mapping[str, Segmentation],
        events: Mapping[str, Sequence[float]] | None,
    ) -> None:
        self.t = t
        self.cutoff = _cutoff(t, filter_hz)
        self.segmentations = segmentations
        self.events = events

    def draw(
        self,
        data: Mapping[str, np.ndarray],
        rel: Mapping[str, AngleReliability],
        title: str,
        out_stem: Path,
    ) -> list[Path]:
        panels: dict[str, list[str]] = {}
        for name in data:
            key = name.removeprefix("left_").removeprefix("right_")
            panels.setdefault(key, []).append(name)
        fig, canvas, axes = _figure(len(panels), width=13.0)
        for k, (ax, (key, names)) in enumerate(zip(axes, panels.items(), strict=True)):
            for i, name in enumerate(names):
                self._line(ax, name, data[name], rel.get(name), f"C{i}")
            _mark(ax, self.segmentations, self.events, legend=True)
            ax.set_ylabel(f"{key.replace('_', ' ')} (deg)")
            ax.grid(alpha=0.3)
            ax.legend(handles=self._legend(ax, [rel[n] for n in names if n in rel]),
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)  # fmt: skip
            if k == len(panels) - 1:
                ax.set_xlabel("time (s)")
        how = (
            f"; lines: low-pass {self.cutoff:.1f} Hz, faint: raw"
            if self.cutoff is not None
            else "; raw"
        )
        fig.suptitle(f"{title}{how}", fontsize=9)
        return _save(fig, canvas, out_stem)

    def _line(
        self, ax: Any, name: str, raw: np.ndarray, r: AngleReliability | None, fb: str
    ) -> None:
        from neuropose.analyzer.filtering import butterworth  # SciPy: only when plotting

        t = self.t
        unreliable = r is not None and r.verdict == "unreliable"
        colour = UNRELIABLE_HEX if unreliable else _SIDE_HEX.get(name.split("_", 1)[0], fb)
        label = name.replace("_", " ") + (f" ({r.label})" if r is not None else "")
        shown = raw.copy()
        if r is not None:
            shown[[("implausible" in f) for f in r.flags]] = np.nan  # never drawn through
        line = shown
        ls = "--" if unreliable else "-"
        if self.cutoff is not None:
            line, _ = butterworth(shown, t, cutoff_hz=self.cutoff)
            ax.plot(t, raw, lw=0.8, color=colour, alpha=0.35, gid=f"raw-{name}")
            ax.plot(t, line, lw=1.6, color=colour, ls=ls, label=label, gid=f"filtered-{name}")
        else:
            ax.plot(t, raw, lw=1.4, color=colour, ls=ls, label=label, gid=f"filtered-{name}")
        if r is None:
            return
        if unreliable and r.detected:
            why = r.reasons[0] if r.reasons else ""
            note = textwrap.shorten(f"{label}: {why}", 110, placeholder="…")
            ax.text(0.01, 0.97 - 0.1 * ("right" in name), note, transform=ax.transAxes,
                    va="top", fontsize=7, color="#404040", gid=f"unreliable-{name}",
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1})  # fmt: skip
            return  # the whole angle is in doubt: per-frame crosses would add nothing
        elif r.expected_error_deg is not None:
            b = r.expected_error_deg
            ax.fill_between(t, line - b, line + b, where=np.isfinite(line), color=colour,
                            alpha=BAND_ALPHA, lw=0, gid=f"band-{name}")  # fmt: skip
        bad = r.flagged_mask() & np.isfinite(raw)
        if bad.any():
            ax.plot(t[bad], raw[bad], ls="none", marker="x", ms=4, mew=1.0, color=FLAG_HEX,
                    gid=f"flagged-{name}")  # fmt: skip

    @staticmethod
    def _legend(ax: Any, rels: list[AngleReliability]) -> list[Any]:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        from neuropose.analyzer.reliability import BAND_SOURCE

        handles = list(ax.get_legend_handles_labels()[0])
        shown = [r for r in rels if r.verdict != "unreliable"]
        bands = sorted({r.expected_error_deg for r in shown if r.expected_error_deg is not None})
        if bands:
            width = "/".join(f"±{b:.1f}°" for b in bands)
            text = "\n".join(textwrap.wrap(f"shaded {width}: {BAND_SOURCE}", 48))
            handles.append(Patch(color="0.5", alpha=0.4, label=text))
        why = sorted({f.replace("_", " ") for r in shown for fl in r.flags for f in fl})
        if why:
            handles.append(Line2D([], [], ls="none", marker="x", color=FLAG_HEX,
                                  label=f"flagged frame ({', '.join(why)})"))  # fmt: skip
        return handles


def _cutoff(t: np.ndarray, filter_hz: float | None) -> float | None:
    """The filter cut-off for timestamps ``t``: ``filter_hz``, at most 0.4 × the frame rate."""
    if filter_hz is None or t.size < 2:
        return None
    steps = np.diff(t)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if steps.size == 0:
        return None
    return min(filter_hz, 0.4 / float(np.median(steps)))


def _selection(vp: VideoPredictions, frames: tuple[int, int | None] | None) -> np.ndarray:
    fi = vp.frame_index
    if frames is None:
        return np.ones(fi.shape[0], dtype=bool)
    stop = frames[1] if frames[1] is not None else np.iinfo(np.int64).max
    return (fi >= frames[0]) & (fi < stop)


def plot_confidence(
    vp: VideoPredictions,
    out_stem: Path,
    *,
    events: Mapping[str, Sequence[float]] | None = None,
    frames: tuple[int, int | None] | None = None,
) -> list[Path]:
    """Write ``<out_stem>.png/.svg``: the subject's joint confidence over time, by limb.

    Joints are grouped by body part (:func:`neuropose.visualize.sides.limb_groups`:
    head, trunk, left/right arm, left/right leg): each group is one line, the
    mean confidence of its joints, over a light band from its least to its
    most confident joint — a handful of lines and legend entries instead of
    one per joint. Left limbs are blues, right limbs oranges (Okabe-Ito).
    When the model gives no confidence, the plot shows the subject's box
    score instead (and says so on the y axis). Frames without the subject are
    shaded grey.

    Returns
    -------
    list of Path
        The PNG and SVG written.
    """
    sel = _selection(vp, frames)
    t = vp.timestamp_s[sel]
    _, rows = vp.track()
    rows = rows[sel]
    present = rows >= 0
    fig, canvas, axes = _figure(1, height_per=4.0)
    ax = axes[0]
    if vp.confidence is not None:
        conf = np.full((rows.size, len(vp.skeleton.joints)), np.nan)
        conf[present] = vp.confidence[rows[present]]
        for group, joints in limb_groups(vp.skeleton):
            colour = GROUP_COLOURS[group]
            part = conf[:, joints]
            with np.errstate(all="ignore"):
                lo, hi, mean = part.min(axis=1), part.max(axis=1), part.mean(axis=1)
            ax.fill_between(t, lo, hi, color=colour, alpha=0.15, lw=0)
            ax.plot(t, mean, lw=1.6, color=colour, label=f"{group} ({len(joints)})")
        ax.set_ylabel("joint confidence (0–1): mean of the group, band min–max")
    else:
        score = np.full(rows.size, np.nan)
        score[present] = vp.boxes[rows[present], 4]
        ax.plot(t, score, lw=1.2, label="box score")
        ax.set_ylabel("detection score (0–1); model gives no joint confidence")
    for s, e in _missing_spans(t, present):
        ax.axvspan(s, e, color="grey", alpha=0.3, lw=0)
    _mark(ax, vp.segmentations, events, legend=True)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.grid(alpha=0.3)
    ax.set_title(f"{vp.video}: joint confidence of subject by limb (grey = subject missing)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return _save(fig, canvas, out_stem)


def _missing_spans(t: np.ndarray, present: np.ndarray) -> list[tuple[float, float]]:
    from neuropose.quality.metrics import missing_ranges

    if t.size == 0:
        return []
    half = float(np.median(np.diff(t))) / 2 if t.size > 1 else 0.5
    return [(float(t[s]) - half, float(t[e]) + half) for s, e in missing_ranges(present)]
