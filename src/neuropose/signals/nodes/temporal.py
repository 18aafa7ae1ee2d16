"""Derivatives and frame rate from the frames' own timestamps (variable frame rate safe).

Derivatives are causal backward differences on the real time stamps, never
on the frame index, so dropped frames and variable rates keep the units
right: velocity at frame i is ``(x[i] − x[i−1]) / (t[i] − t[i−1])``.
A **duplicate or decreasing timestamp** (``t[i] <= t[i−1]``) gives **NaN**
at that frame (never ±inf); the next frame differences against it as usual.
Units: input unit per second (mm/s, deg/s); acceleration per second².
"""

from __future__ import annotations

import numpy as np

from neuropose.signals.joints import JointMap
from neuropose.signals.nodes.base import Node, Params, register
from neuropose.signals.nodes.geometric import NoParams

__all__ = ["Acceleration", "FrameRate", "Speed", "Velocity"]


class _History(Node):
    """Keeps the last ``depth`` frames (times and input rows) across pushes."""

    depth = 1

    def nan_span(self) -> int | None:
        return self.depth

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        self.reset()

    def reset(self) -> None:
        self._t: np.ndarray | None = None
        self._x: np.ndarray | None = None

    def extend(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times and rows with the kept history (NaN-padded at the start) prepended."""
        t = np.asarray(t, np.float64)
        x = np.asarray(x, np.float64)
        if self._t is None or self._x is None:
            self._t = np.full(self.depth, np.nan)
            self._x = np.full((self.depth, *x.shape[1:]), np.nan)
        tt = np.concatenate([self._t, t])
        xx = np.concatenate([self._x, x])
        self._t, self._x = tt[-self.depth :], xx[-self.depth :]
        return tt, xx


def _dt(tt: np.ndarray, ndim: int) -> np.ndarray:
    """Positive intervals of ``tt`` (NaN where not > 0), shaped to broadcast on ``ndim``."""
    dt = np.diff(tt)
    with np.errstate(invalid="ignore"):
        dt = np.where(dt > 0, dt, np.nan)
    return dt.reshape((-1,) + (1,) * (ndim - 1))


def backward_velocity(tt: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Backward differences of rows ``xx`` (m, …) over times ``tt`` (m,): (m − 1, …).

    Examples
    --------
    >>> t = np.array([0.0, 0.1, 0.25, 0.25, 0.3])
    >>> backward_velocity(t, 3 * t).round(9).tolist()
    [3.0, 3.0, nan, 3.0]
    """
    return np.diff(xx, axis=0) / _dt(tt, xx.ndim)


@register
class Velocity(_History):
    """Time derivative (backward difference), unit of the input per second.

    Window: a missing frame k makes frames k and k + 1 NaN.
    """

    kind = "velocity"
    params_model = NoParams
    n_inputs = 1
    window = "frames k and k+1"
    unit = "{in}/s"

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        return backward_velocity(*self.extend(t, inputs[0]))


@register
class Speed(_History):
    """Magnitude of the velocity: norm over the last axis of size 3 ((n, 3) → (n,);
    (n, J, 3) → (n, J)); absolute velocity for any other shape. Input unit per second.
    """

    kind = "speed"
    params_model = NoParams
    n_inputs = 1
    window = "frames k and k+1"
    unit = "{in}/s"

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        v = backward_velocity(*self.extend(t, inputs[0]))
        if v.ndim >= 2 and v.shape[-1] == 3:
            return np.linalg.norm(v, axis=-1)
        return np.abs(v)


@register
class Acceleration(_History):
    """Second time derivative on non-uniform times, unit of the input per second².

    ``a[i] = 2 (v[i] − v[i−1]) / (t[i] − t[i−2])`` with backward velocities
    ``v``: exact for quadratics on any spacing. Window: frames k to k + 2.
    """

    kind = "acceleration"
    params_model = NoParams
    n_inputs = 1
    depth = 2
    window = "frames k to k+2"
    unit = "{in}/s²"

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        tt, xx = self.extend(t, inputs[0])
        v = backward_velocity(tt, xx)
        span = tt[2:] - tt[:-2]
        with np.errstate(invalid="ignore"):
            span = np.where(span > 0, span, np.nan)
        return 2.0 * np.diff(v, axis=0) / span.reshape((-1,) + (1,) * (v.ndim - 1))


@register
class FrameRate(_History):
    """Instantaneous frame rate ``1 / (t[i] − t[i−1])``, Hz (NaN on the first frame and
    on duplicate or decreasing timestamps). Independent of detections.
    """

    kind = "frame_rate"
    params_model = NoParams
    window = "none (timestamps only)"
    unit = "Hz"

    def nan_span(self) -> int | None:
        return None

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        tt, _ = self.extend(t, np.zeros(len(t)))
        return 1.0 / _dt(tt, 1)
