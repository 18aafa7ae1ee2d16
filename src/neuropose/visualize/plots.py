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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.io import write_bytes_atomic
from neuropose.schemas.predictions import VideoPredictions

__all__ = [
    "DEFAULT_ANGLES",
    "looks_like_gait",
    "plot_angles",
    "plot_confidence",
    "subject_angles",
    "subject_gait_events",
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


def _figure(n_panels: int, height_per: float = 2.2) -> tuple[Any, Any, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 0.8 + height_per * n_panels), dpi=100, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    axes = [fig.add_subplot(n_panels, 1, i + 1) for i in range(n_panels)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    return fig, canvas, axes


def _mark(
    ax: Any, vp: VideoPredictions, events: Mapping[str, Sequence[float]] | None, legend: bool
) -> None:
    colours = ["tab:purple", "tab:brown", "tab:olive", "tab:cyan"]
    for k, (name, seg) in enumerate(sorted(vp.segmentations.items())):
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


def plot_angles(
    vp: VideoPredictions,
    out_stem: Path,
    *,
    angles: Mapping[str, np.ndarray] | None = None,
    events: Mapping[str, Sequence[float]] | None = None,
    frames: tuple[int, int | None] | None = None,
) -> list[Path]:
    """Write ``<out_stem>.png`` and ``<out_stem>.svg`` with the subject's joint angles.

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
    panels: dict[str, list[str]] = {}
    for name in data:
        key = name.removeprefix("left_").removeprefix("right_")
        panels.setdefault(key, []).append(name)
    sel = _selection(vp, frames)
    t = vp.timestamp_s[sel]
    fig, canvas, axes = _figure(len(panels))
    for k, (ax, (key, names)) in enumerate(zip(axes, panels.items(), strict=True)):
        for name in names:
            ax.plot(t, np.asarray(data[name])[sel], lw=1.4, label=name.replace("_", " "))
        _mark(ax, vp, events, legend=True)
        ax.set_ylabel(f"{key.replace('_', ' ')} (deg)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=7, ncols=2)
        if k == len(panels) - 1:
            ax.set_xlabel("time (s)")
    axes[0].set_title(f"{vp.video}: joint angles of subject (track {vp.primary_track_id})")
    return _save(fig, canvas, out_stem)


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
    """Write ``<out_stem>.png/.svg``: the subject's per-joint confidence over time.

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
        cmap = _cmap(len(vp.skeleton.joints))
        for j, name in enumerate(vp.skeleton.joints):
            ax.plot(t, conf[:, j], lw=0.9, color=cmap(j), label=name)
        ax.set_ylabel("joint confidence (0–1)")
    else:
        score = np.full(rows.size, np.nan)
        score[present] = vp.boxes[rows[present], 4]
        ax.plot(t, score, lw=1.2, label="box score")
        ax.set_ylabel("detection score (0–1); model gives no joint confidence")
    for s, e in _missing_spans(t, present):
        ax.axvspan(s, e, color="grey", alpha=0.3, lw=0)
    _mark(ax, vp, events, legend=True)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.grid(alpha=0.3)
    ax.set_title(f"{vp.video}: per-joint confidence of subject (grey = subject missing)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6, ncols=2)
    return _save(fig, canvas, out_stem)


def _cmap(n: int) -> Any:
    from matplotlib import colormaps

    return colormaps["turbo"].resampled(max(n, 2))


def _missing_spans(t: np.ndarray, present: np.ndarray) -> list[tuple[float, float]]:
    from neuropose.quality.metrics import missing_ranges

    if t.size == 0:
        return []
    half = float(np.median(np.diff(t))) / 2 if t.size > 1 else 0.5
    return [(float(t[s]) - half, float(t[e]) + half) for s, e in missing_ranges(present)]
