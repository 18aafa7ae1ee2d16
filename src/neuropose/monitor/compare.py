"""Compare one joint angle across jobs of a study (e.g. pre / post): ``/compare``.

``/compare?angle=<name>&jobs=<a>&jobs=<b>`` draws the angle of each selected
job's videos on one time axis (an inline SVG: no script, nothing fetched);
``/compare.json`` returns the same series. Angles are the analyzer's
(:func:`neuropose.analyzer.angles.compute_angle`, degrees, raw: not
filtered), from each job's ``results.json``; time is each video's own
container time in seconds from its first frame. NaN (no subject) is
``null`` in JSON and a gap in the line.

Examples
--------
>>> s = Series("pre", "cam01.mp4", [0.0, 0.5, 1.0], [10.0, None, 30.0])
>>> svg_lines([s], "left_knee_flexion").count("<polyline")
2
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from neuropose.analyzer.angles import ANGLE_NAMES, compute_angle
from neuropose.analyzer.load import load_trial
from neuropose.errors import NeuroPoseError
from neuropose.monitor.jobfiles import job_files
from neuropose.monitor.paging import lookup
from neuropose.monitor.render import esc, header_html, notices_html, page_html
from neuropose.monitor.snapshot import Snapshot
from neuropose.schemas import JobResults, JobState

__all__ = [
    "ANGLE_NAMES",
    "DEFAULT_ANGLE",
    "MAX_JOBS",
    "Series",
    "compare_data",
    "render_compare_page",
    "svg_lines",
]

#: Angle shown when the URL names none.
DEFAULT_ANGLE = "left_knee_flexion"

#: Most jobs compared at once.
MAX_JOBS = 8
#: Line colours (Okabe-Ito, colour-blind safe), one per series in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
_W, _H, _PAD = 900, 360, 48


@dataclass(frozen=True)
class Series:
    """One video's angle: ``t`` seconds from its first frame, ``deg`` (``None`` = no data)."""

    job: str
    video: str
    t: list[float]
    deg: list[float | None]


