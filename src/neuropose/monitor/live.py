"""The ``/live`` page: a running ``neuropose live`` session's signals, events and counters.

``/live[?session=NAME]`` draws the newest window of each plotted signal of
``<data_dir>/live/<session>/live.json`` as an inline SVG line, with the
session's counters (frames predicted and dropped, stale ticks, latency from
capture to signal) and its newest events; ``static/live.js`` re-reads
``/live.json`` twice a second and redraws them without a reload.
Without ``session`` the session whose ``live.json`` changed last is shown.
Files are found through :class:`~neuropose.datadir.layout.DataDir` only, the
name is checked like a job name, and the page obeys the server's rules
(token, loopback Host, CSP: its script is allowed by hash).
"""

from __future__ import annotations

import math
from pathlib import Path

from neuropose.datadir.layout import DataDir, is_job_name
from neuropose.errors import NeuroPoseError
from neuropose.io import load_model
from neuropose.monitor import render
from neuropose.monitor.render import esc
from neuropose.monitor.responses import Response, html_response, json_response
from neuropose.schemas.live import LiveStatus

__all__ = ["PLOT_H", "PLOT_W", "live_response", "newest_session", "polyline_points"]

#: Size of each signal's plot, SVG user units.
PLOT_W, PLOT_H = 640, 120


def newest_session(data_dir: Path) -> str | None:
    """The session whose ``live.json`` was modified last (None when there is none)."""
    layout = DataDir(data_dir)
    best: tuple[float, str] | None = None
    for name in layout.live_sessions():
        try:
            mtime = layout.live_session(name).status.stat().st_mtime
        except OSError:
            continue
        if best is None or mtime > best[0]:
            best = (mtime, name)
    return None if best is None else best[1]


def polyline_points(series: list[tuple[float, float | None]]) -> str:
    """SVG ``points`` of one series scaled to the plot (gaps at null values are skipped).

    The x axis spans the series' time range, the y axis its value range
    (upwards). Used by the first render; ``live.js`` applies the same rule.

    Examples
    --------
    >>> polyline_points([(0.0, 0.0), (1.0, 1.0), (2.0, None)])
    '0.0,120.0 320.0,0.0'
    """
    pts = [(t, v) for t, v in series if v is not None and math.isfinite(v)]
    if not pts:
        return ""
    t0, t1 = series[0][0], series[-1][0]
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    tspan = (t1 - t0) or 1.0
    vspan = (hi - lo) or 1.0
    return " ".join(
        f"{(t - t0) / tspan * PLOT_W:.1f},{PLOT_H - (v - lo) / vspan * PLOT_H:.1f}" for t, v in pts
    )


def _read(data_dir: Path, name: str) -> LiveStatus:
    return load_model(DataDir(data_dir).live_session(name).status, LiveStatus)


def live_response(
    data_dir: Path, query: dict[str, list[str]], token_query: str, as_json: bool
) -> Response:
    """``/live`` (HTML) or ``/live.json``: 404 for no/unknown session, 503 for an unreadable one."""
    sessions = DataDir(data_dir).live_sessions()
    given = query.get("session")
    name = given[0] if given and given[0] else newest_session(data_dir)
    if name is None or not is_job_name(name) or name not in sessions:
        message = (
            "no live session in this data directory (start one with `neuropose live`)"
            if name is None
            else f"no live session named {name[:80]!r}"
        )
        if as_json:
            return json_response(404, {"error": message, "sessions": sessions})
        return html_response(404, _page(None, sessions, token_query, message))
    try:
        status = _read(data_dir, name)
    except (NeuroPoseError, OSError) as exc:
        message = exc.message if isinstance(exc, NeuroPoseError) else str(exc)
        if as_json:
            return json_response(503, {"error": message, "session": name})
        return html_response(503, _page(None, sessions, token_query, message))
    if as_json:
        return json_response(200, {**status.model_dump(mode="json"), "sessions": sessions})
    return html_response(200, _page(status, sessions, token_query, None))


def _counters(st: LiveStatus | None) -> str:
    def fmt(v: float | None, unit: str = "") -> str:
        return "–" if v is None else f"{v:.1f}{unit}"

    items: list[tuple[str, str, str]] = [
        ("state", "state", st.state if st else "–"),
        ("frames_predicted", "frames predicted", str(st.frames_predicted) if st else "–"),
        ("frames_dropped", "frames dropped", str(st.frames_dropped) if st else "–"),
        ("stale_ticks", "stale ticks", str(st.stale_ticks) if st else "–"),
        ("predict_fps", "predicted fps", fmt(st.predict_fps) if st else "–"),
        ("latency_median_ms", "latency median", fmt(st.latency_median_ms, " ms") if st else "–"),
        ("latency_p95_ms", "latency p95", fmt(st.latency_p95_ms, " ms") if st else "–"),
    ]
    cells = "".join(
        f'<div class="card count"><div class="n" data-f="{key}">{esc(val)}</div>'
        f'<div class="l">{esc(label)}</div></div>'
        for key, label, val in items
    )
    return f'<section class="counts" id="live-counters">{cells}</section>'


def _plots(st: LiveStatus | None) -> str:
    blocks = []
    for name, series in (st.signals if st else {}).items():
        last = next((v for _, v in reversed(series) if v is not None), None)
        blocks.append(
            f'<div class="card" data-signal="{esc(name)}"><h2>{esc(name)} '
            f'<span data-f="last">{"–" if last is None else f"{last:.3f}"}</span></h2>'
            f'<svg viewBox="0 0 {PLOT_W} {PLOT_H}" width="100%" height="{PLOT_H}" '
            f'preserveAspectRatio="none" '
            f'role="img" aria-label="{esc(name)} over the newest seconds">'
            f'<polyline fill="none" stroke="#2563eb" stroke-width="2" '
            f'points="{polyline_points(series)}"/></svg></div>'
        )
    if not blocks:
        blocks.append('<div class="card" data-empty="1">No signal to plot yet.</div>')
    return f'<section id="live-plots">{"".join(blocks)}</section>'


def _events(st: LiveStatus | None) -> str:
    rows = "".join(
        f"<li>{e.time_s:.2f} s · {esc(e.kind)} · {esc(e.detail)}</li>"
        for e in reversed(st.events if st else [])
    )
    return f'<section class="card"><h2>Events</h2><ul id="live-events">{rows}</ul></section>'


def _page(st: LiveStatus | None, sessions: list[str], token_query: str, message: str | None) -> str:
    home = "/" + token_query
    name = st.session if st else ""
    notice = (
        f'<div class="notice notice-warn" role="status">{esc(message)}</div>' if message else ""
    )
    others = " ".join(
        f'<a href="/live?session={esc(s)}{esc(token_query.replace("?", "&"))}">{esc(s)}</a>'
        for s in sessions
    )
    source = f" · source {esc(st.source)}" if st else ""
    body = (
        f'<header><h1><a href="{esc(home)}">NeuroPose</a> '
        f'<span class="crumb">/ live {esc(name)}</span></h1>'
        f'<div class="meta"><span>{source}</span></div></header><main>{notice}'
        f"{_counters(st)}{_plots(st)}{_events(st)}"
        f'<section class="card"><h2>Sessions</h2>{others or "none"}</section></main>'
        f"<script>{render._asset('live.js')}</script>"
    )
    attrs = f' data-session="{esc(name)}"' if st else ""
    return render.page_html(f"NeuroPose live {name}", body, page="live", extra_attrs=attrs)
