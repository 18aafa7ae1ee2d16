"""HTML, JSON and Prometheus renderings of a :class:`~neuropose.monitor.snapshot.Snapshot`.

Every value that reaches HTML passes through :func:`esc` (``html.escape`` with
quotes), including job names, video names, error messages and anything read
from result or quality files. Pages carry no inline event handlers and no
``style`` attributes; the page's one ``<script>`` and one ``<style>`` are
fixed package files whose SHA-256 hashes are allowed by the
``Content-Security-Policy`` from :func:`content_security_policy`, so an
injected script or handler would not run even if escaping failed.

Dashboard rows carry ``data-job`` and their cells ``data-f="<field>"``; the
browser script fills those cells with the ``display`` strings of
``/status.json`` (formatted here, in Python), so the first render and the
live updates always agree.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import quote

from neuropose import __version__
from neuropose.datadir.layout import DataDir
from neuropose.monitor.snapshot import STATE_ORDER, PreparedJob, Snapshot
from neuropose.timefmt import format_duration

__all__ = [
    "badge_html",
    "content_security_policy",
    "esc",
    "header_html",
    "job_url",
    "notices_html",
    "page_html",
    "progress_html",
    "render_dashboard",
    "render_error_page",
    "render_metrics",
    "render_status_json",
    "render_status_json_bytes",
]

#: Seconds between refreshes when scripts are disabled (``<noscript>`` meta refresh).
NOSCRIPT_REFRESH_S = 10

#: Columns of the dashboard table: (field, heading, css class).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "Job", "c-name"),
    ("state", "State", "c-state"),
    ("progress", "Progress", "c-progress"),
    ("frames", "Frames", "num"),
    ("fps", "FPS", "num"),
    ("eta", "ETA", "num"),
    ("video", "Current video", "c-video"),
    ("attempts", "Attempts", "num"),
    ("started", "Started", "c-time"),
    ("updated", "Last update", "c-time"),
)


def esc(value: object) -> str:
    """HTML-escape ``str(value)`` for text and quoted attributes.

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return escape("" if value is None else str(value), quote=True)


