"""Dynamic time warping of pose sequences: alignment, NaN policies, per-joint and relations.

The engines (exact banded DP, fastdtw), the cost and the band are described
in :mod:`neuropose.analyzer.dtw_engines`; this module prepares sequences for
them and is the entry point (:func:`dtw`).

Alignment
---------
For (N, J, 3) pose sequences before DTW: ``"none"``; ``"procrustes_frame"``
— every frame of both sequences is centred on its joint centroid (optionally
scaled to unit RMS radius) and rotated (Kabsch, no reflection) onto a
reference pose, the mean centred pose of ``a`` — removing global position
and orientation frame by frame; ``"procrustes_sequence"`` — one similarity
transform (rotation, translation, optional isotropic scale) maps all of ``b``
onto ``a``, estimated after resampling ``b`` to ``a``'s length in normalised
time, then applied to ``b`` at its own length. Both work for unequal lengths.

NaN policy
----------
``"propagate"`` raises :class:`DTWInputError` naming the sequence and how many
frames contain NaN; ``"interpolate"`` fills NaN linearly in time per
coordinate (nearest value at the ends); ``"drop"`` removes frames with any
NaN. Path indices always refer to the **original** frame numbers.

Examples
--------
>>> import numpy as np
>>> r = dtw(np.array([0., 1, 2, 3]), np.array([0., 1, 1, 2, 3]))
>>> r.distance, r.path.tolist()
(0.0, [[0, 0], [1, 1], [1, 2], [2, 3], [3, 4]])
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from neuropose.analyzer.dtw_engines import (
    DTWInputError,
    DTWResult,
    exact_dtw,
    fast_dtw,
    path_cost,
)

__all__ = [
    "DTWInputError",
    "DTWResult",
    "align_sequences",
    "dtw",
    "dtw_all",
    "dtw_per_joint",
    "dtw_relation",
    "exact_dtw",
    "fast_dtw",
    "path_cost",
]

Engine = Literal["exact", "fastdtw"]
Alignment = Literal["none", "procrustes_frame", "procrustes_sequence"]
NanPolicy = Literal["propagate", "interpolate", "drop"]


def _apply_nan_policy(
    x: np.ndarray, policy: str, name: str
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Returns (clean sequence, original frame numbers kept, counts)."""
    flat = x.reshape(x.shape[0], -1)
    bad_rows = ~np.isfinite(flat).all(axis=1)
    nbad = int(bad_rows.sum())
    keep = np.arange(x.shape[0])
    if nbad == 0:
        return x, keep, {f"nan_frames_{name}": 0}
    if policy == "propagate":
        raise DTWInputError(
            f"sequence {name} has {nbad} of {x.shape[0]} frames with missing values (NaN)",
            hint="set nan_policy to 'interpolate' or 'drop'",
        )
    if policy == "drop":
        keep = np.nonzero(~bad_rows)[0]
        if keep.size == 0:
            raise DTWInputError(f"sequence {name} has no frame without missing values")
        return x[keep], keep, {f"nan_frames_{name}": nbad, f"dropped_frames_{name}": nbad}
    if policy == "interpolate":
        out = flat.copy()
        idx = np.arange(flat.shape[0])
        for k in range(flat.shape[1]):
            col = out[:, k]
            ok = np.isfinite(col)
            if not ok.any():
                raise DTWInputError(
                    f"sequence {name}: value {k} is missing in every frame; cannot interpolate"
                )
            col[~ok] = np.interp(idx[~ok], idx[ok], col[ok])
        return (
            out.reshape(x.shape),
            keep,
            {f"nan_frames_{name}": nbad, f"interpolated_frames_{name}": nbad},
        )
    raise DTWInputError(
        f"unknown nan_policy {policy!r}", hint="use 'propagate', 'interpolate' or 'drop'"
    )


# ----------------------------------------------------------------------------- alignment


