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
from typing import Any

import numpy as np

from neuropose.errors import InputError
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.skeleton import Skeleton
from neuropose.schemas.triangulation import Triangulation
from neuropose.video.writer import VideoWriter
from neuropose.visualize.overlay import FrameRange, nominal_fps, write_png
from neuropose.visualize.sides import LEFT_HEX, RIGHT_HEX, edge_sides

#: Colour of centre bones (trunk, head) in the 3D view; left/right: :mod:`~.sides`.
CENTRE_HEX = "#555555"
#: Floor of the world-frame view (the plane through the origin normal to the up axis).
FLOOR_HEX = "#D8C8A0"
#: Camera markers and optical axes of the world-frame view.
CAMERA_HEX = "#7A1F5C"

__all__ = [
    "AZIMUTH_DEG",
    "CAMERA_HEX",
    "ELEVATION_DEG",
    "FLOOR_HEX",
    "MAX_FPS_3D",
    "SkeletonAxes",
    "WorldView",
    "box_limits",
    "cube_limits",
    "render_3d",
    "render_world_3d",
    "to_display",
    "world_to_display",
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


class SkeletonAxes:
    """One 3D axes of a clip: fixed view, equal-scale cube, side-coloured bones drawn by blitting.

    Static content (limits, labels, the floor, the cameras) is drawn once with
    the figure; :meth:`draw_pose` draws only the skeleton of one frame.

    Parameters
    ----------
    fig : matplotlib Figure
    spec : int or SubplotSpec
        Where the axes go (``111`` for a single panel).
    skeleton : Skeleton
        Edges and joint names (sides).
    lo, hi : ndarray, shape (3,)
        Display box; its sides are drawn with one scale for every axis
        (the box's aspect is its extent), e.g. the cube of :func:`cube_limits`.
    labels : 3 str
        Axis labels.
    """

    def __init__(
        self,
        fig: Any,
        spec: Any,
        skeleton: Skeleton,
        lo: np.ndarray,
        hi: np.ndarray,
        labels: tuple[str, str, str],
    ) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.add_subplot(spec, projection="3d")
        ax.view_init(elev=ELEVATION_DEG, azim=AZIMUTH_DEG)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(lo[2], hi[2])
        ax.set_box_aspect(tuple(float(x) for x in np.asarray(hi) - np.asarray(lo)))
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_major_locator(MaxNLocator(4))
            axis.set_tick_params(labelsize=7)
        ax.set_xlabel(labels[0], fontsize=8)
        ax.set_ylabel(labels[1], fontsize=8)
        ax.set_zlabel(labels[2], fontsize=8)
        self.ax = ax
        self.lo, self.hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        # Bones of one side are one line artist, NaN-separated: each frame draws four artists.
        sides = edge_sides(skeleton)
        all_edges = np.array(skeleton.edges, dtype=np.int64).reshape(-1, 2)
        self.groups = []
        for side, colour in (("left", LEFT_HEX), ("right", RIGHT_HEX), (None, CENTRE_HEX)):
            (line,) = ax.plot([], [], [], color=colour, lw=2.5, animated=True)
            self.groups.append((line, all_edges[np.array([x == side for x in sides], dtype=bool)]))
        (self.dots,) = ax.plot([], [], [], "o", color="#333333", ms=2.5, animated=True)

    def draw_floor(self, height: float = 0.0) -> None:
        """Fill the plane ``display z = height`` across the box's footprint in :data:`FLOOR_HEX`."""
        from mpl_toolkits.mplot3d.art3d import Poly3DCollection

        (x0, y0, _), (x1, y1, _) = self.lo, self.hi
        quad = [[(x0, y0, height), (x1, y0, height), (x1, y1, height), (x0, y1, height)]]
        floor = Poly3DCollection(quad, facecolors=FLOOR_HEX, edgecolors="none", alpha=1.0)
        floor.set_zorder(0)
        self.ax.add_collection3d(floor)

    def draw_cameras(
        self, names: list[str], centres: np.ndarray, axes: np.ndarray, length: float
    ) -> None:
        """Camera centres (triangles, named) and their optical axes (``length`` long)."""
        c = np.asarray(centres)
        self.ax.plot(c[:, 0], c[:, 1], c[:, 2], "^", color=CAMERA_HEX, ms=6)
        for name, p, d in zip(names, c, np.asarray(axes), strict=True):
            q = p + length * d
            self.ax.plot([p[0], q[0]], [p[1], q[1]], [p[2], q[2]], color=CAMERA_HEX, lw=1.5)
            self.ax.text(p[0], p[1], p[2], f" {name}", fontsize=7, color=CAMERA_HEX)

    def draw_pose(self, pts: np.ndarray) -> None:
        """Draw one frame's joints (J, 3) in display coordinates (blitting)."""
        for bones, edges in self.groups:
            if not edges.size:
                continue
            segs = np.full((edges.shape[0], 3, 3), np.nan)
            segs[:, 0], segs[:, 1] = pts[edges[:, 0]], pts[edges[:, 1]]
            flat = segs.reshape(-1, 3)
            bones.set_data_3d(flat[:, 0], flat[:, 1], flat[:, 2])
            self.ax.draw_artist(bones)
        ok = np.all(np.isfinite(pts), axis=-1)
        self.dots.set_data_3d(pts[ok, 0], pts[ok, 1], pts[ok, 2])
        self.ax.draw_artist(self.dots)

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """Display-coordinate points (N, 3) -> pixel (x, y) of the rendered image, y down.

        Valid after the figure was drawn (the view is fixed, so for every frame).
        """
        from mpl_toolkits.mplot3d import proj3d

        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        x, y, _ = proj3d.proj_transform(p[:, 0], p[:, 1], p[:, 2], self.ax.get_proj())
        disp = self.ax.transData.transform(np.column_stack([x, y]))
        height = self.ax.figure.bbox.height
        return np.column_stack([disp[:, 0], height - disp[:, 1]])


def _new_figure(width_px: int, height_px: int) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    return fig, FigureCanvasAgg(fig)


def _bgr(canvas: Any) -> np.ndarray:
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., 2::-1])  # RGBA -> BGR


