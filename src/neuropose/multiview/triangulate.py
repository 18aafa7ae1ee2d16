"""Robust multi-view triangulation with left/right swap resolution.

Input is, per view ``v`` of a calibrated rig, the 2D keypoints of one
subject in distorted pixels ``(F, J, 2)`` and their confidences ``(F, J)``,
already aligned in time (see :mod:`neuropose.multiview.sync`). Output is a
:class:`Reconstruction` in the rig's world frame (mm).

Per frame and joint:

1. observations under ``min_confidence`` (or NaN) are dropped; the rest are
   undistorted and weighted by confidence;
2. all views are triangulated together; if every view reprojects within
   ``gate_px`` the point is accepted;
3. otherwise each pair of views proposes a point, the proposal with most
   views within the gate wins (ties: smallest summed error), and the point
   is re-triangulated from those views only;
4. fewer than ``min_views`` agreeing views leave the point NaN, and
   :attr:`Reconstruction.agreed` says so.

Left/right swaps are decided per frame and view before step 1
(:func:`detect_swaps`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuropose.multiview.geometry import (
    projection_matrices,
    reprojection_px,
    triangulate_weighted,
    undistort_normalized,
)
from neuropose.schemas.rig import RigCamera

__all__ = [
    "Reconstruction",
    "TriangulationOptions",
    "detect_swaps",
    "normalize_views",
    "pair_cost",
    "robust_triangulate",
    "triangulate_views",
]


@dataclass(frozen=True)
class TriangulationOptions:
    """Parameters of :func:`triangulate_views`.

    Attributes
    ----------
    gate_px : float
        A view agrees with a 3D point when it reprojects within this many
        pixels (undistorted image).
    min_confidence : float
        2D keypoints with lower confidence are ignored.
    min_views : int
        Fewest agreeing views for a 3D point (at least 2).
    detect_swaps : bool
        Test each view's left/right-swapped labelling per frame.
    swap_margin : float
        A labelling with swaps is kept only when its cost is below
        ``(1 - swap_margin)`` times the cost of the unswapped labelling.
    """

    gate_px: float = 20.0
    min_confidence: float = 0.3
    min_views: int = 2
    detect_swaps: bool = True
    swap_margin: float = 0.2

    def __post_init__(self) -> None:
        if self.min_views < 2:
            raise ValueError(f"min_views must be at least 2, got {self.min_views}")
        if self.gate_px <= 0:
            raise ValueError(f"gate_px must be positive, got {self.gate_px}")
        if not 0 <= self.swap_margin < 1:
            raise ValueError(f"swap_margin must be in [0, 1), got {self.swap_margin}")


@dataclass
class Reconstruction:
    """Triangulated 3D and its per-view diagnostics.

    Attributes
    ----------
    points_mm : ndarray, shape (F, J, 3)
        World-frame positions in mm; NaN where fewer than ``min_views``
        views agree.
    reprojection_px : ndarray, shape (F, J, V)
        Distance in distorted pixels between each view's (swap-corrected)
        keypoint and the projection of ``points_mm``; NaN where either is
        missing.
    used : ndarray, shape (F, J, V), bool
        Views that contributed to the point.
    agreed : ndarray, shape (F, J), bool
        True where at least ``min_views`` views agreed.
    swapped : ndarray, shape (F, V), bool
        Frames whose left/right labels were exchanged in that view.
    camera_names : tuple of str
    observed : ndarray, shape (F, J, V), bool
        Keypoints each view offered (confident, finite).
    all_views_px : ndarray, shape (F, J, V)
        Reprojection error (undistorted px) of the point triangulated from
        *all* observing views, before any rejection.
    leave_one_out_px : ndarray, shape (F, J, V)
        Error of each view against the point triangulated from the *other*
        views (NaN with fewer than two others): a miscalibrated camera
        stands out here even when a joint fit spreads its error.
    """

    points_mm: np.ndarray
    reprojection_px: np.ndarray
    used: np.ndarray
    agreed: np.ndarray
    swapped: np.ndarray
    camera_names: tuple[str, ...]
    observed: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))
    all_views_px: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    leave_one_out_px: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def normalize_views(
    points_px: np.ndarray, confidence: np.ndarray, cams: Sequence[RigCamera], min_confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Undistorted normalised observations (V, F, J, 2) and weights (V, F, J).

    Keypoints that are NaN or below ``min_confidence`` get weight 0 and NaN.
    """
    conf = np.nan_to_num(np.asarray(confidence, dtype=np.float64), nan=0.0)
    keep = (conf >= min_confidence) & np.all(np.isfinite(points_px), axis=-1)
    xn = np.stack([undistort_normalized(points_px[v], c) for v, c in enumerate(cams)])
    xn[~keep] = np.nan
    return xn, np.where(keep, np.maximum(conf, 1e-3), 0.0)


