"""Per view of a triangulated trial: the model's 2D keypoints vs the 3D reprojected, on the frame.

What is drawn (BGR colours)
---------------------------
* **Reprojected 3D** (the triangulated world-frame point projected into this
  camera with its calibrated lens distortion, :meth:`RigCamera.project`):
  thin white bones and a white ring at each joint.
* **Detected 2D** (the model's own keypoints of the subject in this video,
  as the triangulation compared them: before monocular refinement, with
  this view's left/right relabelling applied when the triangulation found a
  swap): a filled disc joined to its reprojected ring by a line, both in the
  **error colour** of the joint, :func:`error_colour` — green at 0 px,
  yellow at half the reprojection gate, red at the gate (20 px by default)
  and beyond. Detected keypoints that have no 3D point (low confidence, or
  too few views agree) are small grey discs.
* A banner: camera, video, time and frame; this frame's median error and
  the view's median / 95th percentile; ``L/R relabelled`` on swapped frames;
  ``CAMERA FLAGGED`` in red when a triangulation warning names the camera.

A wrong calibration shows at a glance: long red lines in that camera's
video, short green ones in the others. Frames are matched as the
triangulation matched them: this video's frame ``f + offset_frames`` is the
reference's frame ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from neuropose.multiview.geometry import mirror_permutation
from neuropose.multiview.summary import ViewSummary, view_summaries
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.triangulation import Triangulation
from neuropose.visualize.overlay import (
    SECONDARY_BGR,
    FrameRange,
    confidence_colour,
    render_frames,
)

__all__ = [
    "RING_BGR",
    "ViewReprojection",
    "error_colour",
    "render_reprojection",
]

#: Colour of the reprojected 3D skeleton (bones and rings).
RING_BGR = (255, 255, 255)
#: Colour of the "camera flagged" banner line.
FLAG_BGR = (0, 0, 255)


def error_colour(error_px: float, gate_px: float = 20.0) -> tuple[int, int, int]:
    """BGR colour of a reprojection error: green at 0, yellow at ``gate/2``, red from ``gate``.

    Examples
    --------
    >>> error_colour(0.0), error_colour(10.0), error_colour(35.0)
    ((0, 255, 0), (0, 255, 255), (0, 0, 255))
    """
    return confidence_colour(1.0 - min(1.0, max(0.0, float(error_px)) / gate_px))


class ViewReprojection:
    """Detected and reprojected keypoints of one view, per frame of that video.

    Parameters
    ----------
    vp : VideoPredictions
        The view's predictions (``vp.video`` is one of ``tri.views``).
    tri : Triangulation
        The trial's triangulation.

    Attributes
    ----------
    view : int
        Index of the view in ``tri.views``.
    detected : ndarray, shape (P, J, 2)
        Per position of ``vp.frame_index``, the subject's 2D keypoints (px)
        as the triangulation compared them (raw model output, swap applied);
        NaN where absent.
    reprojected : ndarray, shape (P, J, 2)
        The triangulated point projected into this camera (distorted px);
        NaN where there is no 3D point or the frame is outside the trial.
    error_px : ndarray, shape (P, J)
        Distance between the two (px); NaN unless the triangulation stored an
        error for that joint (a confident keypoint with a 3D point).
    swapped : ndarray, shape (P,), bool
    summary : ViewSummary
    """

    def __init__(self, vp: VideoPredictions, tri: Triangulation) -> None:
        videos = [v.video for v in tri.views]
        if vp.video not in videos:
            raise ValueError(f"{vp.video} is not a view of this triangulation ({videos})")
        v = videos.index(vp.video)
        link = tri.views[v]
        self.view = v
        self.camera = tri.rig.camera(link.camera)
        self.summary: ViewSummary = view_summaries(tri)[v]
        self.gate_px = float(tri.options.get("gate_px") or 20.0)
        n_pos, n_ref, j = vp.num_frames, tri.points_mm.shape[0], len(tri.skeleton.joints)
        ref = np.arange(n_pos) - link.offset_frames  # reference frame of each position
        inside = (ref >= 0) & (ref < n_ref)
        r = np.where(inside, ref, 0)
        proj = self.camera.project(tri.points().reshape(-1, 3)).reshape(n_ref, j, 2)
        self.reprojected = np.where(inside[:, None, None], proj[r], np.nan)
        self.swapped = inside & np.asarray(tri.swapped[r, v], dtype=bool)
        stored = np.where(inside[:, None], np.asarray(tri.reprojection_px)[r, :, v], np.nan)
        self.detected = self._subject_2d(vp, link.reassigned_frames > 0)
        perm = mirror_permutation(tri.skeleton.joints)
        self.detected[self.swapped] = self.detected[self.swapped][:, perm]
        dist = np.linalg.norm(self.detected - self.reprojected, axis=-1)
        self.error_px = np.where(np.isfinite(stored), dist, np.nan)
        self._ref = np.where(inside, ref, -1)

    def _subject_2d(self, vp: VideoPredictions, reassigned: bool) -> np.ndarray:
        """The subject's raw 2D per position: primary track, or the detection nearest the 3D.

        Raw = before monocular refinement, as :mod:`neuropose.multiview.trial`
        reads it. When the triangulation took the subject from another track
        in some frames (``reassigned_frames``), each frame's detection nearest
        the reprojected 3D (either labelling) is the one it used.
        """
        px = np.asarray(vp.poses2d if vp.poses2d_raw is None else vp.poses2d_raw, np.float64)
        j = px.shape[1]
        out = np.full((vp.num_frames, j, 2), np.nan)
        _, rows = vp.track()
        have = rows >= 0
        out[have] = px[rows[have]]
        if not reassigned:
            return out
        perm = None
        for p in range(vp.num_frames):
            lo, hi = np.searchsorted(vp.det_frame, [p, p + 1])
            if hi - lo < 2 or not np.any(np.isfinite(self.reprojected[p])):
                continue
            if perm is None:
                perm = mirror_permutation(vp.skeleton.joints)
            cand = px[lo:hi]
            d = np.minimum(
                np.nanmedian(np.linalg.norm(cand - self.reprojected[p], axis=-1), axis=1),
                np.nanmedian(np.linalg.norm(cand[:, perm] - self.reprojected[p], axis=-1), axis=1),
            )
            if np.any(np.isfinite(d)):
                out[p] = cand[int(np.nanargmin(d))]
        return out

    def frame_median(self, position: int) -> float:
        """Median error (px) of one frame's joints; NaN when none has an error."""
        e = self.error_px[position]
        e = e[np.isfinite(e)]
        return float(np.median(e)) if e.size else float("nan")

    def preview_position(self, tri: Triangulation) -> int | None:
        """Position of the reference frame with the most triangulated joints (the same
        moment in every view's preview); the view's first frame inside the trial when
        nothing was triangulated (its keypoints then show grey, the banner says why)."""
        counts = np.all(np.isfinite(tri.points()), axis=-1).sum(axis=1)
        best = int(np.argmax(counts)) if counts.size and counts.max() > 0 else None
        hits = np.nonzero(self._ref == best if best is not None else self._ref >= 0)[0]
        return int(hits[0]) if hits.size else None

    def draw(
        self, frame: np.ndarray, vp: VideoPredictions, position: int | None, decode_index: int
    ) -> np.ndarray:
        """Draw one frame (see the module docstring) in place and return it."""
        s = max(1, round(min(frame.shape[:2]) / 360))
        lines = [f"{self.camera.name} ({vp.video})  frame {decode_index + 1}/{vp.num_frames}"]
        if position is not None:
            lines[0] = (
                f"{self.camera.name} ({vp.video})  t = {float(vp.timestamp_s[position]):.3f} s  "
                f"frame {decode_index + 1}/{vp.num_frames}"
            )
            self._draw_points(frame, position, s, vp)
            fm = self.frame_median(position)
            here = "no 3D point" if not np.isfinite(fm) else f"{fm:.1f} px"
            lines.append(f"reprojection here {here}; {self._view_figures()}")
            if self.swapped[position]:
                lines.append("L/R relabelled in this frame (swap)")
        else:
            lines.append(f"no prediction; {self._view_figures()}")
        flagged = self.summary.suspect
        if flagged:
            lines.append("CAMERA FLAGGED: see the trial's warnings")
        _banner(frame, lines, s, flag_last=flagged)
        _legend(frame, s, self.gate_px)
        return frame

    def _view_figures(self) -> str:
        m, p = self.summary.median_px, self.summary.p95_px
        med = "n/a" if m is None else f"{m:.1f}"
        p95 = "n/a" if p is None else f"{p:.1f}"
        return f"view median {med} px, p95 {p95} px"

    def _draw_points(self, frame: np.ndarray, p: int, s: int, vp: VideoPredictions) -> None:
        rep, det, err = self.reprojected[p], self.detected[p], self.error_px[p]
        rep_ok = np.all(np.isfinite(rep), axis=1)
        det_ok = np.all(np.isfinite(det), axis=1)
        rp = np.rint(np.nan_to_num(rep)).astype(np.int64)
        dp = np.rint(np.nan_to_num(det)).astype(np.int64)
        for a, b in vp.skeleton.edges:
            if rep_ok[a] and rep_ok[b]:
                cv2.line(frame, _pt(rp[a]), _pt(rp[b]), RING_BGR, s, cv2.LINE_AA)
        for j in np.nonzero(det_ok & ~np.isfinite(err))[0].tolist():
            cv2.circle(frame, _pt(dp[j]), 2 * s, SECONDARY_BGR, -1, cv2.LINE_AA)
        # largest errors last, so a bad joint is never hidden under good ones
        for j in np.argsort(np.where(np.isfinite(err), err, -1.0)).tolist():
            if not np.isfinite(err[j]):
                continue
            col = error_colour(float(err[j]), self.gate_px)
            cv2.line(frame, _pt(dp[j]), _pt(rp[j]), col, s, cv2.LINE_AA)
            cv2.circle(frame, _pt(dp[j]), 3 * s, col, -1, cv2.LINE_AA)
        for j in np.nonzero(rep_ok)[0].tolist():
            cv2.circle(frame, _pt(rp[j]), 3 * s, RING_BGR, max(1, s), cv2.LINE_AA)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(p[0]), int(p[1])