def _write_clip(
    out_path: Path,
    canvas: Any,
    draw: Callable[[int], np.ndarray],
    positions: np.ndarray,
    fps: float,
    progress: Callable[[int, int], None] | None,
) -> int:
    h, w = np.asarray(canvas.buffer_rgba()).shape[:2]
    done = 0
    with VideoWriter(out_path, (w, h), fps) as writer:
        for p in positions.tolist():
            writer.write(draw(p))
            done += 1
            if progress is not None:
                progress(done, len(positions))
    return done


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
    poses, rows = vp.track()
    sel = _selected(vp.frame_index, frames)
    present = sel & (rows >= 0) & np.any(np.all(np.isfinite(poses), axis=-1), axis=-1)
    if not present.any():
        raise InputError(
            f"{vp.video}: the subject (track {vp.primary_track_id}) has no 3D pose "
            "in the selected frames; nothing to draw in 3D"
        )
    disp = to_display(poses)
    centre, half = cube_limits(disp[present])
    fig, canvas = _new_figure(size_px, size_px)
    scene = SkeletonAxes(
        fig, 111, vp.skeleton, centre - half, centre + half,
        ("x lateral (mm)", "depth (mm)", "up (mm)"),
    )  # fmt: skip
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
        missing = ""
        if rows[p] >= 0:
            scene.draw_pose(disp[p])
        else:
            missing = "  subject missing"
        title.set_text(f"{vp.video}  t = {float(vp.timestamp_s[p]):.2f} s{missing}")
        fig.draw_artist(title)
        return _bgr(canvas)

    if out_path.suffix.lower() == ".png":
        counts = np.where(present, np.sum(np.all(np.isfinite(poses), axis=-1), axis=-1), -1)
        write_png(out_path, draw(int(np.argmax(counts))))
        return 1
    fps = nominal_fps(vp)
    stride = max(1, int(np.ceil(fps / MAX_FPS_3D)))
    return _write_clip(out_path, canvas, draw, np.nonzero(sel)[0][::stride], fps / stride, progress)