def pair_cost(
    xa: np.ndarray,
    xb: np.ndarray,
    cams: tuple[RigCamera, RigCamera],
    joints: np.ndarray | None = None,
) -> np.ndarray:
    """Per-frame median reprojection error (px) of two views triangulated together.

    Parameters
    ----------
    xa, xb : ndarray, shape (F, J, 2)
        Normalised observations of the two views (NaN = missing).
    joints : ndarray of int, optional
        Joints to use (default all).

    Returns
    -------
    ndarray, shape (F,)
        Median over joints of the mean error in both views; NaN when no
        joint is seen by both.
    """
    if joints is not None:
        xa, xb = xa[:, joints], xb[:, joints]
    f, j = xa.shape[:2]
    obs = np.stack([xa.reshape(-1, 2), xb.reshape(-1, 2)], axis=1)
    pts = triangulate_weighted(obs, np.ones(obs.shape[:2]), projection_matrices(cams))
    err = reprojection_px(pts, obs, cams).mean(axis=1).reshape(f, j)
    err[~np.isfinite(err)] = np.nan
    with np.errstate(all="ignore"):
        out = np.full(f, np.nan)
        has = np.any(np.isfinite(err), axis=1)
        out[has] = np.nanmedian(err[has], axis=1)
    return out


def detect_swaps(
    xn: np.ndarray,
    cams: Sequence[RigCamera],
    perm: np.ndarray,
    swap_margin: float = 0.2,
) -> np.ndarray:
    """Decide, per frame and view, whether the view's left/right labels are exchanged.

    For every pair of views the consistency cost (:func:`pair_cost` on the
    lateral joints) is computed with the second view as labelled and with
    its labels mirrored. Each frame takes the labelling of all views that
    minimises the summed pair costs. A labelling and its mirror image are
    equally consistent; the one swapping fewer views is kept, and when both
    swap as many (two views disagreeing), the one whose 3D is closest to
    the nearest already-decided frame (temporal continuity).

    Parameters
    ----------
    xn : ndarray, shape (V, F, J, 2)
        Normalised observations.
    perm : ndarray, shape (J,)
        Mirror permutation (:func:`~neuropose.multiview.geometry.mirror_permutation`).

    Returns
    -------
    ndarray, shape (F, V), bool
    """
    n_views, n_frames = xn.shape[:2]
    swapped = np.zeros((n_frames, n_views), dtype=bool)
    lateral = np.nonzero(perm != np.arange(perm.size))[0]
    if n_views < 2 or lateral.size == 0:
        return swapped
    pairs = list(itertools.combinations(range(n_views), 2))
    same = np.full((len(pairs), n_frames), np.nan)
    swap = np.full((len(pairs), n_frames), np.nan)
    for p, (a, b) in enumerate(pairs):
        same[p] = pair_cost(xn[a], xn[b], (cams[a], cams[b]), lateral)
        swap[p] = pair_cost(xn[a], xn[b][:, perm], (cams[a], cams[b]), lateral)
    labellings = np.array(list(itertools.product((0, 1), repeat=n_views - 1)), dtype=bool)
    labellings = np.hstack([np.zeros((len(labellings), 1), bool), labellings])  # view 0 fixed
    costs = np.zeros((len(labellings), n_frames))
    for li, lab in enumerate(labellings):
        for p, (a, b) in enumerate(pairs):
            c = swap[p] if lab[a] != lab[b] else same[p]
            costs[li] += np.nan_to_num(c, nan=0.0)
    best = np.argmin(costs, axis=0)
    keep_zero = costs[best, np.arange(n_frames)] >= (1 - swap_margin) * costs[0]
    best[keep_zero] = 0
    present = np.any(np.isfinite(xn[..., 0]), axis=2).T  # (F, V)
    lab = labellings[best] & present
    mirrored = ~labellings[best] & present
    n_lab, n_mir = lab.sum(axis=1), mirrored.sum(axis=1)
    swapped[:] = np.where((n_mir < n_lab)[:, None], mirrored, lab)
    ties = np.nonzero((n_lab == n_mir) & (n_lab > 0))[0]
    if ties.size:
        _resolve_ties(swapped, ties, xn, cams, perm)
    return swapped


