"""The job page (``GET /jobs/<job>``): a clinician reviews a trial, a technician checks the run.

Top to bottom:

1. **Verdict** (``#verdict``): usable / caution / not usable with the reasons,
   from :func:`neuropose.quality.quality_verdict` over every video's quality
   report (the worst video decides).
2. **Summary**: state, progress (live), times, the error if any.
3. **Per video**: the overlay video in an HTML5 player (seekable: the server
   answers byte ranges), the 3D view, the angle and confidence plots, the
   quality report, and, collapsed in a ``<details>``, video metadata,
   model and provenance, and performance.
4. **Downloads**: ``results.json``, analyze reports, exports and the visual
   outputs, with their sizes.
5. Video progress and attempt history.

Media and downloads are same-origin URLs under ``/jobs/<job>/`` (the CSP
allows nothing else); the viewer's ``?token=`` is appended to each.

Examples
--------
>>> [VERDICT_TITLES[v] for v in ("usable", "caution", "not usable")]
['Usable', 'Use with caution', 'Not usable']
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import quote

from neuropose.monitor.details import (
    camera_rows,
    cameras_section,
    kv_table,
    quality_column,
    technical_columns,
)
from neuropose.monitor.jobfiles import Download, JobFiles, VideoVisuals
from neuropose.monitor.render import (
    badge_html,
    esc,
    header_html,
    job_url,
    notices_html,
    page_html,
    progress_html,
)
from neuropose.monitor.snapshot import PreparedJob, Snapshot, static_view
from neuropose.quality import Verdict, combine_verdicts, quality_verdict
from neuropose.schemas import JobState, JobStatusEntry
from neuropose.timefmt import format_bytes, format_time

__all__ = ["VERDICT_TITLES", "job_verdict", "render_job_page"]

#: Heading of each verdict level.
VERDICT_TITLES = {
    "usable": "Usable",
    "caution": "Use with caution",
    "not usable": "Not usable",
    "not assessed": "Not assessed",
}

_GROUP_TITLES = {
    "results": "Results",
    "analysis": "Analysis reports",
    "exports": "Exports",
    "visuals": "Visual outputs",
}


def job_verdict(files: JobFiles, state: JobState, warnings: tuple[str, ...] = ()) -> Verdict | None:
    """The verdict of a job from its videos' quality reports (and a multi-view trial's warnings).

    ``None`` (no verdict shown) while the job is not completed and no report
    exists yet. A completed job without reports, or with an unreadable
    report, is ``not assessed`` / ``caution`` with the reason. Each
    triangulation warning (a camera whose calibration looks wrong, an
    unidentifiable offset) makes the trial at least ``caution``.
    """
    items = [(v, quality_verdict(r)) for v, r in files.quality.items()]
    if warnings:
        items.append(("triangulation", Verdict("caution", tuple(warnings))))
    unread = [
        v for v in files.videos if v in files.quality_errors or v in files.quality_unrecognised
    ]
    if not items and not unread:
        if state is not JobState.COMPLETED:
            return None
        return Verdict("not assessed", ("no quality report exists for this job's videos",))
    items += [
        (v, Verdict("caution", ("quality report unreadable: review by eye",))) for v in unread
    ]
    return combine_verdicts(items)


def _verdict_section(verdict: Verdict | None) -> str:
    if verdict is None:
        return ""
    level = verdict.level
    reasons = "".join(f"<li>{esc(r)}</li>" for r in verdict.reasons)
    lead = {
        "usable": "No quality warning: the poses can be used for kinematics.",
        "caution": "Usable with care: check the points below against the video.",
        "not usable": "Do not use these poses for kinematics without re-recording or review.",
        "not assessed": "No quality figures to judge this trial by.",
    }[level]
    return (
        f'<section class="card verdict verdict-{esc(level.replace(" ", "-"))}" id="verdict" '
        f'data-verdict="{esc(level)}"><h2>{esc(VERDICT_TITLES[level])}</h2>'
        f"<p>{esc(lead)}</p>{f'<ul>{reasons}</ul>' if reasons else ''}"
        '<p class="sub">From the quality report of each video (rules in the monitor guide); '
        "a screening aid, not a clinical validation.</p></section>"
    )


def _render_notice(files: JobFiles, name: str) -> str:
    """What the daemon's render step says: failed (with the fix) or still running."""
    rec = files.render
    if files.render_error is not None:
        return f'<div class="notice notice-warn">{esc(files.render_error)}</div>'
    if rec is None or rec.state == "done":
        return ""
    if rec.state == "rendering":
        return (
            '<div class="notice notice-info" id="render-state" data-render="rendering">'
            f"Rendering the visuals (started {esc(format_time(rec.started_at))}); reload the "
            "page when it is done.</div>"
        )
    return (
        '<div class="notice notice-error" id="render-state" data-render="failed">'
        f"Rendering the visuals failed ({esc(format_time(rec.finished_at))}): {esc(rec.error)}. "
        "The pose results are complete and unaffected. Render again with "
        f"<code>neuropose retry --render-only {esc(shlex.quote(name))}</code>.</div>"
    )