def _kabsch(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Rotations R (…, 3, 3) minimising ||p R - q|| for centred point sets (…, J, 3)."""
    h = np.swapaxes(p, -1, -2) @ q
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.ones((*h.shape[:-2], 3))
    fix[..., 2] = d
    return (u * fix[..., None, :]) @ vt


def _centre(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=-2, keepdims=True)


def _unit_scale(x: np.ndarray) -> np.ndarray:
    rms = np.sqrt((x**2).sum(axis=-1).mean(axis=-1, keepdims=True))[..., None]
    return x / np.where(rms > 0, rms, 1.0)


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    src = np.linspace(0.0, 1.0, x.shape[0])
    dst = np.linspace(0.0, 1.0, n)
    flat = x.reshape(x.shape[0], -1)
    out = np.stack([np.interp(dst, src, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((n, *x.shape[1:]))


def align_sequences(
    a: np.ndarray, b: np.ndarray, alignment: str = "none", *, scale: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Align pose sequences a (N, J, 3) and b (M, J, 3) (see module docstring).

    Returns the transformed (a, b); N and M may differ. No NaN allowed.
    """
    if alignment == "none":
        return a, b
    if a.ndim != 3 or a.shape[2] != 3 or b.ndim != 3 or a.shape[1:] != b.shape[1:]:
        raise DTWInputError(
            f"alignment {alignment!r} needs pose sequences (frames, joints, 3) with the same "
            f"joints; got {list(a.shape)} and {list(b.shape)}"
        )
    if alignment == "procrustes_frame":
        ac, bc = _centre(a), _centre(b)
        if scale:
            ac, bc = _unit_scale(ac), _unit_scale(bc)
        ref = ac.mean(axis=0)
        ref_a = _centre(ref[None])[0]
        ac = ac @ _kabsch(ac, np.broadcast_to(ref_a, ac.shape))
        bc = bc @ _kabsch(bc, np.broadcast_to(ref_a, bc.shape))
        return ac, bc
    if alignment == "procrustes_sequence":
        br = _resample(b, a.shape[0])
        pa = a.reshape(-1, 3)
        pb = br.reshape(-1, 3)
        mu_a, mu_b = pa.mean(axis=0), pb.mean(axis=0)
        qa, qb = pa - mu_a, pb - mu_b
        rot = _kabsch(qb[None], qa[None])[0]
        s = 1.0
        if scale:
            denom = float((qb**2).sum())
            s = float(np.trace((qb @ rot).T @ qa) / denom) if denom > 0 else 1.0
        return a, s * ((b - mu_b) @ rot) + mu_a
    raise DTWInputError(
        f"unknown alignment {alignment!r}",
        hint="use 'none', 'procrustes_frame' or 'procrustes_sequence'",
    )


# ----------------------------------------------------------------------------- front-ends


def dtw(
    a: np.ndarray,
    b: np.ndarray,
    *,
    engine: str = "exact",
    band: float | None = None,
    window: int | None = None,
    radius: int = 1,
    nan_policy: str = "propagate",
    alignment: str = "none",
    scale: bool = False,
) -> DTWResult:
    """DTW of two sequences with NaN handling, optional alignment and a chosen engine.

    Parameters
    ----------
    a, b : ndarray
        Sequences with time on axis 0 — (N,), (N, D) or (N, J, 3) for
        alignment. Lengths may differ.
    engine : {"exact", "fastdtw"}
    band, window : see :func:`exact_dtw` (exact engine only).
    radius : int
        fastdtw radius.
    nan_policy : {"propagate", "interpolate", "drop"}
    alignment : {"none", "procrustes_frame", "procrustes_sequence"}
    scale : bool
        Also normalise scale when aligning.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] == 0 or y.shape[0] == 0:
        raise DTWInputError("DTW needs two non-empty sequences")
    x, keep_a, ca = _apply_nan_policy(x, nan_policy, "a")
    y, keep_b, cb = _apply_nan_policy(y, nan_policy, "b")
    x, y = align_sequences(x, y, alignment, scale=scale)
    if engine == "exact":
        res = exact_dtw(x, y, band=band, window=window)
    elif engine == "fastdtw":
        if band is not None or window is not None:
            raise DTWInputError(
                "band/window constrain the exact engine; fastdtw is constrained by radius"
            )
        res = fast_dtw(x, y, radius=radius)
    else:
        raise DTWInputError(f"unknown DTW engine {engine!r}", hint="use 'exact' or 'fastdtw'")
    path = np.stack([keep_a[res.path[:, 0]], keep_b[res.path[:, 1]]], axis=1)
    params = {
        **res.params,
        "nan_policy": nan_policy,
        "alignment": alignment,
        "scale": scale,
        **ca,
        **cb,
    }
    return DTWResult(res.distance, res.normalized_distance, path, res.engine, params)


def dtw_all(a: np.ndarray, b: np.ndarray, **kwargs: Any) -> DTWResult:
    """DTW over all joints together: frames of (N, J, 3) flattened to 3J vectors.

    Keyword arguments are those of :func:`dtw`.
    """
    return dtw(a, b, **kwargs)


def dtw_per_joint(
    a: np.ndarray, b: np.ndarray, names: list[str] | None = None, **kwargs: Any
) -> dict[str, DTWResult]:
    """One DTW per joint of pose sequences a (N, J, 3) and b (M, J, 3).

    Alignment (if any) is applied to the whole skeleton first, then each
    joint's 3D trajectory is warped separately. Returns a dict keyed by
    ``names`` (or the joint index as a string).
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 3 or y.ndim != 3 or x.shape[1:] != y.shape[1:]:
        raise DTWInputError(
            f"dtw_per_joint needs (frames, joints, 3) arrays with the same joints; "
            f"got {list(x.shape)} and {list(y.shape)}"
        )
    nan_policy = kwargs.pop("nan_policy", "propagate")
    alignment = kwargs.pop("alignment", "none")
    scale = kwargs.pop("scale", False)
    x, keep_a, _ = _apply_nan_policy(x, nan_policy, "a")
    y, keep_b, _ = _apply_nan_policy(y, nan_policy, "b")
    x, y = align_sequences(x, y, alignment, scale=scale)
    keys = names or [str(k) for k in range(x.shape[1])]
    out = {}
    for k, key in enumerate(keys):
        r = dtw(x[:, k], y[:, k], **kwargs)
        path = np.stack([keep_a[r.path[:, 0]], keep_b[r.path[:, 1]]], axis=1)
        out[key] = DTWResult(
            r.distance,
            r.normalized_distance,
            path,
            r.engine,
            {**r.params, "nan_policy": nan_policy, "alignment": alignment, "joint": key},
        )
    return out


def dtw_relation(
    a: np.ndarray,
    b: np.ndarray,
    pairs: list[tuple[int, int]],
    *,
    relation: str = "distance",
    **kwargs: Any,
) -> DTWResult:
    """DTW over relations between joint pairs of pose sequences (N, J, 3), (M, J, 3).

    ``relation="distance"`` uses the inter-joint distances (F, P) —
    invariant to position and orientation, so no alignment is needed;
    ``"vector"`` uses the difference vectors (F, P, 3).
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if not pairs:
        raise DTWInputError("dtw_relation needs at least one joint pair")
    i = np.array([p[0] for p in pairs])
    k = np.array([p[1] for p in pairs])
    rx = x[:, k] - x[:, i]
    ry = y[:, k] - y[:, i]
    if relation == "distance":
        rx, ry = np.linalg.norm(rx, axis=-1), np.linalg.norm(ry, axis=-1)
    elif relation != "vector":
        raise DTWInputError(f"unknown relation {relation!r}", hint="use 'distance' or 'vector'")
    res = dtw(rx, ry, **kwargs)
    return DTWResult(
        res.distance,
        res.normalized_distance,
        res.path,
        res.engine,
        {**res.params, "relation": relation, "pairs": [list(map(int, p)) for p in pairs]},
    )
