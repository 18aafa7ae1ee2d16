"""Cross-view person association: the same subject in every view.

The reference view's subject (its primary track) defines the person. In
every other view, each frame's detections are candidates, and the one that
triangulates most consistently with the reference subject (smallest median
reprojection error of the pair, the better of as-labelled and mirrored) is
that person in that view. This is epipolar consistency in the form the
triangulation already computes, and it follows the subject through track-id
switches of the other views.
"""

from __future__ import annotations

import numpy as np

from neuropose.multiview.triangulate import pair_cost
from neuropose.schemas.rig import RigCamera

__all__ = ["associate_detections"]


def associate_detections(
    ref_xn: np.ndarray,
    cand_xn: np.ndarray,
    cand_frame: np.ndarray,
    cams: tuple[RigCamera, RigCamera],
    perm: np.ndarray,
    max_cost_px: float = np.inf,
) -> np.ndarray:
    """Pick, per reference frame, the candidate detection of the subject.

    Parameters
    ----------
    ref_xn : ndarray, shape (F, J, 2)
        The reference subject's normalised keypoints (NaN = missing).
    cand_xn : ndarray, shape (D, J, 2)
        Normalised keypoints of every detection of the other view.
    cand_frame : ndarray of int, shape (D,)
        Reference frame each detection belongs to (after time alignment);
        outside ``0..F-1`` means no counterpart.
    cams : (RigCamera, RigCamera)
        Reference camera, other camera.
    perm : ndarray, shape (J,)
        Left/right mirror permutation.
    max_cost_px : float
        Candidates costing more are never chosen (e.g. a bystander alone
        in a frame where the subject is hidden).

    Returns
    -------
    ndarray of int, shape (F,)
        Index into the candidates per reference frame, -1 when none fits.

    Examples
    --------
    >>> from neuropose.multiview.geometry import look_at, reproject_normalized
    >>> cams = (look_at("a", (3000, 0, 1000), (0, 0, 1000)),
    ...         look_at("b", (0, 3000, 1000), (0, 0, 1000)))
    >>> subject = np.array([[[0.0, 0, 900], [0, 0, 1400], [100, 0, 1200]]])  # 1 frame
    >>> other = subject + [0, 900, 0]                                     # a bystander
    >>> ref = reproject_normalized(subject, cams[0])
    >>> cand = np.concatenate([reproject_normalized(other, cams[1]),
    ...                        reproject_normalized(subject, cams[1])])
    >>> associate_detections(ref, cand, np.array([0, 0]), cams, np.arange(3)).tolist()
    [1]
    """
    n_frames = ref_xn.shape[0]
    out = np.full(n_frames, -1, dtype=np.int64)
    ok = (cand_frame >= 0) & (cand_frame < n_frames)
    idx = np.nonzero(ok)[0]
    if idx.size == 0:
        return out
    ref = ref_xn[cand_frame[idx]]
    cand = cand_xn[idx]
    cost = np.fmin(pair_cost(ref, cand, cams), pair_cost(ref, cand[:, perm], cams))
    cost = np.where(np.isfinite(cost) & (cost <= max_cost_px), cost, np.inf)
    best = np.full(n_frames, np.inf)
    for i, c in zip(idx, cost, strict=True):
        f = cand_frame[i]
        if c < best[f]:
            best[f] = c
            out[f] = i
    return out