def _file_url(name: str, path: str, tq: str) -> str:
    return f"{job_url(name)}/{quote(path, safe='/')}{tq}"


def _media(vis: VideoVisuals, video: str, name: str, tq: str) -> str:
    """The player, the 3D view and the plots of one video."""
    vis_url = lambda f: _file_url(name, f"visualize/{f}", tq)  # noqa: E731
    parts = []
    if vis.player is not None:
        poster = f' poster="{esc(vis_url(vis.preview))}"' if vis.preview else ""
        kind = (
            "skeleton on the original frames"
            if ".overlay." in vis.player
            else ("skeleton only (no video pixels)")
        )
        parts.append(
            f'<figure class="player"><video class="overlay" controls preload="metadata" '
            f'playsinline src="{esc(vis_url(vis.player))}"{poster}></video>'
            f"<figcaption>{esc(video)}: {kind}</figcaption></figure>"
        )
    elif vis.preview is not None:
        parts.append(
            f'<figure class="player"><img class="preview" src="{esc(vis_url(vis.preview))}" '
            f'alt="preview of {esc(video)}"><figcaption>Rendered preview of {esc(video)}'
            "</figcaption></figure>"
        )
    if vis.view3d is not None:
        parts.append(
            f'<figure class="view3d"><video class="view3d" controls preload="metadata" '
            f'playsinline src="{esc(vis_url(vis.view3d))}"></video>'
            "<figcaption>3D view (fixed viewpoint, equal axes)</figcaption></figure>"
        )
    plots = [
        (vis.angles, "joint angles over time"),
        (vis.confidence, "joint confidence over time"),
    ]
    figs = "".join(
        f'<figure><img class="plot" src="{esc(vis_url(f))}" alt="{esc(alt)} of {esc(video)}" '
        f'loading="lazy"><figcaption>{esc(alt.capitalize())}</figcaption></figure>'
        for f, alt in plots
        if f is not None
    )
    media = f'<div class="review">{"".join(parts)}</div>' if parts else ""
    return media + (f'<div class="plots">{figs}</div>' if figs else "")


def _video_section(files: JobFiles, index: int, video: str, name: str, tq: str) -> str:
    vis = files.visuals.get(index)
    media = _media(vis, video, name, tq) if vis is not None else ""
    qc = quality_column(files, video)
    technical = ""
    if files.results is not None:
        technical = (
            '<details class="technical"><summary>Provenance and performance</summary>'
            f'<div class="cols">{technical_columns(files.results.videos[index])}</div></details>'
        )
    if not (media or qc or technical):
        return ""
    return (
        f'<section class="video card" data-video="{esc(video)}"><h2>{esc(video)}</h2>'
        f'{media}<div class="cols">{qc}</div>{technical}</section>'
    )


def _downloads(files: JobFiles, name: str, tq: str) -> str:
    if not files.downloads:
        return ""
    groups: dict[str, list[Download]] = {}
    for d in files.downloads:
        groups.setdefault(d.group, []).append(d)
    blocks = "".join(
        f'<div class="col"><h3>{esc(_GROUP_TITLES.get(g, g))}</h3><ul class="files">'
        + "".join(
            f'<li><a href="{esc(_file_url(name, d.path, tq))}" download>'
            f'{esc(d.path.rsplit("/", 1)[-1])}</a> <span class="size">{esc(format_bytes(d.size))}'
            "</span></li>"
            for d in items
        )
        + "</ul></div>"
        for g, items in groups.items()
    )
    return (
        '<section class="card downloads" id="downloads"><h2>Downloads</h2>'
        f'<div class="cols">{blocks}</div></section>'
    )


def _summary(
    name: str, entry: JobStatusEntry, job: dict[str, Any], files: JobFiles, tq: str
) -> str:
    d = job["display"]
    stale = "" if job["stale"] else " hidden"
    overview: list[tuple[str, object]] = [
        ("attempts", d["attempts"]),
        ("started", d["started"]),
        ("finished", format_time(entry.finished_at)),
        ("current video", d["video"]),
    ]
    link = (
        f'<a href="{esc(_file_url(name, "results.json", tq))}" download>results.json</a>'
        if files.results is not None
        else esc(entry.results_path or "–")
    )
    compare = ""
    if files.results is not None:
        url = f"/compare?jobs={quote(name, safe='')}{'&' + tq[1:] if tq else ''}"
        compare = f'<span><a href="{esc(url)}">compare with other jobs</a></span>'
    return (
        f'<section class="card job-summary" data-job="{esc(name)}" '
        f'data-state="{esc(entry.state.value)}">'
        f'<div class="title"><h2>{esc(name)}</h2>{badge_html(entry.state.value)}'
        f'<span class="badge badge-stale" data-f="stale"{stale}>stale</span></div>'
        f'<div class="big-progress">{progress_html(job)}</div>'
        f'<div class="stats"><span>frames <b data-f="frames">{esc(d["frames"])}</b></span>'
        f'<span>fps <b data-f="fps">{esc(d["fps"])}</b></span>'
        f'<span>ETA <b data-f="eta">{esc(d["eta"])}</b></span>'
        f'<span>last update <b data-f="updated" title="{esc(d["updated_title"])}">'
        f"{esc(d['updated'])}</b></span><span>results {link}</span>{compare}</div>"
        f'<div class="notice notice-error err" data-f="error"{"" if d["error"] else " hidden"}>'
        f"{esc(d['error'])}</div>"
        f"{kv_table([('queued', format_time(entry.queued_at)), *overview])}</section>"
    )