def _banner(frame: np.ndarray, lines: list[str], s: int, *, flag_last: bool) -> None:
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.45 * s
    sizes = [cv2.getTextSize(t, font, scale, s) for t in lines]
    step = max(th + base for (_, th), base in sizes) + 4 * s
    width = max(tw for (tw, _), _ in sizes) + 8 * s
    cv2.rectangle(frame, (0, 0), (width, step * len(lines) + 4 * s), (0, 0, 0), -1)
    for i, text in enumerate(lines):
        colour = FLAG_BGR if flag_last and i == len(lines) - 1 else (255, 255, 255)
        y = step * (i + 1)
        cv2.putText(frame, text, (4 * s, y), font, scale, colour, s, cv2.LINE_AA)


def _legend(frame: np.ndarray, s: int, gate_px: float) -> None:
    text = f"disc: detected 2D  ring: 3D reprojected  green 0 .. red >= {gate_px:g} px"
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.4 * s
    (tw, th), base = cv2.getTextSize(text, font, scale, s)
    h = frame.shape[0]
    cv2.rectangle(frame, (0, h - th - base - 8 * s), (tw + 8 * s, h), (0, 0, 0), -1)
    cv2.putText(frame, text, (4 * s, h - base - 4 * s), font, scale, (255, 255, 255), s,
                cv2.LINE_AA)  # fmt: skip


