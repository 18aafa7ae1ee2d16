"""3D skeleton clip from a fixed, documented viewpoint with equal axis scales.

Coordinates and viewpoint
-------------------------
``poses3d`` are millimetres in the camera frame (x right, y down, z forward,
root-relative for BlazePose). For display they are mapped to a right-handed
world with the vertical pointing up: plot X = camera x (subject's lateral
axis as seen by the camera), plot Y = camera z (depth, away from the camera),
plot Z = −camera y (up). The view is fixed for the whole clip: elevation
:data:`ELEVATION_DEG` = 15° above the horizontal plane and azimuth
:data:`AZIMUTH_DEG` = −60° (matplotlib's convention: seen from the front-left
of the camera). The three axes share one scale (a cube of side
``2 × half_range`` mm centred on the subject's median position over the
whole clip, where ``half_range`` covers every joint of every frame), so
lengths are comparable in every direction and the box does not move.

The clip shows the subject's track only, at ``min(fps, 15)`` frames per
second of video time (every k-th frame, so its duration equals the input's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuropose.errors import InputError
from neuropose.schemas.predictions import VideoPredictions
from neuropose.video.writer import VideoWriter
from neuropose.visualize.overlay import FrameRange, nominal_fps, write_png
from neuropose.visualize.sides import LEFT_HEX, RIGHT_HEX, edge_sides

#: Colour of centre bones (trunk, head) in the 3D view; left/right: :mod:`~.sides`.
CENTRE_HEX = "#555555"

__all__ = [
    "AZIMUTH_DEG",
    "ELEVATION_DEG",
    "MAX_FPS_3D",
    "cube_limits",
    "render_3d",
    "to_display",
]

ELEVATION_DEG = 15.0
AZIMUTH_DEG = -60.0
MAX_FPS_3D = 15.0


def to_display(poses_cam: np.ndarray) -> np.ndarray:
    """Map camera-frame points (x right, y down, z forward) to display axes (x, z, −y).

    Examples
    --------
    >>> to_display(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[1.0, 3.0, -2.0]]
    """
    p = np.asarray(poses_cam, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def cube_limits(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and half side (same unit) of the display cube holding every finite point.

    The centre is the median of the points, the half side 5 % more than the
    largest absolute deviation along any axis, so all three axes share one
    scale.

    Examples
    --------
    >>> c, h = cube_limits(np.array([[0.0, 0.0, 0.0], [100.0, 10.0, 0.0], [50.0, 0.0, 0.0]]))
    >>> c.tolist(), round(h, 1)
    ([50.0, 0.0, 0.0], 52.5)
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    p = p[np.all(np.isfinite(p), axis=-1)]
    if p.size == 0:
        return np.zeros(3), 1.0
    centre = np.median(p, axis=0)
    half = float(np.max(np.abs(p - centre))) * 1.05
    return centre, half if half > 0 else 1.0


def render_3d(
    vp: VideoPredictions,
    out_path: Path,
    *,
    frames: FrameRange | None = None,
    size_px: int = 640,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Render the subject's 3D skeleton as an MP4 clip (or a PNG for one frame).

    Parameters
    ----------
    vp : VideoPredictions
        Predictions; the subject is ``vp.primary_track_id``.
    out_path : Path
        ``.mp4`` for a clip; ``.png`` renders the single frame with the most
        joints visible.
    frames : (start, stop), optional
        Decode-index range.
    size_px : int
        Width and height of the square output.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    int
        Frames rendered.

    Raises
    ------
    InputError
        The subject has no 3D pose in the selected frames.
    """

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    poses, rows = vp.track()
    sel = np.ones(vp.num_frames, dtype=bool)
    if frames is not None:
        fi = vp.frame_index
        sel = (fi >= frames[0]) & (fi < (frames[1] if frames[1] is not None else np.inf))
    present = sel & (rows >= 0) & np.any(np.all(np.isfinite(poses), axis=-1), axis=-1)
    if not present.any():
        raise InputError(
            f"{vp.video}: the subject (track {vp.primary_track_id}) has no 3D pose "
            "in the selected frames; nothing to draw in 3D"
        )
    disp = to_display(poses)
    centre, half = cube_limits(disp[present])

    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    ax.view_init(elev=ELEVATION_DEG, azim=AZIMUTH_DEG)
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
        axis.set_tick_params(labelsize=7)
    ax.set_xlabel("x lateral (mm)")
    ax.set_ylabel("depth (mm)")
    ax.set_zlabel("up (mm)")
    # Bones of one side are one line artist, NaN-separated: each frame draws four artists.
    sides = edge_sides(vp.skeleton)
    all_edges = np.array(vp.skeleton.edges, dtype=np.int64).reshape(-1, 2)
    groups = []
    for side, colour in (("left", LEFT_HEX), ("right", RIGHT_HEX), (None, CENTRE_HEX)):
        (line,) = ax.plot([], [], [], color=colour, lw=2.5, animated=True)
        groups.append((line, all_edges[np.array([s == side for s in sides], dtype=bool)]))
    (dots,) = ax.plot([], [], [], "o", color="#333333", ms=2.5, animated=True)
    title = fig.text(0.5, 0.97, "", ha="center", va="top", fontsize=8, animated=True)
    fig.text(
        0.5, 0.01, f"view: elevation {ELEVATION_DEG:g}°, azimuth {AZIMUTH_DEG:g}°; equal axes",
        ha="center", va="bottom", fontsize=7,
    )  # fmt: skip
    # The view never changes: draw the axes once and blit only the skeleton.
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)

    def draw(p: int) -> np.ndarray:
        canvas.restore_region(background)
        pts = disp[p]
        if rows[p] >= 0:
            for bones, edges in groups:
                if not edges.size:
                    continue
                segs = np.full((edges.shape[0], 3, 3), np.nan)
                segs[:, 0], segs[:, 1] = pts[edges[:, 0]], pts[edges[:, 1]]
                flat = segs.reshape(-1, 3)
                bones.set_data_3d(flat[:, 0], flat[:, 1], flat[:, 2])
                ax.draw_artist(bones)
            ok = np.all(np.isfinite(pts), axis=-1)
            dots.set_data_3d(pts[ok, 0], pts[ok, 1], pts[ok, 2])
            ax.draw_artist(dots)
            title.set_text(f"{vp.video}  t = {float(vp.timestamp_s[p]):.2f} s")
        else:
            title.set_text(f"{vp.video}  t = {float(vp.timestamp_s[p]):.2f} s  subject missing")
        fig.draw_artist(title)
        rgba = np.asarray(canvas.buffer_rgba())
        return np.ascontiguousarray(rgba[..., 2::-1])  # RGBA -> BGR

    if out_path.suffix.lower() == ".png":
        counts = np.where(present, np.sum(np.all(np.isfinite(poses), axis=-1), axis=-1), -1)
        write_png(out_path, draw(int(np.argmax(counts))))
        return 1

    fps = nominal_fps(vp)
    stride = max(1, int(np.ceil(fps / MAX_FPS_3D)))
    positions = np.nonzero(sel)[0][::stride]
    h, w = np.asarray(canvas.buffer_rgba()).shape[:2]
    done = 0
    with VideoWriter(out_path, (w, h), fps / stride) as writer:
        for p in positions.tolist():
            writer.write(draw(p))
            done += 1
            if progress is not None:
                progress(done, len(positions))
    return done