@functools.cache
def _asset(name: str) -> str:
    return (resources.files("neuropose.monitor") / "static" / name).read_text("utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@functools.cache
def content_security_policy() -> str:
    """The ``Content-Security-Policy`` of every response.

    Only the monitor's own script and stylesheet (by hash) run; data,
    images and videos are fetched only from this origin; nothing may frame
    the page.
    """
    return (
        "default-src 'none'; "
        f"script-src 'sha256-{_sha256(_asset('monitor.js'))}' "
        f"'sha256-{_sha256(_asset('live.js'))}'; "
        f"style-src 'sha256-{_sha256(_asset('monitor.css'))}'; "
        "img-src 'self' data:; media-src 'self'; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def job_url(name: str, token_query: str = "") -> str:
    """URL path of a job page (the name percent-encoded; ``token_query`` appended)."""
    return f"/jobs/{quote(name, safe='')}{token_query}"


def page_html(title: str, body: str, *, page: str, extra_attrs: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f'<noscript><meta http-equiv="refresh" content="{NOSCRIPT_REFRESH_S}"></noscript>\n'
        f"<title>{esc(title)}</title>\n<style>{_asset('monitor.css')}</style>\n"
        f'</head>\n<body data-page="{esc(page)}"{extra_attrs}>\n{body}\n'
        f"<footer>NeuroPose {esc(__version__)} monitor · pages refresh live"
        f"<noscript> (scripts are off: reloading every {NOSCRIPT_REFRESH_S} s)</noscript>"
        f"</footer>\n<script>{_asset('monitor.js')}</script>\n</body>\n</html>\n"
    )


def header_html(view: dict[str, Any], home: str, subtitle: str = "") -> str:
    d = view["daemon"]
    if d["running"]:
        daemon = (
            f'<span class="pill pill-ok" id="daemon" title="pid {esc(d["pid"])} on '
            f'{esc(d["host"])} since {esc(d["started_at"])}">daemon running</span>'
        )
    else:
        daemon = '<span class="pill pill-down" id="daemon">daemon not running</span>'
    sub = f'<span class="crumb">/ {subtitle}</span>' if subtitle else ""
    return (
        f'<header><h1><a href="{esc(home)}">NeuroPose</a> {sub}</h1>'
        f'<div class="meta">{daemon}<span class="dir" title="data directory">'
        f"{esc(view['data_dir'])}</span></div></header>"
    )


def notices_html(view: dict[str, Any]) -> str:
    items = "".join(
        f'<div class="notice notice-{esc(n["level"])}" role="status">{esc(n["text"])}</div>'
        for n in view["notices"]
    )
    return f'<div id="notices" aria-live="polite">{items}</div>'


def badge_html(state: str, extra: str = "") -> str:
    return f'<span class="badge badge-{esc(state)}" data-f="state"{extra}>{esc(state)}</span>'


def progress_html(job: dict[str, Any]) -> str:
    disp = job["display"]
    value = "" if disp["indeterminate"] else f' value="{job["percent"] or 0:.2f}"'
    return (
        f'<progress max="100"{value} data-f="bar" '
        f'aria-label="progress of {esc(job["name"])}"></progress>'
        f'<span class="pct" data-f="percent">{esc(disp["percent"])}</span>'
    )


def _row(job: PreparedJob, token_query: str) -> str:
    """One dashboard row; cells carry ``data-f`` so the page script can update them."""
    name = job.name
    d = job.static["display"]
    err = d["error"]
    return (
        f'<tr class="job" data-job="{esc(name)}" data-state="{esc(job.static["state"])}">'
        f'<td class="c-name"><input type="checkbox" name="jobs" form="compare" '
        f'value="{esc(name)}" aria-label="select {esc(name)} for comparison"> '
        f'<a href="{esc(job_url(name, token_query))}">'
        f'{esc(name)}</a><div class="err" data-f="error"'
        f"{'' if err else ' hidden'}>{esc(err)}</div></td>"
        f'<td class="c-state">{badge_html(job.static["state"])}'
        f'<span class="badge badge-stale" data-f="stale" title="no heartbeat for more than '
        f'the stale threshold"{"" if job.stale else " hidden"}>stale</span></td>'
        f'<td class="c-progress">{progress_html(job.static)}</td>'
        f'<td class="num" data-f="frames">{esc(d["frames"])}</td>'
        f'<td class="num" data-f="fps">{esc(d["fps"])}</td>'
        f'<td class="num" data-f="eta">{esc(d["eta"])}</td>'
        f'<td class="c-video" data-f="video">{esc(d["video"])}</td>'
        f'<td class="num" data-f="attempts">{esc(d["attempts"])}</td>'
        f'<td class="c-time" data-f="started">{esc(d["started"])}</td>'
        f'<td class="c-time" data-f="updated" title="{esc(d["updated_title"])}">'
        f"{esc(job.updated)}</td></tr>"
    )


def _counts(view: dict[str, Any]) -> str:
    cards = "".join(
        f'<div class="card count count-{esc(s.value)}">'
        f'<div class="n" data-count="{esc(s.value)}">'
        f'{view["counts"].get(s.value, 0)}</div><div class="l">{esc(s.value)}</div></div>'
        for s in STATE_ORDER
    )
    return f'<section class="counts">{cards}</section>'


def _listed(view: dict[str, Any]) -> str:
    """ " · 150 of 100,000 jobs listed ..." when the table does not hold every job."""
    if view["listed_jobs"] >= view["total_jobs"]:
        return ""
    return (
        f" · {view['listed_jobs']:,} of {view['total_jobs']:,} jobs listed (unfinished and most "
        "recently changed); every job: <code>/status.json?limit=100&amp;offset=0</code>"
    )


def _workers_link(snapshot: Snapshot, token_query: str) -> str:
    """A link to ``/workers`` when the daemon runs a Ray pool (``workers.json`` exists)."""
    if not DataDir(snapshot.data_dir).workers.is_file():
        return ""
    return f' · <a href="{esc("/workers" + token_query)}">Ray workers</a>'


def _live_link(snapshot: Snapshot, token_query: str) -> str:
    """A link to ``/live`` when the data directory holds ``neuropose live`` sessions."""
    if not DataDir(snapshot.data_dir).live_sessions():
        return ""
    return f' · <a href="{esc("/live" + token_query)}">live sessions</a>'


def render_dashboard(
    snapshot: Snapshot,
    token_query: str = "",
    *,
    controls: str = "",
    jobs: Sequence[PreparedJob] | None = None,
    status_query: str = "",
) -> str:
    """The dashboard page (``GET /``).

    Parameters
    ----------
    snapshot : Snapshot
        What to show.
    token_query : str
        ``"?token=..."`` when the viewer authenticated with a query token,
        so that links keep working; ``""`` otherwise.
    controls : str
        HTML of the filter and compare forms (:func:`neuropose.monitor.study.study_forms`).
    jobs : sequence of PreparedJob, optional
        The rows (a filtered study view); the snapshot's listed jobs by default.
    status_query : str
        Query string of ``/status.json`` that the page script polls for those rows.
    """
    view = snapshot.summary()
    heads = "".join(f'<th class="{esc(c)}">{esc(h)}</th>' for _, h, c in COLUMNS)
    rows = "".join(_row(job, token_query) for job in (snapshot.jobs if jobs is None else jobs))
    updated = view["status_updated_at"] or "–"
    body = (
        f"{header_html(view, '/' + token_query)}<main>{notices_html(view)}{_counts(view)}"
        f'<p class="sub">Status written <span id="status-updated">{esc(updated)}</span>'
        f" · stale after {esc(format_duration(view['stale_after_s']))} without heartbeat"
        f"{_listed(view) if jobs is None else ''}"
        f' · <a href="{esc("/compare" + token_query)}">compare an angle across jobs</a>'
        f"{_workers_link(snapshot, token_query)}{_live_link(snapshot, token_query)}</p>"
        f"{controls}"
        f'<div class="table-wrap"><table id="jobs"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></main>"
    )
    title = "NeuroPose monitor"
    extra = f' data-status-query="{esc(status_query)}"' if status_query else ""
    return page_html(title, body, page="dashboard", extra_attrs=extra)


def render_error_page(
    snapshot: Snapshot | None, status: int, title: str, message: str, token_query: str = ""
) -> str:
    """A full page for 4xx/5xx answers (the status-unavailable page included)."""
    if snapshot is not None:
        view = snapshot.summary()
        head = header_html(view, "/" + token_query) + notices_html(view)
    else:
        head = "<header><h1>NeuroPose</h1></header>"
    body = (
        f'{head}<main><section class="card error-page"><h2>{status} · {esc(title)}</h2>'
        f'<p>{esc(message)}</p><p><a href="{esc("/" + token_query)}">Back to the dashboard</a>'
        "</p></section></main>"
    )
    # A 503 page polls the status and reloads itself once it is readable again.
    return page_html(
        f"{status} {title} · NeuroPose", body, page="unavailable" if status == 503 else "error"
    )


def render_status_json_bytes(snapshot: Snapshot) -> bytes:
    """UTF-8 JSON of :func:`render_status_json` for the whole dashboard (compact separators).

    The view is plain, acyclic data, so the encoder's cycle check is skipped
    (about a fifth of the encoding time for 1,000 jobs).
    """
    text = json.dumps(
        snapshot.view(), ensure_ascii=False, check_circular=False, separators=(",", ":")
    )
    return text.encode("utf-8")


def render_status_json(snapshot: Snapshot, job: str | None = None) -> dict[str, Any]:
    """Body of ``/status.json`` (whole dashboard) or ``/status.json?job=NAME``.

    Raises
    ------
    KeyError
        ``job`` is not a key of the status file.
    """
    if job is None:
        return snapshot.view()
    prepared = snapshot.job(job)
    if prepared is None:
        raise KeyError(job)
    return {**job_status_json(snapshot), "job": prepared.view()}


def job_status_json(snapshot: Snapshot) -> dict[str, Any]:
    """The fields of ``/status.json?job=NAME`` besides ``job``."""
    view = snapshot.summary()
    return {
        "generated_at": view["generated_at"],
        "daemon": view["daemon"],
        "status_available": True,
        "notices": view["notices"],
    }


def _prom_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(snapshot: Snapshot) -> str:
    """Prometheus text exposition (format 0.0.4) of the snapshot.

    Metrics: ``neuropose_up`` (1), ``neuropose_daemon_up``,
    ``neuropose_status_readable``, ``neuropose_jobs{state}``,
    ``neuropose_jobs_stale``, ``neuropose_frames_done`` (sum over the jobs in
    the status file), ``neuropose_frames_expected``, ``neuropose_processing_fps``
    (sum over processing jobs), ``neuropose_job_frames_done{job}`` and
    ``neuropose_job_fps{job}`` for processing jobs. Job series are omitted
    while the status is unreadable.
    """
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            shown = f"{value:g}" if math.isfinite(value) else "NaN"
            lines.append(f"{name}{labels} {shown}")

    metric("neuropose_up", "gauge", "The monitor is serving.", [("", 1)])
    metric(
        "neuropose_daemon_up",
        "gauge",
        "1 when `neuropose watch` holds the data dir lock.",
        [("", 1 if snapshot.daemon.held else 0)],
    )
    metric(
        "neuropose_status_readable",
        "gauge",
        "1 when status.json is readable and valid.",
        [("", 1 if snapshot.status is not None else 0)],
    )
    if snapshot.status is not None:
        jobs = list(snapshot.status.jobs.items())
        counts = snapshot.counts()
        metric(
            "neuropose_jobs",
            "gauge",
            "Jobs per state.",
            [(f'{{state="{s}"}}', n) for s, n in counts.items()],
        )
        metric(
            "neuropose_jobs_stale",
            "gauge",
            "Processing jobs whose heartbeat is older than stale_after_seconds.",
            [("", sum(1 for _, e in jobs if snapshot.is_stale(e)))],
        )
        metric(
            "neuropose_frames_done",
            "gauge",
            "Frames processed, summed over the jobs listed in status.json (unfinished and recent).",
            [("", sum(e.frames_done for _, e in jobs))],
        )
        metric(
            "neuropose_frames_expected",
            "gauge",
            "Frames expected, summed over the listed jobs with a known total.",
            [("", sum(e.frames_expected or 0 for _, e in jobs))],
        )
        active = [(n, e) for n, e in jobs if e.state.value == "processing"]
        metric(
            "neuropose_processing_fps",
            "gauge",
            "Current frames per second, all jobs.",
            [("", sum(e.fps or 0.0 for _, e in active))],
        )
        metric(
            "neuropose_job_frames_done",
            "gauge",
            "Frames processed by a processing job.",
            [(f'{{job="{_prom_escape(n)}"}}', e.frames_done) for n, e in active],
        )
        metric(
            "neuropose_job_fps",
            "gauge",
            "Frames per second of a processing job.",
            [(f'{{job="{_prom_escape(n)}"}}', e.fps or 0.0) for n, e in active],
        )
    return "\n".join(lines) + "\n"
