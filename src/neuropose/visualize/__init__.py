"""Visual outputs of NeuroPose results: overlay video, 3D view, plots, quality report.

See :mod:`neuropose.visualize.pipeline` for the on-disk layout written by
``neuropose visualize`` and the submodules for drawing conventions:
:mod:`~neuropose.visualize.overlay` (2D drawing, colours by confidence),
:mod:`~neuropose.visualize.view3d` (fixed viewpoint, equal axes),
:mod:`~neuropose.visualize.plots` (PNG/SVG with segments marked),
:mod:`~neuropose.visualize.report` (QualityReport, HTML, status summary);
videos are written with :mod:`neuropose.video.writer` (H.264).
Importing this package does not import TensorFlow or matplotlib.
"""

from neuropose.visualize.overlay import (
    confidence_colour,
    draw_frame,
    iter_upright_frames,
    render_overlay,
)
from neuropose.visualize.pipeline import (
    VisualizeOptions,
    VisualizeResult,
    find_video,
    parse_frame_range,
    visualize_results,
)
from neuropose.visualize.plots import plot_angles, plot_confidence
from neuropose.visualize.report import (
    build_quality_report,
    load_quality_reports,
    quality_report_path,
    render_quality_html,
    summarize_quality,
    write_quality_report,
)
from neuropose.visualize.view3d import render_3d

__all__ = [
    "VisualizeOptions",
    "VisualizeResult",
    "build_quality_report",
    "confidence_colour",
    "draw_frame",
    "find_video",
    "iter_upright_frames",
    "load_quality_reports",
    "parse_frame_range",
    "plot_angles",
    "plot_confidence",
    "quality_report_path",
    "render_3d",
    "render_overlay",
    "render_quality_html",
    "summarize_quality",
    "visualize_results",
    "write_quality_report",
]
