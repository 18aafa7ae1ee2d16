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

Re-identification and plausibility (post-processing)
---------------------------------------------------
:func:`link_tracks` joins a track that ends to one that starts later (within
``max_gap_s``) when the new one appears where the old one was heading (box
centre within one box diagonal of the old box moved at its last velocity)
with a similar size (box height ratio within 1/1.5..1.5) and, when both have
3D poses, similar body proportions (median limb lengths within 25 %): a
person occluded for a second keeps one id. :func:`plausible_poses` flags
detections whose 3D limb lengths (upper arm, forearm, thigh, shank) differ
from their own track's median by more than 50 %, the signature of a broken
pose stretched over the image.

Subject rules
-------------
``largest``: largest mean box area (w·h) over the track's detections;
``most_central``: smallest mean distance of the box centre from the image
centre, in units of the image diagonal; ``longest_track``: most detections;
``most_present``: most *plausible* detections after re-identification (the
person present for most of the video); an integer: that track id (must
exist). Ties go to the lowest track id.
"""

from __future__ import annotations

import warnings

import numpy as np

from neuropose.errors import InputError
from neuropose.schemas import Skeleton, TrackerState, TrackState
from neuropose.skeletons import UnsupportedJointError, canonical_indices

__all__ = ["Tracker", "box_iou", "limb_lengths", "link_tracks", "plausible_poses", "select_subject"]

_REJECT = 1e6


def _assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment of rows to columns (the Hungarian algorithm).

    One track or one detection (every single-person frame) is an argmin;
    larger problems use :func:`scipy.optimize.linear_sum_assignment`,
    imported here so a process that never tracks two people never pays for
    SciPy's import.

    >>> _assign(np.array([[0.9, 0.2, 0.5]]))
    (array([0]), array([1]))
    >>> _assign(np.array([[0.4], [0.1]]))
    (array([1]), array([0]))
    """
    if cost.shape[0] == 1:
        return np.zeros(1, np.intp), np.array([int(np.argmin(cost[0]))], np.intp)
    if cost.shape[1] == 1:
        return np.array([int(np.argmin(cost[:, 0]))], np.intp), np.zeros(1, np.intp)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    return rows, cols


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
            rows, cols = _assign(cost)
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


