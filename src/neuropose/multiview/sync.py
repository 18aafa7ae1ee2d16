"""Residual time offsets between views, found by triangulation consistency.

Convention: a view's offset ``k`` (frames) means its frame ``f + k`` shows
the same instant as frame ``f`` of the reference view (view 0); ``k > 0``
when the view started recording ``k`` frames before the reference.
:func:`shift_frames` applies it.

The estimate assumes the subject moves during the search window: for a
still subject every offset is equally consistent, which
:class:`OffsetEstimate` reports as a low ``contrast``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neuropose.multiview.triangulate import pair_cost
from neuropose.schemas.rig import RigCamera

__all__ = ["OffsetEstimate", "estimate_offsets", "shift_frames"]


@dataclass(frozen=True)
class OffsetEstimate:
    """Offset of one view relative to the reference.

    Attributes
    ----------
    frames : int
        Offset applied (see the module docstring).
    subframe : float
        Parabolic refinement of the minimum, in frames (not applied).
    cost_px : float
        Median reprojection error (px) at the chosen offset.
    contrast : float
        Median cost over the window divided by the chosen cost; near 1 means
        the offset is not identifiable (still subject, wrong calibration).
    """

    frames: int
    subframe: float
    cost_px: float
    contrast: float


def shift_frames(arr: np.ndarray, k: int) -> np.ndarray:
    """``out[f] = arr[f + k]`` along axis 0, NaN-padded (floats) or zero-padded.

    Examples
    --------
    >>> shift_frames(np.arange(5.0), 2).tolist()
    [2.0, 3.0, 4.0, nan, nan]
    >>> shift_frames(np.arange(5.0), -1).tolist()
    [nan, 0.0, 1.0, 2.0, 3.0]
    """
    out = np.full_like(arr, np.nan if arr.dtype.kind == "f" else 0)
    n = arr.shape[0]
    if k >= 0:
        out[: max(n - k, 0)] = arr[k:]
    else:
        out[-k:] = arr[: n + k]
    return out


def estimate_offsets(
    xn: np.ndarray,
    cams: Sequence[RigCamera],
    perm: np.ndarray,
    max_offset: int,
    *,
    window: slice | None = None,
    min_overlap: int = 10,
) -> list[OffsetEstimate]:
    """Estimate each view's offset to view 0 over ``-max_offset..max_offset`` frames.

    For each candidate the view is shifted and triangulated with the
    reference; the cost is the median over frames of the per-frame median
    reprojection error, taking per frame the better of the view's labelling
    and its left/right mirror (so swaps do not bias the estimate).

    Parameters
    ----------
    xn : ndarray, shape (V, F, J, 2)
        Normalised observations (:func:`~neuropose.multiview.triangulate.normalize_views`).
    perm : ndarray, shape (J,)
        Left/right mirror permutation.
    max_offset : int
        Search half-width in frames.
    window : slice, optional
        Reference frames to use (default all).

    Returns
    -------
    list of OffsetEstimate
        One per view; view 0's is 0.
    """
    n_views, n_frames = xn.shape[:2]
    window = window or slice(0, n_frames)
    out = [OffsetEstimate(0, 0.0, float("nan"), float("nan"))]
    ks = np.arange(-max_offset, max_offset + 1)
    for v in range(1, n_views):
        costs = np.full(ks.size, np.nan)
        for i, k in enumerate(ks):
            shifted = shift_frames(xn[v], int(k))[window]
            ref = xn[0][window]
            c = np.fmin(
                pair_cost(ref, shifted, (cams[0], cams[v])),
                pair_cost(ref, shifted[:, perm], (cams[0], cams[v])),
            )
            if np.sum(np.isfinite(c)) >= min_overlap:
                costs[i] = np.nanmedian(c)
        if not np.any(np.isfinite(costs)):
            out.append(OffsetEstimate(0, 0.0, float("nan"), float("nan")))
            continue
        i = int(np.nanargmin(costs))
        sub = float(ks[i])
        if 0 < i < ks.size - 1 and np.all(np.isfinite(costs[i - 1 : i + 2])):
            c0, c1, c2 = costs[i - 1 : i + 2]
            denom = c0 - 2 * c1 + c2
            if denom > 0:
                sub += 0.5 * (c0 - c2) / denom
        contrast = float(np.nanmedian(costs) / costs[i]) if costs[i] > 0 else float("inf")
        out.append(OffsetEstimate(int(ks[i]), sub, float(costs[i]), contrast))
    return out
