"""Per-camera reprojection summary of a triangulated trial: one table for every reader.

``neuropose status JOB``, ``neuropose visualize``, the dashboard's job page
and the reprojection overlay's banner all show these figures, computed here
once from a stored :class:`~neuropose.schemas.triangulation.Triangulation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuropose.schemas.triangulation import Triangulation

__all__ = [
    "SUMMARY_HEADERS",
    "ViewSummary",
    "names_camera",
    "summary_line",
    "summary_row",
    "view_summaries",
]

#: Column titles of :func:`summary_row`, in order.
SUMMARY_HEADERS = (
    "camera",
    "video",
    "median px",
    "p95 px",
    "swaps",
    "frames used",
    "keypoints used",
    "offset",
)


@dataclass(frozen=True)
class ViewSummary:
    """Reprojection figures of one view of a triangulated trial.

    Attributes
    ----------
    camera, video : str
    median_px : float or None
        The triangulation's own median reprojection error of this view
        (``ViewLink.median_reprojection_px``), pixels of that video.
    p95_px : float or None
        95th percentile of the stored per-joint reprojection errors (px);
        ``None`` when the view has no keypoint with a 3D point.
    swaps : int
        Frames whose left/right labels were exchanged in this view.
    frames_used, frames : int
        Reference frames where the consensus used at least one of this
        view's keypoints, and the trial's frame count.
    inlier_rate : float or None
        Fraction of its keypoints with a 3D point that the consensus used.
    offset_frames : int
        This view's frame ``f + offset`` is the reference's frame ``f``.
    offset_source : str
        ``reference``, ``none``, ``user`` or ``estimated``.
    suspect : bool
        A warning of the triangulation names this camera (wrong calibration,
        looking away, unidentifiable offset, no keypoint).
    """

    camera: str
    video: str
    median_px: float | None
    p95_px: float | None
    swaps: int
    frames_used: int
    frames: int
    inlier_rate: float | None
    offset_frames: int
    offset_source: str
    suspect: bool


def names_camera(warning: str, camera: str) -> bool:
    """Whether a triangulation warning names ``camera`` (as a whole word).

    Examples
    --------
    >>> names_camera("camera cam3 disagrees with the others: ...", "cam3")
    True
    >>> names_camera("cameras cam1 and cam12 disagree", "cam2")
    False
    """
    words = warning.replace(":", " ").replace(",", " ").split()
    return camera in words


def view_summaries(tri: Triangulation) -> list[ViewSummary]:
    """One :class:`ViewSummary` per view, in view order.

    ``p95_px`` and ``frames_used`` are computed from the stored arrays
    (``reprojection_px``, ``used``); the median is the stored figure, so it
    reads the same as ``results.json`` and the status entry.
    """
    err = np.asarray(tri.reprojection_px, dtype=np.float64)
    used = np.asarray(tri.used, dtype=bool)
    out = []
    for v, link in enumerate(tri.views):
        e = err[..., v]
        e = e[np.isfinite(e)]
        out.append(
            ViewSummary(
                camera=link.camera,
                video=link.video,
                median_px=link.median_reprojection_px,
                p95_px=float(np.percentile(e, 95)) if e.size else None,
                swaps=link.swaps,
                frames_used=int(np.any(used[..., v], axis=1).sum()),
                frames=int(used.shape[0]),
                inlier_rate=link.inlier_rate,
                offset_frames=link.offset_frames,
                offset_source=link.offset_source,
                suspect=any(names_camera(w, link.camera) for w in tri.warnings),
            )
        )
    return out


def _px(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def summary_row(s: ViewSummary) -> tuple[str, ...]:
    """The strings of one view under :data:`SUMMARY_HEADERS` (the same on every page).

    Examples
    --------
    >>> summary_row(ViewSummary("cam02", "cam02.mp4", 3.84, 10.4, 31, 97, 100, 0.93, 0,
    ...                         "estimated", False))
    ('cam02', 'cam02.mp4', '3.8', '10.4', '31', '97 / 100', '93%', '+0 (estimated)')
    """
    rate = "n/a" if s.inlier_rate is None else f"{100 * s.inlier_rate:.0f}%"
    return (
        s.camera,
        s.video,
        _px(s.median_px),
        _px(s.p95_px),
        str(s.swaps),
        f"{s.frames_used} / {s.frames}",
        rate,
        f"{s.offset_frames:+d} ({s.offset_source})",
    )


def summary_line(s: ViewSummary) -> str:
    """One view as a line of text (terminal output, any width); ``!`` marks a flagged camera.

    Examples
    --------
    >>> print(summary_line(ViewSummary("cam03", "cam03.mp4", 63.0, 112.5, 5, 5, 12, 0.13, 0,
    ...                                "none", True)))  # doctest: +NORMALIZE_WHITESPACE
    cam03 ! (cam03.mp4): median 63.0 px, p95 112.5 px, swaps 5, frames used 5 / 12,
    keypoints used 13%, offset +0 (none)
    """
    r = dict(zip(SUMMARY_HEADERS, summary_row(s), strict=True))
    flag = " !" if s.suspect else ""
    return (
        f"{s.camera}{flag} ({s.video}): median {r['median px']} px, p95 {r['p95 px']} px, "
        f"swaps {r['swaps']}, frames used {r['frames used']}, keypoints used "
        f"{r['keypoints used']}, offset {r['offset']}"
    )