def _selected(frame_index: np.ndarray, frames: FrameRange | None) -> np.ndarray:
    fi = np.asarray(frame_index)
    if frames is None:
        return np.ones(fi.shape[0], dtype=bool)
    return (fi >= frames[0]) & (fi < (frames[1] if frames[1] is not None else np.inf))


def box_limits(points: np.ndarray, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box (lo, hi) of the finite points, each side widened by ``margin`` of the
    largest extent (at least 100 mm), for a box drawn with one scale on every axis.

    Examples
    --------
    >>> lo, hi = box_limits(np.array([[0.0, 0.0, 0.0], [1000.0, 200.0, 1800.0]]))
    >>> lo.tolist(), hi.tolist()
    ([-100.0, -100.0, -100.0], [1100.0, 300.0, 1900.0])
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    p = p[np.all(np.isfinite(p), axis=-1)]
    if p.size == 0:
        return np.full(3, -1.0), np.full(3, 1.0)
    lo, hi = p.min(axis=0), p.max(axis=0)
    pad = max(margin * float(np.max(hi - lo)), 100.0)
    return lo - pad, hi + pad


def world_to_display(up_axis: str) -> np.ndarray:
    """Rotation (3, 3) taking world coordinates to display axes with the world's up as +z.

    The display's x is the first world axis not parallel to up, its y completes
    a right-handed frame; a z-up world (Qualisys) is shown as it is.

    Examples
    --------
    >>> world_to_display("+z").tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    >>> (world_to_display("-y") @ np.array([0.0, -1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    up = np.zeros(3)
    up["xyz".index(up_axis[1])] = 1.0 if up_axis[0] == "+" else -1.0
    x = np.eye(3)[0] if abs(up[0]) < 0.5 else np.eye(3)[1]
    y = np.cross(up, x)
    return np.stack([x, y, up]) + 0.0


def _axis_labels(m: np.ndarray) -> tuple[str, str, str]:
    """Which world axis each display axis shows, e.g. ``("x (mm)", "y (mm)", "z up (mm)")``."""
    out = []
    for i, row in enumerate(m):
        k = int(np.argmax(np.abs(row)))
        sign = "" if row[k] > 0 else "−"
        out.append(f"{sign}{'xyz'[k]}{' up' if i == 2 else ''} (mm)")
    return out[0], out[1], out[2]


class WorldView:
    """The world-frame figure of a triangulated trial: two panels sharing the floor.

    Left, *rig*: the cameras (named triangles with their optical axes), the
    floor and the subject, in one box holding all of them. Right, *subject*:
    the subject close up, in the box of its joints over the whole clip and
    their foot points on the floor. Both boxes use one scale on every axis
    (:func:`box_limits`). The floor is the plane
    through the world origin normal to the calibration's up axis (z = 0 in
    Qualisys' z-up world), filled with :data:`FLOOR_HEX`. Axes are the
    world's, in mm (:func:`world_to_display` turns up to the top).

    Parameters
    ----------
    tri : Triangulation
    size_px : (int, int)
        Width and height of the image.
    """

    def __init__(self, tri: Triangulation, size_px: tuple[int, int] = (1280, 640)) -> None:
        self.tri = tri
        self.m = world_to_display(tri.rig.up_axis)
        self.disp = tri.points() @ self.m.T
        ok = np.all(np.isfinite(self.disp), axis=-1)
        if not ok.any():
            raise InputError(
                "the triangulation has no 3D point; nothing to draw in the world frame"
            )
        body = self.disp[ok]
        on_floor = body * np.array([1.0, 1.0, 0.0])
        cams = tri.rig.subset(list(tri.camera_names)).cameras
        centres = np.stack([c.center_mm for c in cams]) @ self.m.T
        axes = np.stack([c.optical_axis for c in cams]) @ self.m.T
        self.fig, self.canvas = _new_figure(*size_px)
        labels = _axis_labels(self.m)
        lo, hi = box_limits(np.concatenate([body, on_floor, centres]))
        self.rig_axes = SkeletonAxes(self.fig, 121, tri.skeleton, lo, hi, labels)
        self.rig_axes.draw_floor()
        length = 0.15 * float(np.max(hi - lo))
        self.rig_axes.draw_cameras([c.name for c in cams], centres, axes, length)
        self.rig_axes.ax.set_title("rig: cameras, floor, subject", fontsize=9)
        lo, hi = box_limits(np.concatenate([body, on_floor]))
        self.subject_axes = SkeletonAxes(self.fig, 122, tri.skeleton, lo, hi, labels)
        self.subject_axes.draw_floor()
        self.subject_axes.ax.set_title("subject on the floor", fontsize=9)
        self.title = self.fig.text(0.5, 0.98, "", ha="center", va="top", fontsize=9, animated=True)
        self.fig.text(
            0.5, 0.01,
            f"world frame of {tri.rig.source_name or 'the calibration'} (mm), floor = plane "
            f"through the origin normal to {tri.rig.up_axis}; view: elevation "
            f"{ELEVATION_DEG:g}°, azimuth {AZIMUTH_DEG:g}°; equal axes",
            ha="center", va="bottom", fontsize=7,
        )  # fmt: skip
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def draw(self, f: int) -> np.ndarray:
        """BGR image of reference frame ``f``."""
        self.canvas.restore_region(self._background)
        pts = self.disp[f]
        if np.any(np.isfinite(pts)):
            self.rig_axes.draw_pose(pts)
            self.subject_axes.draw_pose(pts)
            missing = ""
        else:
            missing = "  no 3D point"
        t = float(self.tri.timestamp_s[f]) if self.tri.timestamp_s.size else 0.0
        self.title.set_text(f"triangulated subject, world frame  t = {t:.2f} s{missing}")
        self.fig.draw_artist(self.title)
        return _bgr(self.canvas)

    def best_frame(self) -> int:
        """Reference frame with the most triangulated joints."""
        return int(np.argmax(np.all(np.isfinite(self.disp), axis=-1).sum(axis=1)))


def render_world_3d(
    tri: Triangulation,
    out_path: Path,
    *,
    frame_index: np.ndarray | None = None,
    frames: FrameRange | None = None,
    fps: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Render the triangulated subject in the world frame (:class:`WorldView`) as MP4 or PNG.

    Parameters
    ----------
    tri : Triangulation
    out_path : Path
        ``.mp4`` clip (at most :data:`MAX_FPS_3D` frames per second of video
        time, like :func:`render_3d`) or ``.png`` (the frame with the most
        triangulated joints).
    frame_index : ndarray, optional
        Decode index of each reference frame (the reference view's), for
        ``frames``; default ``0..F-1``.
    frames : (start, stop), optional
        Decode-index range of the reference video.
    fps : float
        Frame rate of the reference video.
    progress : callable, optional

    Returns
    -------
    int
        Frames rendered.

    Raises
    ------
    InputError
        No triangulated point at all.
    """
    world = WorldView(tri)
    if out_path.suffix.lower() == ".png":
        write_png(out_path, world.draw(world.best_frame()))
        return 1
    n = tri.points_mm.shape[0]
    fi = np.arange(n) if frame_index is None else np.asarray(frame_index)[:n]
    stride = max(1, int(np.ceil(fps / MAX_FPS_3D)))
    positions = np.nonzero(_selected(fi, frames))[0][::stride]
    return _write_clip(out_path, world.canvas, world.draw, positions, fps / stride, progress)