def _frame_points(
    xn_f: np.ndarray, swapped_f: np.ndarray, perm: np.ndarray, proj: np.ndarray
) -> np.ndarray:
    """3D (J, 3) of one frame given per-view swaps; xn_f is (V, J, 2)."""
    obs = np.where(swapped_f[:, None, None], xn_f[:, perm], xn_f).transpose(1, 0, 2)
    return triangulate_weighted(obs, np.ones(obs.shape[:2]), proj)


def _resolve_ties(
    swapped: np.ndarray,
    ties: np.ndarray,
    xn: np.ndarray,
    cams: Sequence[RigCamera],
    perm: np.ndarray,
) -> None:
    """Pick, for tie frames, the mirror hypothesis continuous with its decided neighbours."""
    proj = projection_matrices(cams)
    is_tie = np.zeros(swapped.shape[0], bool)
    is_tie[ties] = True
    decided = np.nonzero(~is_tie)[0]
    order = list(ties[ties > decided[0]]) if decided.size else []
    back = list(ties[::-1][ties[::-1] < decided[0]]) if decided.size else list(ties)
    ref_cache: dict[int, np.ndarray] = {}

    def points(f: int) -> np.ndarray:
        if f not in ref_cache:
            ref_cache[f] = _frame_points(xn[:, f], swapped[f], perm, proj)
        return ref_cache[f]

    for seq, step in ((order, -1), (back, +1)):
        for f in seq:
            g = f + step
            while 0 <= g < swapped.shape[0] and not np.any(np.isfinite(points(g))):
                g += step
            if not 0 <= g < swapped.shape[0]:
                continue
            ref = points(g)
            x_f = points(f)
            d_keep = np.nanmean(np.linalg.norm(x_f - ref, axis=1))
            d_flip = np.nanmean(np.linalg.norm(x_f[perm] - ref, axis=1))
            if d_flip < d_keep:
                present = np.any(np.isfinite(xn[:, f, :, 0]), axis=1)
                swapped[f] = ~swapped[f] & present
                ref_cache.pop(f, None)


