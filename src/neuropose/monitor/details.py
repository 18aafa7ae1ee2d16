"""The technician's parts of a job page: provenance, performance and the QC tables.

Every value passes through :func:`~neuropose.monitor.render.esc`; long hashes
are shortened with the full value as a tooltip (:class:`Abbrev`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuropose.monitor.jobfiles import JobFiles
from neuropose.monitor.render import esc
from neuropose.multiview.summary import (
    SUMMARY_HEADERS,
    ViewSummary,
    names_camera,
    summary_row,
    view_summaries,
)
from neuropose.quality import render_quality_fragment
from neuropose.schemas import JobStatusEntry, VideoPredictions
from neuropose.timefmt import format_time

__all__ = [
    "Abbrev",
    "camera_rows",
    "cameras_section",
    "fmt_num",
    "kv_table",
    "quality_column",
    "technical_columns",
]


class Abbrev(str):
    """A long value (a hash) shown shortened, with the full text as a tooltip."""

    __slots__ = ()


def _cell(value: object) -> str:
    if isinstance(value, Abbrev) and len(value) > 20:
        return f'<code title="{esc(value)}">{esc(value[:16])}…</code>'
    return esc(value)


def kv_table(rows: list[tuple[str, object]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{_cell(v)}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


def fmt_num(value: float | None, unit: str = "", digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}{unit}"


def _flatten(
    value: Any, prefix: str = "", out: list[tuple[str, object]] | None = None, limit: int = 200
) -> list[tuple[str, object]]:
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, limit)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value[:20]):
            _flatten(v, f"{prefix}[{i}]", out, limit)
    elif isinstance(value, list):
        text = ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in value[:12])
        out.append((prefix, text + (f", … ({len(value)} items)" if len(value) > 12 else "")))
    elif isinstance(value, float):
        out.append((prefix, f"{value:.4g}"))
    else:
        out.append((prefix, value))
    return out


def technical_columns(video: VideoPredictions) -> str:
    """Video metadata, model and provenance, and performance of one video (three columns)."""
    md, pv, mt = video.metadata, video.provenance, video.metrics
    declared = "unknown" if md.declared_frame_count is None else f"{md.declared_frame_count:,}"
    meta_rows: list[tuple[str, object]] = [
        ("resolution (upright)", f"{md.width} × {md.height} px"),
        ("rotation applied", f"{md.rotation_degrees}°"),
        ("frame rate (container)", fmt_num(md.fps_reported, " fps")),
        ("variable frame rate", "yes" if md.variable_frame_rate else "no"),
        ("frames decoded / declared", f"{md.decoded_frame_count:,} / {declared}"),
        ("short read", "yes — fewer frames decoded than declared" if md.short_read else "no"),
        ("duration", fmt_num(md.duration_s, " s")),
        ("codec", md.codec or "–"),
        ("timestamps from", md.timestamp_source),
    ]
    k = pv.intrinsics
    prov_rows: list[tuple[str, object]] = [
        ("model", pv.model_name),
        ("model sha256", Abbrev(pv.model_sha256)),
        (
            "3D coordinates",
            "root-relative (hip centre)" if pv.root_relative else "camera frame",
        ),
        (
            "intrinsics",
            f"fx {k.fx:.1f}, fy {k.fy:.1f}, cx {k.cx:.1f}, cy {k.cy:.1f} px ({k.source})",
        ),
        ("subject rule", video.subject_rule),
        ("primary track", "–" if video.primary_track_id is None else video.primary_track_id),
        ("input sha256", Abbrev(pv.input_sha256)),
        ("created", format_time(pv.created_at)),
        *[(f"option {key}", val) for key, val in sorted(pv.options.items())],
        *[(f"version {key}", val) for key, val in sorted(pv.versions.items())],
        ("platform", pv.platform or "–"),
    ]
    sections = [
        f'<div class="col"><h3>Video metadata</h3>{kv_table(meta_rows)}</div>',
        f'<div class="col"><h3>Model and provenance</h3>{kv_table(prov_rows)}</div>',
    ]
    if mt is not None:
        perf_rows: list[tuple[str, object]] = [
            ("frames", f"{mt.frames:,}"),
            ("wall time", fmt_num(mt.wall_s, " s")),
            ("throughput", fmt_num(mt.fps, " fps", 1)),
            ("model load", fmt_num(mt.model_load_s, " s")),
            ("bottleneck", mt.bottleneck),
            ("peak RSS", fmt_num(mt.peak_rss_bytes / 2**20, " MiB", 0)),
            ("CPU (mean)", fmt_num(mt.cpu_percent_mean, " % of a core", 0)),
            ("device / mode", f"{mt.device} / {mt.mode}"),
        ]
        stage_rows = "".join(
            f'<tr><td>{esc(s)}</td><td class="num">{t.count:,}</td>'
            f'<td class="num">{t.total_s:.2f}</td>'
            f'<td class="num">{1000 * t.mean_s:.1f}</td>'
            f'<td class="num">{1000 * t.p50_s:.1f}</td><td class="num">{1000 * t.p95_s:.1f}'
            "</td></tr>"
            for s, t in mt.stages.items()
        )
        stages = (
            '<table class="grid"><thead><tr><th>stage</th><th>count</th><th>total s</th>'
            "<th>mean ms</th><th>p50 ms</th><th>p95 ms</th></tr></thead>"
            f"<tbody>{stage_rows}</tbody></table>"
        )
        sections.append(f'<div class="col"><h3>Performance</h3>{kv_table(perf_rows)}{stages}</div>')
    return "".join(sections)


def quality_column(files: JobFiles, video: str) -> str:
    """The QC column of one video: the quality report's own HTML fragment.

    A file that is JSON but not a :class:`~neuropose.schemas.quality.QualityReport`
    this version reads is shown key by key after a note saying why; an
    unreadable one is an error notice naming the file.
    """
    if video in files.quality:
        inner = render_quality_fragment(files.quality[video])
    elif video in files.quality_unrecognised:
        why, raw = files.quality_unrecognised[video]
        rows: list[tuple[str, object]] = (
            _flatten(raw) if isinstance(raw, dict) else [("value", json.dumps(raw)[:500])]
        )
        inner = (
            f'<div class="notice notice-warn">quality.json is not a QualityReport this '
            f"version reads ({esc(why)}); showing its raw keys.</div>{kv_table(rows)}"
        )
    elif video in files.quality_errors:
        inner = f'<div class="notice notice-error">{esc(files.quality_errors[video])}</div>'
    else:
        return ""
    return f'<div class="col"><h3>Quality control</h3>{inner}</div>'


def camera_rows(files: JobFiles, entry: JobStatusEntry) -> tuple[list[ViewSummary], bool]:
    """Per-camera figures of a multi-view job: from ``results.json`` when it has a
    triangulation (every column), else from the status entry (median, swaps, offset).

    Returns the rows and whether they are the full ones.
    """
    tri = files.results.triangulation if files.results is not None else None
    if tri is not None:
        return view_summaries(tri), True
    rows = []
    for c in entry.cameras:
        suspect = any(names_camera(w, c.camera) for w in entry.warnings)
        rows.append(
            ViewSummary(
                camera=c.camera,
                video=c.video,
                median_px=c.median_reprojection_px,
                p95_px=None,
                swaps=c.swaps,
                frames_used=0,
                frames=0,
                inlier_rate=None,
                offset_frames=c.offset_frames,
                offset_source="",
                suspect=suspect,
            )
        )
    return rows, False


def cameras_section(
    files: JobFiles, entry: JobStatusEntry, visual_url: Callable[[str], str]
) -> str:
    """The multi-view card: warnings, the per-camera reprojection table, each view's
    reprojection check and the world-frame 3D view (empty for a single-view job).

    ``visual_url(name)`` is the URL of ``out/<job>/visualize/<name>``.
    """
    rows, full = camera_rows(files, entry)
    tri = files.results.triangulation if files.results is not None else None
    warnings = tri.warnings if tri is not None else entry.warnings
    if not rows and not warnings:
        return ""
    notes = "".join(
        f'<div class="notice notice-warn camera-warning">{esc(w)}</div>' for w in warnings
    )
    headers = SUMMARY_HEADERS if full else ("camera", "video", "median px", "swaps", "offset")
    body = ""
    for s in rows:
        row = summary_row(s)
        cells = row if full else (row[0], row[1], row[2], row[4], f"{s.offset_frames:+d}")
        flag = ' <span class="badge badge-failed">flagged</span>' if s.suspect else ""
        tds = f"<td>{esc(cells[0])}{flag}</td><td>{esc(cells[1])}</td>" + "".join(
            f'<td class="num" data-col="{esc(h)}">{esc(c)}</td>'
            for h, c in zip(headers[2:], cells[2:], strict=True)
        )
        suspect = ' data-suspect="1"' if s.suspect else ""
        body += f'<tr data-camera="{esc(s.camera)}"{suspect}>{tds}</tr>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    table = (
        f'<table class="grid" id="cameras"><thead><tr>{head}</tr></thead><tbody>{body}'
        "</tbody></table>"
    )
    cv = ""
    if tri is not None and tri.bone_length_cv:
        cv = "bone-length CV: " + ", ".join(
            f"{k.replace('_', ' ')} {100 * v:.1f} %"
            for k, v in tri.bone_length_cv.items()
            if v is not None
        )
        cv = f'<p class="sub" id="bone-cv">{esc(cv)}</p>'
    present = {d.path.split("/", 1)[1] for d in files.downloads if d.group == "visuals"}
    figs = ""
    for s in rows:
        stem = Path(s.video).stem
        mp4, png = f"{stem}.reprojection.mp4", f"{stem}.reprojection.png"
        if mp4 not in present:
            continue
        poster = f' poster="{esc(visual_url(png))}"' if png in present else ""
        figs += (
            f'<figure class="reprojection" data-camera="{esc(s.camera)}"><video controls '
            f'preload="metadata" playsinline src="{esc(visual_url(mp4))}"{poster}></video>'
            f"<figcaption>{esc(s.camera)} ({esc(s.video)}): detected 2D (discs) vs 3D "
            "reprojected (rings), green 0 … red ≥ gate</figcaption></figure>"
        )
    world = ""
    if "world3d.mp4" in present:
        poster = f' poster="{esc(visual_url("world3d.png"))}"' if "world3d.png" in present else ""
        world = (
            f'<figure class="world3d"><video controls preload="metadata" playsinline '
            f'src="{esc(visual_url("world3d.mp4"))}"{poster}></video><figcaption>Triangulated '
            "subject in the world frame (mm), floor and cameras</figcaption></figure>"
        )
    lead = (
        "Reprojection error per camera: distance in that video between the model's 2D "
        "keypoints and the triangulated 3D point projected into the camera. A camera far "
        "above the others (or flagged) has a wrong calibration or video pairing."
    )
    return (
        '<section class="card cameras" id="multiview"><h2>Cameras (multi-view trial)</h2>'
        f'<p class="sub">{esc(lead)}</p>{notes}{table}{cv}'
        + (f'<div class="review">{figs}</div>' if figs else "")
        + (f'<div class="review">{world}</div>' if world else "")
        + "</section>"
    )
