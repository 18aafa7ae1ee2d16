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
from neuropose.visualize.overlay import FrameRange, nominal_fps
from neuropose.visualize.video import VideoWriter

__all__ = ["AZIMUTH_DEG", "ELEVATION_DEG", "MAX_FPS_3D", "render_3d", "to_display"]

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
    finite = disp[present][np.all(np.isfinite(disp[present]), axis=-1)]
    centre = np.median(finite, axis=0)
    half = float(np.max(np.abs(finite - centre))) * 1.05 or 1.0

    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    ax.view_init(elev=ELEVATION_DEG, azim=AZIMUTH_DEG)
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("x lateral (mm)")
    ax.set_ylabel("depth (mm)")
    ax.set_zlabel("up (mm)")
    lines = [ax.plot([], [], [], color="tab:blue", lw=2)[0] for _ in vp.skeleton.edges]
    (dots,) = ax.plot([], [], [], "o", color="tab:red", ms=3)
    title = ax.set_title("")

    def draw(p: int) -> np.ndarray:
        pts = disp[p]
        for line, (a, b) in zip(lines, vp.skeleton.edges, strict=True):
            seg = pts[[a, b]]
            if np.all(np.isfinite(seg)):
                line.set_data_3d(seg[:, 0], seg[:, 1], seg[:, 2])
            else:
                line.set_data_3d([], [], [])
        ok = np.all(np.isfinite(pts), axis=-1)
        dots.set_data_3d(pts[ok, 0], pts[ok, 1], pts[ok, 2])
        title.set_text(
            f"{vp.video}  t = {float(vp.timestamp_s[p]):.2f} s  (elev {ELEVATION_DEG:g}°, "
            f"azim {AZIMUTH_DEG:g}°)"
        )
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        return np.ascontiguousarray(rgba[..., 2::-1])  # RGBA -> BGR

    if out_path.suffix.lower() == ".png":
        counts = np.where(present, np.sum(np.all(np.isfinite(poses), axis=-1), axis=-1), -1)
        from neuropose.visualize.overlay import _write_png

        _write_png(out_path, draw(int(np.argmax(counts))))
        return 1

    fps = nominal_fps(vp)
    stride = max(1, int(np.ceil(fps / MAX_FPS_3D)))
    positions = np.nonzero(sel)[0][::stride]
    first = draw(int(positions[0]))
    h, w = first.shape[:2]
    done = 0
    with VideoWriter(out_path, (w, h), fps / stride) as writer:
        for p in positions.tolist():
            if rows[p] >= 0:
                img = draw(p)
            else:
                for line in lines:
                    line.set_data_3d([], [], [])
                dots.set_data_3d([], [], [])
                title.set_text(f"{vp.video}  t = {float(vp.timestamp_s[p]):.2f} s  subject missing")
                canvas.draw()
                img = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., 2::-1])
            writer.write(img)
            done += 1
            if progress is not None:
                progress(done, len(positions))
    return done
