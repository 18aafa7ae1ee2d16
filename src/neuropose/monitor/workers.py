"""The ``/workers`` page and ``/workers.json``: the daemon's Ray worker pool.

Reads ``workers.json`` (:class:`~neuropose.schemas.workers.WorkersFile`,
written by the daemon with ``executor = "ray"``): per worker its node, slot,
state, current video, frames/s, heartbeat age and throughput since the pool
started. No file means the daemon runs the local executor (404); an
unreadable one answers 503, like the status.

Examples
--------
>>> from datetime import datetime, timezone
>>> from neuropose.schemas.workers import WorkerEntry, WorkersFile
>>> w = WorkerEntry(slot=0, worker_id="a1", node="10.0.0.5", pid=7, state="busy",
...                 job="walk1", video="cam01.mp4", frames_done=60, fps=30.0,
...                 last_heartbeat="2026-11-29T21:00:00Z", frames_total=600, busy_s=20.0,
...                 started_at="2026-11-29T20:50:00Z")
>>> doc = WorkersFile(address="local", updated_at="2026-11-29T21:00:00Z", workers=(w,))
>>> now = datetime(2026, 11, 29, 21, 0, 3, tzinfo=timezone.utc)
>>> row = workers_view(doc, now)["workers"][0]
>>> row["heartbeat_age_s"], row["throughput_fps"], row["video"]
(3.0, 30.0, 'cam01.mp4')
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import DataDir
from neuropose.errors import NeuroPoseError
from neuropose.io import load_model
from neuropose.monitor.render import esc, header_html, notices_html, page_html
from neuropose.monitor.responses import Response, html_response, json_response
from neuropose.monitor.snapshot import Snapshot
from neuropose.schemas.workers import WorkersFile
from neuropose.timefmt import format_age, parse_time_or_none

__all__ = ["read_workers", "render_workers_page", "workers_response", "workers_view"]

#: Text of the page and JSON when the daemon runs without a Ray pool.
NO_POOL = "no Ray worker pool: the daemon runs the local executor (docs/ray.md)"


def read_workers(data_dir: Path) -> tuple[WorkersFile | None, str | None]:
    """``(file, None)``, ``(None, None)`` when absent, or ``(None, why)`` when unreadable."""
    path = DataDir(data_dir).workers
    if not path.is_file():
        return None, None
    try:
        return load_model(path, WorkersFile), None
    except NeuroPoseError as exc:
        return None, exc.message


def workers_view(doc: WorkersFile, now: datetime) -> dict[str, Any]:
    """JSON-ready view: the file plus, per worker, heartbeat age (s) and throughput (frames/s)."""
    rows = []
    for w in doc.workers:
        beat = parse_time_or_none(w.last_heartbeat)
        age = None if beat is None else max(0.0, (now - beat).total_seconds())
        row = w.model_dump(mode="json")
        rows.append({**row, "heartbeat_age_s": age, "throughput_fps": w.throughput_fps})
    busy = sum(1 for w in doc.workers if w.state == "busy")
    return {
        "executor": doc.executor,
        "address": doc.address,
        "transfer": doc.transfer,
        "updated_at": doc.updated_at,
        "busy": busy,
        "workers": rows,
    }


def _current(w: dict[str, Any]) -> str:
    return f"{w['job']} / {w['video']}" if w["video"] else "–"


def _fps(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render_workers_page(snap: Snapshot, view: dict[str, Any], token_query: str = "") -> str:
    """``GET /workers``: one row per worker slot."""
    header = ("Slot", "Node", "PID", "State", "Job / video", "Frames", "fps", "Heartbeat",
              "Videos", "Throughput fps", "Restarts", "Last error")  # fmt: skip
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = "".join(
        "<tr>"
        f"<td>{w['slot']}</td><td>{esc(w['node'] or '–')}</td><td>{esc(w['pid'] or '–')}</td>"
        f'<td><span class="badge badge-{esc(w["state"])}">{esc(w["state"])}</span></td>'
        f"<td>{esc(_current(w))}</td>"
        f"<td>{w['frames_done']}</td><td>{_fps(w['fps'])}</td>"
        f"<td>{esc(format_age(w['heartbeat_age_s']))}</td><td>{w['videos_done']}</td>"
        f"<td>{_fps(w['throughput_fps'])}</td><td>{w['restarts']}</td>"
        f"<td>{esc(w['error'] or '')}</td></tr>"
        for w in view["workers"]
    )
    summary = (
        f"{len(view['workers'])} workers on {esc(view['address'])}, {view['busy']} busy; "
        f"videos sent by {esc(view['transfer'])}; written {esc(view['updated_at'])}"
    )
    summary_view = snap.summary()
    body = (
        f"{header_html(summary_view, '/' + token_query, 'workers')}<main>"
        f"{notices_html(summary_view)}"
        f'<section class="card"><h2>Ray workers</h2><p class="sub">{summary}</p>'
        f'<table><thead><tr>{head}</tr></thead><tbody id="workers">{rows}</tbody></table>'
        "</section></main>"
    )
    return page_html("Workers · NeuroPose", body, page="workers")


def workers_response(snap: Snapshot, token_query: str, *, as_json: bool) -> Response:
    """``/workers`` (HTML) or ``/workers.json``: 404 without a pool, 503 when unreadable."""
    doc, error = read_workers(snap.data_dir)
    if doc is None:
        status, text = (503, f"workers.json unreadable: {error}") if error else (404, NO_POOL)
        if as_json:
            return json_response(status, {"error": text})
        view = snap.summary()
        body = (
            f"{header_html(view, '/' + token_query, 'workers')}<main>"
            f'<section class="card"><h2>Ray workers</h2><p>{esc(text)}</p></section></main>'
        )
        return html_response(status, page_html("Workers · NeuroPose", body, page="workers"))
    view = workers_view(doc, snap.taken_at)
    if as_json:
        return json_response(200, view)
    return html_response(200, render_workers_page(snap, view, token_query))