def _progress_and_history(entry: JobStatusEntry, job: dict[str, Any], files: JobFiles) -> str:
    cams = {s.video: s.camera for s in camera_rows(files, entry)[0]}
    cam_cell = (lambda v: f"<td>{esc(cams.get(v, '–'))}</td>") if cams else (lambda v: "")
    vrows = "".join(
        f'<tr data-video="{esc(v["name"])}" data-state="{esc(v["state"])}">'
        f"<td>{esc(v['name'])}</td>{cam_cell(v['name'])}"
        f'<td>{badge_html(v["state"])}</td><td class="c-progress">'
        f'<progress max="100" value="{v["percent"] or 0:.2f}" data-f="bar"></progress>'
        f'<span class="pct" data-f="percent">{esc(v["display"]["percent"])}</span></td>'
        f'<td class="num" data-f="frames">{esc(v["display"]["frames"])}</td></tr>'
        for v in job["videos"]
    )
    videos = (
        '<section class="card"><h2>Videos</h2><table class="grid" id="videos"><thead><tr>'
        f"<th>video</th>{'<th>camera</th>' if cams else ''}<th>state</th><th>progress</th>"
        "<th>frames</th></tr></thead>"
        f"<tbody>{vrows}</tbody></table></section>"
        if vrows
        else ""
    )
    hist_rows = "".join(
        f'<tr><td class="num">{a.attempt}</td><td>{esc(format_time(a.started_at))}</td>'
        f"<td>{esc(format_time(a.finished_at))}</td>"
        f"<td>{badge_html(a.outcome.value) if a.outcome else '–'}</td>"
        f'<td class="num">{esc(a.pid or "–")}</td><td class="err">{esc(a.error or "")}'
        "</td></tr>"
        for a in entry.history
    )
    history = (
        '<section class="card"><h2>Attempt history</h2><table class="grid"><thead><tr>'
        "<th>#</th><th>started</th><th>finished</th><th>outcome</th><th>pid</th><th>error</th>"
        f"</tr></thead><tbody>{hist_rows}</tbody></table></section>"
        if hist_rows
        else ""
    )
    return videos + history


def render_job_page(
    snapshot: Snapshot, name: str, entry: JobStatusEntry, files: JobFiles, token_query: str = ""
) -> str:
    """The page of one job (``GET /jobs/<job>``); ``name`` is a key of the status file.

    Parameters
    ----------
    snapshot : Snapshot
        The status reading the page is rendered from.
    name : str
        The job (a key of the status file).
    entry : JobStatusEntry
        Its status.
    files : JobFiles
        Its files (:func:`~neuropose.monitor.jobfiles.job_files`).
    token_query : str
        ``"?token=..."`` to append to every link, or ``""``.
    """
    view = snapshot.summary()
    prepared = snapshot.job(name) or PreparedJob(
        name, entry, static_view(name, entry), *snapshot.live_fields(entry)
    )
    job = prepared.view()
    sections = "".join(
        _video_section(files, i, v, name, token_query) for i, v in enumerate(files.videos)
    )
    tri = files.results.triangulation if files.results is not None else None
    warnings = tri.warnings if tri is not None else entry.warnings
    vis_url = lambda f: _file_url(name, f"visualize/{f}", token_query)  # noqa: E731
    if files.results_error:
        sections = (
            '<div class="notice notice-error">results.json could not be read: '
            f"{esc(files.results_error)}</div>{sections}"
        )
    body = (
        f"{header_html(view, '/' + token_query, esc(name))}<main>{notices_html(view)}"
        f"{_verdict_section(job_verdict(files, entry.state, warnings))}"
        f"{_render_notice(files, name)}{_summary(name, entry, job, files, token_query)}"
        f"{cameras_section(files, entry, vis_url)}{sections}"
        f"{_downloads(files, name, token_query)}{_progress_and_history(entry, job, files)}</main>"
    )
    return page_html(
        f"{name} · NeuroPose", body, page="job", extra_attrs=f' data-job="{esc(name)}"'
    )