@dataclass
class Comparison:
    """The series of the selected jobs and why others have none."""

    angle: str
    jobs: list[str]
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The body of ``/compare.json``."""
        return {
            "angle": self.angle,
            "unit": "deg",
            "jobs": self.jobs,
            "series": [s.__dict__ for s in self.series],
            "errors": self.errors,
        }


def compare_data(
    snap: Snapshot,
    angle: str,
    jobs: Sequence[str],
    load_results: Callable[[Path], JobResults] | None = None,
) -> Comparison:
    """The angle ``angle`` of every video of ``jobs`` (status-file names, at most :data:`MAX_JOBS`).

    Raises
    ------
    KeyError
        ``angle`` is not one of :data:`neuropose.analyzer.angles.ANGLE_NAMES`.
    """
    if angle not in ANGLE_NAMES:
        raise KeyError(angle)
    out = Comparison(angle, list(dict.fromkeys(jobs))[:MAX_JOBS])
    for job in out.jobs:
        try:
            entry = lookup(snap, job) if snap.status is not None else None
        except NeuroPoseError as exc:
            out.errors.append(f"{job}: {exc.message}")
            continue
        if entry is None:
            out.errors.append(f"{job}: no such job in the status file")
            continue
        files = job_files(snap.data_dir, job, entry, load_results)
        if files.results is None:
            out.errors.append(f"{job}: {files.results_error or 'no results yet'}")
            continue
        for vp in files.results.videos:
            try:
                deg = compute_angle(load_trial(vp), angle)
            except NeuroPoseError as exc:
                out.errors.append(f"{job}/{vp.video}: {exc.message}")
                continue
            t0 = float(vp.timestamp_s[0]) if vp.num_frames else 0.0
            out.series.append(
                Series(
                    job,
                    vp.video,
                    [round(float(x) - t0, 4) for x in vp.timestamp_s],
                    [round(float(d), 3) if math.isfinite(d) else None for d in deg],
                )
            )
    return out


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = (hi - lo) / n if hi > lo else 1.0
    mag = 10 ** math.floor(math.log10(step))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= step)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def svg_lines(series: Sequence[Series], angle: str) -> str:
    """An inline SVG plot: one polyline per run of data of each series, axes, legend."""
    ts = [t for s in series for t in s.t]
    ds = [d for s in series for d in s.deg if d is not None]
    t_hi = max(ts, default=1.0) or 1.0
    d_lo, d_hi = (min(ds), max(ds)) if ds else (0.0, 1.0)
    if d_hi - d_lo < 1:
        d_lo, d_hi = d_lo - 1, d_hi + 1

    def x(t: float) -> float:
        return _PAD + (_W - 2 * _PAD) * t / t_hi

    def y(d: float) -> float:
        return _H - _PAD - (_H - 2 * _PAD) * (d - d_lo) / (d_hi - d_lo)

    parts = [
        f'<svg class="compare" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{esc(angle)} per job">',
        f'<rect x="{_PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}" '
        'fill="none" stroke="#999"/>',
    ]
    for tv in _ticks(d_lo, d_hi):
        parts.append(
            f'<text x="{_PAD - 6}" y="{y(tv) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{tv:g}</text>"
        )
    for tv in _ticks(0.0, t_hi):
        parts.append(
            f'<text x="{x(tv):.1f}" y="{_H - _PAD + 16}" text-anchor="middle" font-size="11">'
            f"{tv:g}</text>"
        )
    parts.append(
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle" font-size="12">time (s)</text>'
        f'<text x="14" y="{_H / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {_H / 2})">{esc(angle.replace("_", " "))} (deg)</text>'
    )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        run: list[str] = []
        for t, d in [*zip(s.t, s.deg, strict=True), (0.0, None)]:
            if d is not None:
                run.append(f"{x(t):.1f},{y(d):.1f}")
            elif run:
                parts.append(
                    f'<polyline data-series="{i}" points="{" ".join(run)}" fill="none" '
                    f'stroke="{colour}" stroke-width="1.8"/>'
                )
                run = []
        parts.append(
            f'<text x="{_W - _PAD + 4 - 190}" y="{_PAD + 16 + 16 * i}" font-size="12" '
            f'fill="{colour}">{esc(s.job)} · {esc(s.video)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _url(angle: str, jobs: Sequence[str], tq: str) -> str:
    q = "&".join([f"angle={quote(angle)}", *(f"jobs={quote(j, safe='')}" for j in jobs)])
    extra = f"&{tq[1:]}" if tq else ""
    return f"/compare?{q}{extra}"


def render_compare_page(snap: Snapshot, cmp: Comparison, token_query: str = "") -> str:
    """``GET /compare``: the plot, links to choose the angle and the jobs, the errors."""
    view = snap.summary()
    completed = [p.name for p in snap.jobs if p.entry.state is JobState.COMPLETED]
    current = ' aria-current="page"'
    angle_links = " · ".join(
        f'<a href="{esc(_url(a, cmp.jobs, token_query))}"{current if a == cmp.angle else ""}>'
        + esc(a.replace("_", " "))
        + "</a>"
        for a in ANGLE_NAMES
    )

    def toggle(name: str) -> str:
        chosen = [j for j in cmp.jobs if j != name] if name in cmp.jobs else [*cmp.jobs, name]
        return esc(_url(cmp.angle, chosen, token_query))

    job_items = "".join(
        f'<li><a href="{toggle(name)}">{"remove" if name in cmp.jobs else "add"}</a> '
        f"{esc(name)}</li>"
        for name in completed[:500]
    )
    errors = "".join(f'<div class="notice notice-warn">{esc(e)}</div>' for e in cmp.errors)
    plot = svg_lines(cmp.series, cmp.angle) if cmp.series else "<p>Add jobs to compare.</p>"
    body = (
        f"{header_html(view, '/' + token_query, 'compare')}<main>{notices_html(view)}"
        f'<section class="card"><h2>{esc(cmp.angle.replace("_", " "))} across jobs</h2>'
        f'<p class="sub">Angles from each job\'s results.json (raw, degrees), time from each '
        f"video's first frame.</p>{errors}{plot}"
        f'<p class="angles">{angle_links}</p></section>'
        f'<section class="card"><h2>Completed jobs</h2><ul class="files">{job_items}</ul>'
        "</section></main>"
    )
    return page_html("Compare · NeuroPose", body, page="compare")
