"""The one HTML rendering of a quality report: a fragment, and a page around it.

:func:`render_quality_fragment` is what the dashboard's job page embeds and
what :func:`render_quality_html` wraps into the self-contained
``<stem>.quality.html``, so both show the same figures (the strings of
:func:`~neuropose.quality.report.summarize_quality`). The fragment has no
scripts, no inline styles and no event handlers (it must pass the monitor's
Content-Security-Policy); every value is HTML-escaped, and it uses only the
classes ``kv``, ``grid``, ``num``, ``notice notice-warn`` and ``ok``.

Examples
--------
>>> from neuropose.quality.report import build_quality_report
>>> from neuropose.schemas import Skeleton, VideoPredictions
>>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 3)
>>> "<script" in render_quality_html(build_quality_report(vp, job_id="j"))
False
"""

from __future__ import annotations

from html import escape

from neuropose.quality.report import summarize_quality
from neuropose.schemas.quality import QualityReport

__all__ = ["render_quality_fragment", "render_quality_html"]

_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th { background: #f3f3f3; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.notice-warn { background: #fff4e0; border-left: 4px solid #e69f00; padding: 0.4em 0.8em; }
.ok { color: #006d2c; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _grid(headings: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headings)
    body = "".join(
        "<tr>" + f"<td>{_e(r[0])}</td>" + "".join(f'<td class="num">{_e(c)}</td>' for c in r[1:])
        for r in rows
    )
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_quality_fragment(report: QualityReport) -> str:
    """Headline table, warnings, limb segments and per-joint / per-bone details, as HTML.

    The headline rows are :func:`~neuropose.quality.report.summarize_quality`
    without its ``video`` and ``warnings`` entries (the warnings follow as a list).
    """
    headline = summarize_quality(report)[1:-1]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in headline)
    if report.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in report.warnings)
        warn = f'<div class="notice notice-warn"><b>Needs a look:</b><ul>{items}</ul></div>'
    else:
        warn = '<p class="ok">No quality warnings.</p>'
    segments = _grid(
        ("limb segment", "median length (mm)", "length CV"),
        [
            (k, _num(report.segment_length_mm.get(k), 0), _pct(v))
            for k, v in report.segment_length_cv.items()
        ],
    )
    joints = _grid(
        ("joint", "mean confidence", "jitter (mm)", "jitter (px)"),
        [
            (
                j,
                _num(report.mean_confidence.get(j)),
                _num(report.jitter_mm.get(j), 1),
                _num(report.jitter_px.get(j), 1),
            )
            for j in report.mean_confidence
        ],
    )
    bones = _grid(
        ("skeleton edge", "median length (mm)", "length CV"),
        [
            (b, _num(report.bone_length_mm.get(b), 0), _pct(v))
            for b, v in report.bone_length_cv.items()
        ],
    )
    missing = ", ".join(f"{s}–{t}" for s, t in report.subject_missing_ranges[:50]) or "none"
    return (
        f'<table class="kv">{rows}</table>{warn}'
        f"<h4>Limb segments</h4>{segments}"
        f"<details><summary>Frames without the subject, joints and every skeleton edge"
        f"</summary><p>Frames without the subject: {_e(missing)}</p>{joints}"
        "<p>Edges other than the limb segments (face, hands, feet, trunk) are listed "
        f"for reference; they do not enter the headline or the warnings.</p>{bones}</details>"
    )


def render_quality_html(report: QualityReport) -> str:
    """Self-contained HTML page of a report (no scripts, no external resources)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Quality report: {_e(report.video)}</title>
<style>{_PAGE_STYLE}</style></head><body>
<h1>Quality report: {_e(report.video)}</h1>
<p>Job {_e(report.job_id)}, model {_e(report.model_name)}, skeleton {_e(report.skeleton)},
{report.n_frames} frames at {_e(_num(report.frame_rate_hz))} Hz;
made {_e(report.created_at)} by NeuroPose {_e(report.neuropose_version)}.</p>
{render_quality_fragment(report)}
</body></html>
"""