_LIMBS = tuple(
    (f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"))
)


def _col_median(x: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN; NaN for an all-NaN column (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=0)


def limb_lengths(skeleton: Skeleton, poses3d: np.ndarray) -> np.ndarray:
    """Upper-arm, forearm, thigh and shank lengths (D, L) in the poses' units; NaN if absent.

    Segments are between canonical joints (:mod:`neuropose.skeletons`); a
    segment the skeleton lacks gives a NaN column.

    Examples
    --------
    >>> from neuropose.skeletons import H36M_17
    >>> p = np.zeros((1, 17, 3)); p[0, 2, 1] = 400.0     # right knee 40 cm below the hip
    >>> limb_lengths(H36M_17, p)[0, 6]                   # right thigh
    np.float64(400.0)
    """
    out = np.full((poses3d.shape[0], len(_LIMBS)), np.nan)
    for k, (a, b) in enumerate(_LIMBS):
        try:
            ia, ib = canonical_indices(skeleton, a), canonical_indices(skeleton, b)
        except UnsupportedJointError:
            continue
        pa = poses3d[:, list(ia)].mean(axis=1)
        pb = poses3d[:, list(ib)].mean(axis=1)
        out[:, k] = np.linalg.norm(pa - pb, axis=-1)
    return out


def plausible_poses(
    skeleton: Skeleton, track_id: np.ndarray, poses3d: np.ndarray, tolerance: float = 0.5
) -> np.ndarray:
    """Boolean (D,): False where a limb length is off its track's median by more than ``tolerance``.

    A track's first detections are judged against the whole track, so a
    track *starting* from a broken pose is caught. Limbs the skeleton lacks
    are ignored.
    """
    lengths = limb_lengths(skeleton, np.asarray(poses3d, np.float64))
    ok = np.ones(track_id.shape[0], bool)
    for tid in np.unique(track_id):
        sel = track_id == tid
        med = _col_median(lengths[sel]) if sel.sum() else None
        if med is None or not np.any(np.isfinite(med)):
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = np.abs(lengths[sel] / med - 1.0)
        ok[sel] = ~np.any(dev > tolerance, axis=1)
    return ok


def link_tracks(
    det_frame: np.ndarray,
    track_id: np.ndarray,
    boxes: np.ndarray,
    timestamps: np.ndarray,
    *,
    max_gap_s: float = 2.0,
    proportions: np.ndarray | None = None,
) -> np.ndarray:
    """Track ids (D,) after joining tracks that are one person seen again (module docstring).

    Parameters
    ----------
    det_frame, track_id, boxes
        The detection table (``boxes`` x, y, w, h, score in pixels).
    timestamps : ndarray, shape (F,)
        Frame times in seconds.
    max_gap_s : float
        Longest gap bridged, seconds.
    proportions : ndarray, shape (D, L), optional
        Limb lengths per detection (:func:`limb_lengths`) to compare bodies.

    Returns
    -------
    ndarray, shape (D,), int32
        The earlier track's id on every joined detection; other ids unchanged.
    """
    out = np.asarray(track_id, np.int32).copy()
    if out.size == 0:
        return out
    t = np.asarray(timestamps, np.float64)[det_frame]
    centre = boxes[:, :2].astype(np.float64) + boxes[:, 2:4] / 2
    ids = list(np.unique(out))
    starts = {i: float(t[out == i].min()) for i in ids}
    for new in sorted(ids, key=lambda i: (starts[i], i)):
        rows_new = np.nonzero(out == new)[0]
        first = rows_new[np.argmin(t[rows_new])]
        best, best_d = None, np.inf
        for old in np.unique(out[t < t[first]]):
            if old == new:
                continue
            rows_old = np.nonzero(out == old)[0]
            if np.any(np.isin(det_frame[rows_old], det_frame[rows_new])):
                continue  # seen together: two people
            last = rows_old[np.argmax(t[rows_old])]
            gap = t[first] - t[last]
            if not 0 < gap <= max_gap_s:
                continue
            vel = np.zeros(2)
            if rows_old.size >= 2:
                prev = rows_old[np.argsort(t[rows_old])[-2]]
                vel = (centre[last] - centre[prev]) / max(t[last] - t[prev], 1e-9)
            predicted = centre[last] + vel * gap
            diag = float(np.hypot(boxes[last, 2], boxes[last, 3]))
            d = float(np.linalg.norm(centre[first] - predicted))
            ratio = float(boxes[first, 3]) / max(float(boxes[last, 3]), 1e-9)
            if d > diag or not 1 / 1.5 <= ratio <= 1.5:
                continue
            if proportions is not None:
                a = _col_median(proportions[rows_old])
                b = _col_median(proportions[rows_new])
                both = np.isfinite(a) & np.isfinite(b) & (a > 0)
                if both.any() and np.any(np.abs(b[both] / a[both] - 1) > 0.25):
                    continue
            if d < best_d:
                best, best_d = old, d
        if best is not None:
            out[rows_new] = best
    return out


def select_subject(
    rule: str,
    track_id: np.ndarray,
    boxes: np.ndarray,
    width: int,
    height: int,
    video: str = "this video",
    plausible: np.ndarray | None = None,
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
        elif rule == "most_present":
            score = -float((sel & plausible).sum() if plausible is not None else sel.sum())
        else:
            raise InputError(
                f"unknown subject rule {rule!r}",
                hint="use largest, most_central, longest_track, most_present or a track id",
            )
        scores.append(score)
    return int(tids[int(np.argmin(scores))])
