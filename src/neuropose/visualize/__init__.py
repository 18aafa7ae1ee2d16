"""Visual outputs of NeuroPose results: overlay video, 3D view, plots (+ the quality report).

See :mod:`neuropose.visualize.pipeline` for the on-disk layout written by
``neuropose visualize`` and the submodules for drawing conventions:
:mod:`~neuropose.visualize.overlay` (2D drawing, colours by confidence,
upright frames of the source video),
:mod:`~neuropose.visualize.view3d` (fixed viewpoint, equal axes; the world-frame
view of a triangulated trial with floor and cameras),
:mod:`~neuropose.visualize.reprojection` (per view of a multi-view trial, the
model's 2D keypoints vs the triangulated 3D reprojected) and
:mod:`~neuropose.visualize.plots` (PNG/SVG with segments marked); videos are
written with :mod:`neuropose.video.writer` (H.264).
The quality report it writes comes from :mod:`neuropose.quality`.
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
from neuropose.visualize.reprojection import render_reprojection
from neuropose.visualize.view3d import render_3d, render_world_3d

__all__ = [
    "VisualizeOptions",
    "VisualizeResult",
    "confidence_colour",
    "draw_frame",
    "find_video",
    "iter_upright_frames",
    "parse_frame_range",
    "plot_angles",
    "plot_confidence",
    "render_3d",
    "render_overlay",
    "render_reprojection",
    "render_world_3d",
    "visualize_results",
]