def robust_triangulate(
    xn: np.ndarray, w: np.ndarray, cams: Sequence[RigCamera], gate_px: float, min_views: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Consensus triangulation of N points (see the module docstring, steps 2-4).

    Parameters
    ----------
    xn : ndarray, shape (N, V, 2)
        Normalised observations.
    w : ndarray, shape (N, V)
        Weights (0 = missing).

    Returns
    -------
    points_mm : ndarray, shape (N, 3)
        NaN where fewer than ``min_views`` views agree.
    used : ndarray, shape (N, V), bool
    """
    proj = projection_matrices(cams)
    present = (w > 0) & np.all(np.isfinite(xn), axis=-1)
    n_present = present.sum(axis=1)
    pts = triangulate_weighted(xn, w, proj)
    err = reprojection_px(pts, xn, cams)
    ok_all = (n_present >= min_views) & np.all(~present | (err <= gate_px), axis=1)
    used = present & ok_all[:, None]
    out = np.where(ok_all[:, None], pts, np.nan)
    rest = np.nonzero(~ok_all & (n_present >= 2))[0]
    if rest.size == 0:
        return out, used
    xr, wr, pr = xn[rest], w[rest], present[rest]
    best_n = np.zeros(rest.size, int)
    best_s = np.full(rest.size, np.inf)
    best_in = np.zeros(pr.shape, bool)
    for a, b in itertools.combinations(range(len(cams)), 2):
        both = pr[:, a] & pr[:, b]
        if not np.any(both):
            continue
        wp = np.zeros_like(wr)
        wp[:, [a, b]] = wr[:, [a, b]]
        p = triangulate_weighted(xr, wp, proj)
        e = reprojection_px(p, xr, cams)
        inl = pr & (e <= gate_px) & both[:, None]
        n = inl.sum(axis=1)
        s = np.where(inl, e, 0.0).sum(axis=1)
        better = (n > best_n) | ((n == best_n) & (s < best_s) & (n > 0))
        best_n = np.where(better, n, best_n)
        best_s = np.where(better, s, best_s)
        best_in[better] = inl[better]
    enough = best_n >= min_views
    p = triangulate_weighted(xr, np.where(best_in, wr, 0.0), proj)
    out[rest[enough]] = p[enough]
    used[rest[enough]] = best_in[enough]
    return out, used


def triangulate_views(
    points_px: np.ndarray,
    confidence: np.ndarray,
    cams: Sequence[RigCamera],
    perm: np.ndarray,
    options: TriangulationOptions | None = None,
) -> Reconstruction:
    """Triangulate time-aligned 2D keypoints of one subject seen by several cameras.

    Parameters
    ----------
    points_px : ndarray, shape (V, F, J, 2)
        Distorted pixel coordinates per view, NaN where missing.
    confidence : ndarray, shape (V, F, J)
        Keypoint confidences in 0..1 (NaN = missing).
    cams : sequence of RigCamera
        One per view, same order; image sizes must match the videos.
    perm : ndarray, shape (J,)
        Left/right mirror permutation of the skeleton.
    options : TriangulationOptions, optional

    Returns
    -------
    Reconstruction

    Examples
    --------
    >>> from neuropose.multiview.geometry import look_at, mirror_permutation
    >>> cams = [look_at(n, p, (0, 0, 1000)) for n, p in
    ...         (("a", (3000, 0, 1200)), ("b", (0, 3000, 1200)), ("c", (-3000, 0, 1200)))]
    >>> X = np.array([[[100.0, 200.0, 900.0], [-100.0, 200.0, 900.0]]])   # 1 frame, 2 joints
    >>> px = np.stack([c.project(X.reshape(-1, 3)).reshape(1, 2, 2) for c in cams])
    >>> px[2, 0, 0] += 80                                  # an outlier in view c
    >>> rec = triangulate_views(px, np.ones((3, 1, 2)), cams, mirror_permutation(["l", "r"]))
    >>> np.round(rec.points_mm[0], 3).tolist(), rec.used[0, 0].tolist()
    ([[100.0, 200.0, 900.0], [-100.0, 200.0, 900.0]], [True, True, False])
    """
    opt = options or TriangulationOptions()
    points_px = np.asarray(points_px, dtype=np.float64)
    n_views, n_frames, n_joints = points_px.shape[:3]
    if len(cams) != n_views:
        raise ValueError(f"{n_views} views of keypoints but {len(cams)} cameras")
    xn, w = normalize_views(points_px, confidence, cams, opt.min_confidence)
    swapped = np.zeros((n_frames, n_views), bool)
    if opt.detect_swaps:
        swapped = detect_swaps(xn, cams, perm, opt.swap_margin)
    sw = swapped.T[:, :, None]  # (V, F, 1)
    xn = np.where(sw[..., None], xn[:, :, perm], xn)
    w = np.where(sw, w[:, :, perm], w)
    px = np.where(sw[..., None], points_px[:, :, perm], points_px)
    flat_x = xn.transpose(1, 2, 0, 3).reshape(-1, n_views, 2)
    flat_w = w.transpose(1, 2, 0).reshape(-1, n_views)
    pts, used = robust_triangulate(flat_x, flat_w, cams, opt.gate_px, opt.min_views)
    pts = pts.reshape(n_frames, n_joints, 3)
    observed = (w > 0).transpose(1, 2, 0)
    proj = projection_matrices(cams)
    all_px = reprojection_px(triangulate_weighted(flat_x, flat_w, proj), flat_x, cams)
    loo = np.full_like(all_px, np.nan)
    for v in range(n_views):
        w_other = flat_w.copy()
        w_other[:, v] = 0.0
        loo[:, v] = reprojection_px(triangulate_weighted(flat_x, w_other, proj), flat_x, cams)[:, v]
    err = np.full((n_frames, n_joints, n_views), np.nan)
    for v, cam in enumerate(cams):
        proj = cam.project(pts.reshape(-1, 3)).reshape(n_frames, n_joints, 2)
        e = np.linalg.norm(proj - px[v], axis=-1)
        err[..., v] = np.where(observed[..., v], e, np.nan)
    return Reconstruction(
        points_mm=pts,
        reprojection_px=err,
        used=used.reshape(n_frames, n_joints, n_views),
        agreed=np.all(np.isfinite(pts), axis=-1),
        swapped=swapped,
        camera_names=tuple(c.name for c in cams),
        observed=observed,
        all_views_px=all_px.reshape(n_frames, n_joints, n_views),
        leave_one_out_px=loo.reshape(n_frames, n_joints, n_views),
    )
