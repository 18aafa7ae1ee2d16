"""DTW engines: the exact banded dynamic programme (numba or NumPy) and fastdtw.

Cost and distance
-----------------
Sequences are arrays with time on axis 0: (N,), (N, D) or (N, J, 3); frames
are flattened to vectors and the local cost of matching frame i of ``a``
with frame j of ``b`` is their Euclidean distance (in the input's units,
e.g. mm). The **raw distance** is the sum of local costs along the optimal
warping path; the **normalised distance** divides it by the path length K,
giving a mean per-step cost in the same units, comparable across lengths.

Engines
-------
``"exact"`` (default) computes the exact DTW by dynamic programming,
restricted to an optional Sakoe–Chiba band. The default backend compiles
the textbook recurrence with numba (frame costs computed on the fly, one
thread, O(band cells) time, O(N + M) floats plus one int8 back-pointer per
band cell of memory). The NumPy fallback vectorises each row: with
``a_j = c_ij + min(D[i-1, j-1], D[i-1, j])`` the within-row recurrence
``D[i, j] = min(a_j, c_ij + D[i, j-1])`` has the closed form
``D[i, j] = C_j + min_{k<=j}(a_k - C_k)`` with ``C`` the running sum of the
row's costs, i.e. one ``cumsum`` and one ``minimum.accumulate`` per row,
with costs from BLAS blocks (``|x|² + |y|² − 2x·y``).

``"fastdtw"`` calls the ``fastdtw`` package (Salvador & Chan, 2007), which
is approximate; see ``docs/benchmarks.md`` for why the exact banded engine is
preferred (Wu & Keogh, 2020).

Band
----
For unequal lengths the band follows the straight line from (0, 0) to
(N−1, M−1): row i may match columns within ``r`` of ``i·(M−1)/(N−1)``.
``band`` gives ``r`` as a fraction of ``len(b)``; ``window`` gives it in
frames. ``r`` is raised to at least ``(slope + 1) / 2`` columns so a
warping path always exists.

Examples
--------
>>> import numpy as np
>>> r = exact_dtw(np.array([[0.], [1], [2]]), np.array([[0.], [2]]))
>>> r.distance, r.path.tolist()
(1.0, [[0, 0], [1, 0], [2, 1]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuropose.errors import InputError

__all__ = ["DTWInputError", "DTWResult", "exact_dtw", "fast_dtw", "path_cost"]


class DTWInputError(InputError):
    """DTW inputs are unusable (NaN under ``propagate``, empty, mismatched shapes)."""


@dataclass(frozen=True)
class DTWResult:
    """Result of one DTW.

    Attributes
    ----------
    distance : float
        Sum of local (Euclidean) costs along the path, input units.
    normalized_distance : float
        ``distance / len(path)``.
    path : ndarray, shape (K, 2), int
        Matched (frame of a, frame of b) pairs, original frame numbers,
        monotone, from the first to the last kept frames.
    engine : str
        ``"exact"`` or ``"fastdtw"``.
    params : dict
        Band/window, radius, alignment, NaN policy, frames dropped or filled.
    """

    distance: float
    normalized_distance: float
    path: np.ndarray
    engine: str
    params: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """JSON-ready summary (without the path)."""
        return {
            "distance": self.distance,
            "normalized_distance": self.normalized_distance,
            "path_length": int(self.path.shape[0]),
            "engine": self.engine,
            **self.params,
        }


def _as2d(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise DTWInputError(f"sequence {name} is empty")
    return arr.reshape(arr.shape[0], -1)


def _band_limits(n: int, m: int, radius: float | None) -> tuple[np.ndarray, np.ndarray, float]:
    if radius is None:
        return np.zeros(n, np.int64), np.full(n, m - 1, np.int64), math.inf
    slope = (m - 1) / (n - 1) if n > 1 else 0.0
    r = max(float(radius), (slope + 1) / 2)
    centre = np.arange(n) * slope
    lo = np.clip(np.ceil(centre - r - 1e-9), 0, m - 1).astype(np.int64)
    hi = np.clip(np.floor(centre + r + 1e-9), 0, m - 1).astype(np.int64)
    lo[0] = 0
    hi[-1] = m - 1
    return lo, hi, r


def exact_dtw(
    a: np.ndarray,
    b: np.ndarray,
    *,
    band: float | None = None,
    window: int | None = None,
    backend: str = "auto",
) -> DTWResult:
    """Exact DTW of two sequences, optionally within a Sakoe–Chiba band.

    Parameters
    ----------
    a, b : ndarray, shape (N, …) and (M, …)
        Sequences (time on axis 0); trailing axes are flattened per frame
        and must have the same size. No NaN (see :func:`dtw` for policies).
    band : float, optional
        Band half-width as a fraction of ``len(b)`` (e.g. 0.1).
    window : int, optional
        Band half-width in frames of ``b``. Give at most one of ``band``
        and ``window``; neither means unconstrained (full O(NM)).
    backend : {"auto", "numba", "numpy"}
        ``numba`` runs the recurrence and the frame costs compiled, cell by
        cell, single-threaded (the same recurrence as the textbook
        algorithm); ``numpy`` uses the vectorised row form with BLAS cost
        blocks. ``auto`` picks numba when it is installed.
        Both give the same optimum.

    Returns
    -------
    DTWResult
        The exact optimum within the band.
    """
    x, y = _as2d(a, "a"), _as2d(b, "b")
    if x.shape[1] != y.shape[1]:
        raise DTWInputError(
            f"frames of a have {x.shape[1]} values but frames of b have {y.shape[1]}"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DTWInputError("exact_dtw got NaN/inf; choose a nan_policy in dtw()")
    if band is not None and window is not None:
        raise DTWInputError("give either band (fraction) or window (frames), not both")
    if band is not None and not band > 0:
        raise DTWInputError(f"band must be > 0, got {band}")
    n, m = x.shape[0], y.shape[0]
    radius = band * m if band is not None else (float(window) if window is not None else None)
    lo, hi, r = _band_limits(n, m, radius)
    widths = hi - lo + 1
    offsets = np.concatenate([[0], np.cumsum(widths)])
    # back-pointer per band cell: 0 = diagonal, 1 = from the row above, >= 2 = from the left
    back = np.empty(int(offsets[-1]), dtype=np.int8)
    impl = _resolve_backend(backend)
    if impl == "numba":
        kernels = _numba_kernels()
        distance = float(
            kernels[0](np.ascontiguousarray(x), np.ascontiguousarray(y), lo, hi, offsets, back)
        )
        p = kernels[1](back, offsets, lo, n, m)
    else:
        distance, p = _numpy_dtw(x, y, lo, hi, offsets, back)
    params: dict[str, Any] = {
        "band_fraction": band,
        "window_frames": window,
        "band_radius_frames": None if math.isinf(r) else round(r, 3),
        "len_a": n,
        "len_b": m,
        "backend": impl,
    }
    return DTWResult(distance, distance / len(p), p, "exact", params)


def _resolve_backend(backend: str) -> str:
    if backend not in {"auto", "numba", "numpy"}:
        raise DTWInputError(f"unknown DTW backend {backend!r}", hint="use auto, numba or numpy")
    if backend == "numpy":
        return "numpy"
    try:
        import numba  # noqa: F401
    except ImportError:
        if backend == "numba":
            raise DTWInputError(
                "the numba DTW backend needs the 'numba' package",
                hint="pip install numba, or use backend='numpy'",
            ) from None
        return "numpy"
    return "numba"


def _numpy_dtw(
    x: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    offsets: np.ndarray,
    back: np.ndarray,
) -> tuple[float, np.ndarray]:
    n, m = x.shape[0], y.shape[0]
    use_gram = x.shape[1] >= 8
    xx = np.einsum("ij,ij->i", x, x) if use_gram else None
    yy = np.einsum("ij,ij->i", y, y) if use_gram else None
    block = 64
    prev = np.empty(0)
    plo = phi = 0
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        bl, bh = int(lo[i0:i1].min()), int(hi[i0:i1].max())
        cost = _cost_block(x[i0:i1], y[bl : bh + 1], xx, yy, i0, i1, bl, bh)
        for i in range(i0, i1):
            prev, plo, phi = _numpy_row(
                cost[i - i0],
                i,
                int(lo[i]),
                int(hi[i]),
                bl,
                prev,
                plo,
                phi,
                back[offsets[i] : offsets[i + 1]],
            )
    return float(prev[-1]), _backtrack(back, offsets, lo, n, m)


def _cost_block(
    xb: np.ndarray,
    yb: np.ndarray,
    xx: np.ndarray | None,
    yy: np.ndarray | None,
    i0: int,
    i1: int,
    bl: int,
    bh: int,
) -> np.ndarray:
    """Euclidean costs between rows i0..i1-1 of x and columns bl..bh of y."""
    if xx is None or yy is None:
        diff = yb[None, :, :] - xb[:, None, :]
        return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    # |x|^2 + |y|^2 - 2 x.y through BLAS; clipped at 0 against rounding.
    g = xb @ yb.T
    g *= -2.0
    g += xx[i0:i1, None]
    g += yy[None, bl : bh + 1]
    np.maximum(g, 0.0, out=g)
    return np.sqrt(g, out=g)


def _numpy_row(
    crow: np.ndarray,
    i: int,
    lo_i: int,
    h: int,
    bl: int,
    prev: np.ndarray,
    plo: int,
    phi: int,
    code: np.ndarray,
) -> tuple[np.ndarray, int, int]:
    """One DP row in closed form (see the module docstring)."""
    c = crow[lo_i - bl : h - bl + 1]
    if i == 0:
        code[:] = 2
        return np.cumsum(c), lo_i, h
    # P[k] = D[i-1, lo_i-1+k] for k = 0..w (inf outside the previous row's band)
    w = h - lo_i + 1
    pad = np.full(w + 1, np.inf)
    s0 = max(plo, lo_i - 1)
    s1 = min(phi, h)
    if s0 <= s1:
        pad[s0 - (lo_i - 1) : s1 - (lo_i - 1) + 1] = prev[s0 - plo : s1 - plo + 1]
    diag, up = pad[:w], pad[1:]
    from_up = up < diag
    csum = np.cumsum(c)
    key = np.minimum(diag, up)
    key += c
    key -= csum
    run = np.minimum.accumulate(key)
    np.greater(key, run, out=code, casting="unsafe")
    code <<= 1
    code |= from_up
    return csum + run, lo_i, h


def _backtrack(back: np.ndarray, offsets: np.ndarray, lo: np.ndarray, n: int, m: int) -> np.ndarray:
    path = []
    i, j = n - 1, m - 1
    while True:
        path.append((i, j))
        if i == 0 and j == 0:
            break
        d = back[offsets[i] + (j - lo[i])]
        if d >= 2:
            j -= 1
        elif d == 1:
            i -= 1
        else:
            i, j = i - 1, j - 1
    return np.asarray(path[::-1], dtype=np.int64)


_KERNELS: tuple[Any, Any] | None = None


def _numba_kernels() -> tuple[Any, Any]:
    """Compile (once per process; cached on disk by numba) the DP and backtrack kernels."""
    global _KERNELS
    if _KERNELS is not None:
        return _KERNELS
    import numba

    @numba.njit(cache=True, nogil=True, fastmath=True)
    def dp(x, y, lo, hi, offsets, back):
        n, m = x.shape[0], y.shape[0]
        d = x.shape[1]
        inf = np.inf
        prev = np.full(m, inf)
        cur = np.full(m, inf)
        for i in range(n):
            li = lo[i]
            hi_i = hi[i]
            off = offsets[i]
            pl = lo[i - 1] if i > 0 else 0
            ph = hi[i - 1] if i > 0 else -1
            for j in range(li, hi_i + 1):
                acc = 0.0
                for k in range(d):
                    t = x[i, k] - y[j, k]
                    acc += t * t
                c = np.sqrt(acc)
                if i == 0:
                    if j == 0:
                        cur[j] = c
                        back[off] = 0
                    else:
                        cur[j] = c + cur[j - 1]
                        back[off + j - li] = 2
                    continue
                best = inf
                code = 0
                if pl <= j - 1 <= ph:
                    best = prev[j - 1]
                if pl <= j <= ph and prev[j] < best:
                    best = prev[j]
                    code = 1
                if j > li and cur[j - 1] < best:
                    best = cur[j - 1]
                    code = 2
                cur[j] = c + best
                back[off + j - li] = code
            for j in range(li, hi_i + 1):
                prev[j] = cur[j]
        return prev[m - 1]

    @numba.njit(cache=True, nogil=True)
    def backtrack(back, offsets, lo, n, m):
        out = np.empty((n + m, 2), dtype=np.int64)
        k = 0
        i = n - 1
        j = m - 1
        while True:
            out[k, 0] = i
            out[k, 1] = j
            k += 1
            if i == 0 and j == 0:
                break
            d = back[offsets[i] + j - lo[i]]
            if d >= 2:
                j -= 1
            elif d == 1:
                i -= 1
            else:
                i -= 1
                j -= 1
        return out[:k][::-1].copy()

    _KERNELS = (dp, backtrack)
    return _KERNELS


def fast_dtw(a: np.ndarray, b: np.ndarray, *, radius: int = 1) -> DTWResult:
    """Approximate DTW with the ``fastdtw`` package (Euclidean frame cost).

    The returned distance is an upper bound of the exact DTW distance.
    """
    from fastdtw import fastdtw as _fastdtw

    x, y = _as2d(a, "a"), _as2d(b, "b")
    if x.shape[1] != y.shape[1]:
        raise DTWInputError(
            f"frames of a have {x.shape[1]} values but frames of b have {y.shape[1]}"
        )

    def euclid(u: np.ndarray, v: np.ndarray) -> float:
        d = u - v
        return float(math.sqrt(float(d @ d)))

    dist, path = _fastdtw(x, y, radius=radius, dist=euclid)
    p = np.asarray(path, dtype=np.int64)
    return DTWResult(
        float(dist),
        float(dist) / len(p),
        p,
        "fastdtw",
        {"radius": radius, "len_a": x.shape[0], "len_b": y.shape[0]},
    )


def path_cost(a: np.ndarray, b: np.ndarray, path: np.ndarray) -> float:
    """Sum of Euclidean frame costs of ``a`` and ``b`` along ``path`` (K, 2)."""
    x, y = _as2d(a, "a"), _as2d(b, "b")
    p = np.asarray(path)
    return float(np.linalg.norm(x[p[:, 0]] - y[p[:, 1]], axis=1).sum())


# ----------------------------------------------------------------------------- NaN policies
