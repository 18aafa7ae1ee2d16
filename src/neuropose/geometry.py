"""Pure vector geometry on 3D points: the angle conventions shared by analyzer and signals.

Every function takes arrays of shape (…, 3) in any consistent unit (any
number of leading axes, broadcast together) and returns degrees. NaN in any
input vector gives NaN (never an exception); a zero-length vector gives NaN.

Examples
--------
>>> import numpy as np
>>> round(float(angle_3pt(np.array([1.0, 0, 0]), np.zeros(3), np.array([0, 1.0, 0]))), 6)
90.0
>>> round(float(segment_angle(np.zeros(3), np.array([1.0, 1, 0]), np.array([0.0, 1, 0]))), 6)
45.0
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "angle_3pt",
    "angle_between",
    "segment_angle",
    "signed_angle_in_plane",
    "unit_vector",
]


def unit_vector(v: np.ndarray) -> np.ndarray:
    """``v`` (…, 3) divided by its norm along the last axis; NaN where the norm is 0 or NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        return np.where(n > 0, v / n, np.nan)


def angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned angle between vectors ``u`` and ``v`` (…, 3), degrees in [0, 180].

    Uses ``atan2(|u×v|, u·v)``, accurate near 0° and 180°. NaN when either
    vector is NaN or zero.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    dot = np.sum(u * v, axis=-1)
    with np.errstate(invalid="ignore"):
        zero = (np.linalg.norm(u, axis=-1) == 0) | (np.linalg.norm(v, axis=-1) == 0)
        out = np.degrees(np.arctan2(cross, dot))
    return np.where(zero, np.nan, out)


def angle_3pt(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle ∠abc at vertex ``b`` between rays b→a and b→c, degrees in [0, 180]."""
    return angle_between(np.asarray(a) - np.asarray(b), np.asarray(c) - np.asarray(b))


def segment_angle(a: np.ndarray, b: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Angle between segment a→b and a ``reference`` vector (3,) or (…, 3), degrees in [0, 180]."""
    return angle_between(np.asarray(b) - np.asarray(a), np.broadcast_to(reference, np.shape(a)))


def signed_angle_in_plane(u: np.ndarray, v: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Signed angle from ``u`` to ``v`` after projecting both on the plane ⟂ ``normal``.

    Positive when the rotation u→v is counter-clockwise seen from the tip of
    ``normal`` (right-hand rule). Degrees in (−180, 180].
    """
    n = unit_vector(np.broadcast_to(normal, np.shape(u)))
    up = u - np.sum(u * n, axis=-1, keepdims=True) * n
    vp = v - np.sum(v * n, axis=-1, keepdims=True) * n
    s = np.sum(np.cross(up, vp) * n, axis=-1)
    c = np.sum(up * vp, axis=-1)
    return np.degrees(np.arctan2(s, c))
