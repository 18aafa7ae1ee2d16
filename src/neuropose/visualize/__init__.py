"""Visual outputs of NeuroPose results: overlay video, 3D view, plots (+ the quality report).

See :mod:`neuropose.visualize.pipeline` for the on-disk layout written by
``neuropose visualize`` and the submodules for drawing conventions:
:mod:`~neuropose.visualize.overlay` (2D drawing, colours by confidence),
:mod:`~neuropose.visualize.view3d` (fixed viewpoint, equal axes),
:mod:`~neuropose.visualize.plots` (PNG/SVG with segments marked) and
:mod:`~neuropose.visualize.video` (H.264 writer, upright frames).
The quality report it writes comes from :mod:`neuropose.quality`.
Importing this package does not import TensorFlow or matplotlib.
"""

from neuropose.visualize.overlay import confidence_colour, draw_frame, render_overlay
from neuropose.visualize.pipeline import (
    VisualizeOptions,
    VisualizeResult,
    find_video,
    parse_frame_range,
    visualize_results,
)
from neuropose.visualize.plots import plot_angles, plot_confidence
from neuropose.visualize.video import VideoWriter, find_ffmpeg, iter_upright_frames
from neuropose.visualize.view3d import render_3d

__all__ = [
    "VideoWriter",
    "VisualizeOptions",
    "VisualizeResult",
    "confidence_colour",
    "draw_frame",
    "find_ffmpeg",
    "find_video",
    "iter_upright_frames",
    "parse_frame_range",
    "plot_angles",
    "plot_confidence",
    "render_3d",
    "render_overlay",
    "visualize_results",
]
