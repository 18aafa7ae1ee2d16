"""The one-euro filter as MediaPipe implements it (used by the estimator and BlazePose).

One-euro (Casiez, Roussel and Vogel, CHI 2012) is an exponential smoother
whose cut-off frequency rises with the signal's speed: little lag when the
signal moves fast, strong smoothing when it is still. MediaPipe's variant
(``mediapipe/util/filtering/one_euro_filter.cc``), reproduced here:

* speed = (value - previous *raw* value) × ``value_scale`` × rate, where the
  rate is 1 / (time since the previous sample);
* the speed is low-passed at ``d_cutoff`` Hz; the value is low-passed at
  ``min_cutoff + beta × |filtered speed|`` Hz;
* low-pass weight ``alpha = 1 / (1 + tau × rate)``, ``tau = 1 / (2π cutoff)``;
* the first sample passes through unchanged.

NaN policy: a NaN sample passes through as NaN and restarts the filter of that
element (the next finite sample passes unchanged).

The analyzer's :func:`neuropose.analyzer.filtering.one_euro` is the reference
(Casiez) variant on purpose: it takes the speed against the previous
*filtered* value and restarts whole frames at gaps, so it differs from this
filter whenever ``beta > 0``. This one stays MediaPipe's because the
estimator and BlazePose pipeline must reproduce MediaPipe's numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OneEuroFilter", "OneEuroParams"]


@dataclass(frozen=True)
class OneEuroParams:
    """One-euro parameters: cut-offs in Hz, ``beta`` in Hz per unit of scaled speed."""

    min_cutoff: float
    beta: float
    d_cutoff: float = 1.0


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau * rate)


class OneEuroFilter:
    """Streaming one-euro filter over an array of independent elements.

    Parameters
    ----------
    params : OneEuroParams
        Filter parameters.
    rate_hz : float
        Sampling rate assumed for the second sample when no earlier time is
        known (MediaPipe's default is 30).

    Examples
    --------
    >>> f = OneEuroFilter(OneEuroParams(min_cutoff=1.0, beta=0.0))
    >>> [round(float(f(t / 30, np.array([v]))[0]), 3) for t, v in enumerate([0, 1, 1])]
    [0.0, 0.173, 0.316]
    """

    def __init__(self, params: OneEuroParams, rate_hz: float = 30.0) -> None:
        self.params = params
        self.rate_hz = rate_hz
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes unchanged."""
        self._t: float | None = None
        self._raw: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._dy: np.ndarray | None = None

    def get_state(
        self,
    ) -> tuple[float | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``(t, raw, y, dy)``: last time, raw value, filtered value and derivative (copies)."""

        def cp(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a.copy()

        return self._t, cp(self._raw), cp(self._y), cp(self._dy)

    def set_state(
        self,
        t: float | None,
        raw: np.ndarray | None,
        y: np.ndarray | None,
        dy: np.ndarray | None,
    ) -> None:
        """Continue from a state returned by :meth:`get_state`."""

        def cp(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.array(a, np.float64)

        self._t, self._raw, self._y, self._dy = t, cp(raw), cp(y), cp(dy)

    def __call__(
        self, t: float, value: np.ndarray, value_scale: float | np.ndarray = 1.0
    ) -> np.ndarray:
        """Filtered ``value`` at time ``t`` seconds (must increase; otherwise passed through)."""
        x = np.asarray(value, np.float64)
        if self._raw is None or self._y is None or self._dy is None:
            self._t, self._raw, self._y, self._dy = t, x.copy(), x.copy(), np.zeros_like(x)
            return x.copy()
        if self._t is not None and t <= self._t:
            return x.copy()
        rate = 1.0 / (t - self._t) if self._t is not None else self.rate_hz
        fresh = ~np.isfinite(self._raw) | ~np.isfinite(self._y)
        dx = np.where(fresh, 0.0, (x - self._raw) * value_scale * rate)
        ad = _alpha(self.params.d_cutoff, rate)
        dy = np.where(fresh, dx, ad * dx + (1 - ad) * self._dy)
        a = _alpha(self.params.min_cutoff + self.params.beta * np.abs(dy), rate)
        y = np.where(fresh, x, a * x + (1 - a) * self._y)
        finite = np.isfinite(x)
        self._t = t
        self._raw = x.copy()
        self._y = np.where(finite, y, np.nan)
        self._dy = np.where(finite, dy, 0.0)
        return np.where(finite, y, x)
