"""Stable track ids across frames, and choice of the primary subject.

Matching
--------
Each frame's detections are matched to live tracks by the Hungarian
algorithm (:func:`scipy.optimize.linear_sum_assignment`) on the cost
``1 - IoU`` between the detection's box and the track's predicted box: its
last box moved at constant velocity (the centre displacement between its
last two detections, per frame) for the frames since it was last seen, so
two people crossing keep their ids. A pair is
accepted when IoU ≥ ``min_iou`` (0.1). A pair with no useful overlap is still
accepted, at cost ``1 + d / diag``, when the box centres are closer than the
track box's diagonal ``diag`` (fast motion at low frame rate). Unmatched
detections start new tracks with ids 0, 1, 2, ... in order of appearance
(within a frame: in the order the detections are given, i.e. by score).
A track not matched for more than ``max_unseen_frames`` frames ends and its
id is never reused. Tracking runs on raw detections, before any smoothing.

Subject rules
-------------
``largest``: largest mean box area (w·h) over the track's detections;
``most_central``: smallest mean distance of the box centre from the image
centre, in units of the image diagonal; ``longest_track``: most detections;
an integer: that track id (must exist). Ties go to the lowest track id.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from neuropose.errors import InputError
from neuropose.schemas import TrackerState, TrackState

__all__ = ["Tracker", "box_iou", "select_subject"]

_REJECT = 1e6


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of boxes ``a`` (N, ≥4) and ``b`` (M, ≥4) given as x, y, w, h.

    Examples
    --------
    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 2, 2], [5, 5, 1, 1]])).round(3)
    array([[0.333, 0.   ]])
    """
    a = np.asarray(a, np.float64)[:, :4]
    b = np.asarray(b, np.float64)[:, :4]
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(
        np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0:1], b[None, :, 0]), 0, None
    )
    ih = np.clip(
        np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1:2], b[None, :, 1]), 0, None
    )
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


class Tracker:
    """Hungarian box tracker (see the module docstring).

    Parameters
    ----------
    max_unseen_frames : int
        Frames a track may go unmatched before it ends.
    min_iou : float
        Smallest IoU accepted as a match by overlap.
    state : TrackerState, optional
        State to continue from (a checkpoint's ``tracker``).

    Examples
    --------
    >>> t = Tracker(max_unseen_frames=1)
    >>> t.update(0, np.array([[0, 0, 10, 10, 1.0], [50, 0, 10, 10, 1.0]])).tolist()
    [0, 1]
    >>> t.update(1, np.array([[52, 0, 10, 10, 1.0], [1, 0, 10, 10, 1.0]])).tolist()
    [1, 0]
    """

    def __init__(
        self, max_unseen_frames: int, min_iou: float = 0.1, state: TrackerState | None = None
    ) -> None:
        self.max_unseen_frames = max_unseen_frames
        self.min_iou = min_iou
        st = state or TrackerState()
        self._next_id = st.next_id
        self._tracks: list[tuple[int, np.ndarray, int, np.ndarray]] = [
            (t.track_id, np.asarray(t.box, np.float64), t.last_frame, np.asarray(t.velocity))
            for t in st.tracks
        ]

    def state(self) -> TrackerState:
        """Serialisable state (for checkpoints)."""
        return TrackerState(
            next_id=self._next_id,
            tracks=tuple(
                TrackState(
                    track_id=tid,
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4])),
                    last_frame=last,
                    velocity=(float(v[0]), float(v[1])),
                )
                for tid, b, last, v in self._tracks
            ),
        )

    def update(self, frame: int, boxes: np.ndarray) -> np.ndarray:
        """Track ids (P,) int32 for the detections ``boxes`` (P, 5) of frame ``frame``."""
        self._tracks = [t for t in self._tracks if frame - t[2] <= self.max_unseen_frames + 1]
        p = boxes.shape[0]
        ids = np.full(p, -1, np.int32)
        if self._tracks and p:
            tboxes = np.stack([t[1] for t in self._tracks]).copy()
            for k, (_, _, last, vel) in enumerate(self._tracks):
                tboxes[k, :2] += vel * (frame - last)
            iou = box_iou(tboxes, boxes)
            tc = tboxes[:, :2] + tboxes[:, 2:4] / 2
            dc = boxes[:, :2].astype(np.float64) + boxes[:, 2:4] / 2
            dist = np.linalg.norm(tc[:, None] - dc[None], axis=2)
            diag = np.hypot(tboxes[:, 2], tboxes[:, 3])[:, None]
            cost = np.where(
                iou >= self.min_iou,
                1.0 - iou,
                np.where(dist < diag, 1.0 + dist / np.maximum(diag, 1e-9), _REJECT),
            )
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < _REJECT:
                    tid, old, last, _ = self._tracks[r]
                    new = boxes[c].astype(np.float64)
                    vel = ((new[:2] + new[2:4] / 2) - (old[:2] + old[2:4] / 2)) / (frame - last)
                    ids[c] = tid
                    self._tracks[r] = (tid, new, frame, vel)
        for c in range(p):
            if ids[c] < 0:
                ids[c] = self._next_id
                self._tracks.append(
                    (self._next_id, boxes[c].astype(np.float64), frame, np.zeros(2))
                )
                self._next_id += 1
        return ids


def select_subject(
    rule: str,
    track_id: np.ndarray,
    boxes: np.ndarray,
    width: int,
    height: int,
    video: str = "this video",
) -> int | None:
    """The primary track id under ``rule`` (see the module docstring); None without detections.

    Raises
    ------
    InputError
        ``rule`` names a track id that does not exist, or is not a known rule.
    """
    if rule.lstrip("-").isdigit():
        wanted = int(rule)
        if track_id.size and np.any(track_id == wanted):
            return wanted
        known = sorted(set(track_id.tolist()))
        raise InputError(
            f"subject track id {wanted} does not exist in {video}",
            hint=f"track ids present: {known if known else 'none'}",
        )
    if track_id.size == 0:
        return None
    tids = np.unique(track_id)
    scores = []
    for tid in tids:
        sel = track_id == tid
        b = boxes[sel].astype(np.float64)
        if rule == "largest":
            score = -float(np.mean(b[:, 2] * b[:, 3]))
        elif rule == "most_central":
            c = b[:, :2] + b[:, 2:4] / 2
            d = np.hypot(c[:, 0] - width / 2, c[:, 1] - height / 2) / np.hypot(width, height)
            score = float(np.mean(d))
        elif rule == "longest_track":
            score = -float(sel.sum())
        else:
            raise InputError(
                f"unknown subject rule {rule!r}",
                hint="use largest, most_central, longest_track or a track id",
            )
        scores.append(score)
    return int(tids[int(np.argmin(scores))])