def render_reprojection(
    vp: VideoPredictions,
    tri: Triangulation,
    out_path: Path,
    *,
    video: Path | None = None,
    frames: FrameRange | None = None,
    progress: Callable[[int, int], None] | None = None,
    preview_path: Path | None = None,
    preset: str = "ultrafast",
) -> int:
    """Render one view's reprojection check as an MP4 (and a PNG preview).

    Parameters
    ----------
    vp : VideoPredictions
        The view's predictions.
    tri : Triangulation
        The trial's triangulation (holds the fitted rig).
    out_path : Path
        Destination ``.mp4`` (atomic).
    video : Path, optional
        The original video (checked by the caller); without it the drawing
        is on a neutral grey canvas, no pixel of the video is read.
    frames : (start, stop), optional
        Decode-index range.
    progress : callable, optional
        ``progress(done, total)``.
    preview_path : Path, optional
        PNG of the reference frame with the most triangulated joints (the
        same moment in every view).
    preset : str
        x264 preset.

    Returns
    -------
    int
        Frames written.

    Raises
    ------
    InputError
        Undecodable video, wrong frame size, or no frame in ``frames``.
    """
    data = ViewReprojection(vp, tri)
    preview = None
    if preview_path is not None:
        preview = (preview_path, data.preview_position(tri))
    return render_frames(
        vp,
        out_path,
        lambda frame, p, index: data.draw(frame, vp, p, index),
        video=video,
        frames=frames,
        progress=progress,
        preview=preview,
        preset=preset,
    )
