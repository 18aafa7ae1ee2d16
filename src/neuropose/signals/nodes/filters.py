"""Smoothing filters: causal Butterworth (carried state), one-euro, moving averages.

Butterworth nodes are designed for the **declared** sampling rate
``fs_hz`` (a causal filter cannot measure the rate of frames it has not
seen); they assume frames arrive at about that rate, and log a warning when
the first 30 frames arrive at a rate more than 25 % away from it. scipy is imported only
when a Butterworth node is built.

NaN policy (``propagate``): a row (frame) with any NaN element gives a NaN
output row and is never fed into a filter's state. The causal Butterworth
then **restarts** on the next complete frame from the steady state of that
frame's value (as if the signal had been constant before it), so a gap
never latches NaN. One-euro restarts element-wise the same way
(:class:`neuropose.smoothing.OneEuroFilter`). Moving averages are NaN while
the window holds a missing frame.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field, model_validator

from neuropose.gaps import valid_runs
from neuropose.signals.joints import JointMap
from neuropose.signals.nodes.base import Node, NonCausalNode, Params, register
from neuropose.smoothing import OneEuroFilter, OneEuroParams

__all__ = ["Butterworth", "CenteredAverage", "FiltFilt", "MovingAverage", "OneEuro"]

logger = logging.getLogger(__name__)


class ButterParams(Params):
    """Butterworth design: ``btype`` low/high/band, ``cutoff_hz`` (one value, or [low, high]
    for band), ``order``, and the sampling rate ``fs_hz`` the frames arrive at."""

    btype: Literal["low", "high", "band"] = "low"
    cutoff_hz: float | tuple[float, float]
    order: int = Field(default=2, ge=1, le=8)
    fs_hz: float = Field(gt=0)

    @model_validator(mode="after")
    def _cutoffs(self) -> ButterParams:
        cut = self.cutoff_hz
        if self.btype == "band":
            if not isinstance(cut, tuple) or not 0 < cut[0] < cut[1]:
                raise ValueError("a band-pass needs cutoff_hz = [low, high] with 0 < low < high")
            top = cut[1]
        else:
            if isinstance(cut, tuple):
                raise ValueError(f"a {self.btype}-pass needs one cutoff_hz value")
            if cut <= 0:
                raise ValueError("cutoff_hz must be > 0")
            top = cut
        if top >= self.fs_hz / 2:
            raise ValueError(
                f"cutoff_hz {top} must be below the Nyquist frequency {self.fs_hz / 2} Hz"
            )
        return self

    def sos(self) -> np.ndarray:
        """Second-order sections of the design."""
        from scipy import signal as sps  # heavy: only when a filter node is built

        btype = {"low": "lowpass", "high": "highpass", "band": "bandpass"}[self.btype]
        return np.asarray(
            sps.butter(self.order, self.cutoff_hz, btype=btype, fs=self.fs_hz, output="sos")
        )


def _flat(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))


class _RateCheck:
    """Logs one warning when the frames' measured rate is far from a filter's ``fs_hz``.

    The rate is 1 / median interval of the first :attr:`FRAMES` frames; a
    ratio outside [0.8, 1.25] means the filter's cut-offs are off by that
    factor. It never changes an output.
    """

    FRAMES = 30

    def __init__(self, node: str, fs_hz: float) -> None:
        self.node, self.fs_hz = node, fs_hz
        self.times: list[float] | None = []

    def update(self, t: np.ndarray) -> None:
        if self.times is None:
            return
        self.times.extend(np.asarray(t, np.float64).tolist())
        if len(self.times) < self.FRAMES:
            return
        dt = np.diff(self.times[: self.FRAMES])
        dt = dt[np.isfinite(dt) & (dt > 0)]
        self.times = None
        if dt.size and not 0.8 <= 1.0 / float(np.median(dt)) / self.fs_hz <= 1.25:
            logger.warning(
                "signal node %r: frames arrive at %.1f Hz but its filter is designed for "
                "fs_hz = %g; its cut-offs are off by that ratio",
                self.node,
                1.0 / float(np.median(dt)),
                self.fs_hz,
            )


@register
class Butterworth(Node):
    """Causal Butterworth (``scipy.signal.sosfilt``) carrying its ``zi`` across pushes.

    Unit of the input. Output lags the input (phase delay); DC gain 1 for
    low-pass. Window: the missing frames only, then a restart (see module).
    """

    kind = "butterworth"
    params_model = ButterParams
    n_inputs = 1
    window = "the missing frames; restarts at steady state after"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        from scipy import signal as sps

        assert isinstance(params, ButterParams)
        self.fs_hz = params.fs_hz
        self.sos = params.sos()
        self.zi0 = np.asarray(sps.sosfilt_zi(self.sos))
        self._sosfilt: Any = sps.sosfilt
        self.reset()

    def reset(self) -> None:
        self.zi: np.ndarray | None = None
        self._rate = _RateCheck(self.name, self.fs_hz)

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        self._rate.update(t)
        x = np.asarray(inputs[0], np.float64)
        flat = _flat(x)
        out = np.full_like(flat, np.nan)
        for ok, a, b in valid_runs(np.isfinite(flat).all(axis=1)):
            if not ok:
                self.zi = None
                continue
            if self.zi is None:
                self.zi = self.zi0[:, :, None] * flat[a][None, None, :]
            out[a:b], self.zi = self._sosfilt(self.sos, flat[a:b], axis=0, zi=self.zi)
        return out.reshape(x.shape)


class OneEuroNodeParams(Params):
    """One-euro cut-offs in Hz and ``beta`` in Hz per (input unit / s)."""

    min_cutoff_hz: float = Field(default=1.0, gt=0)
    beta: float = Field(default=0.0, ge=0)
    d_cutoff_hz: float = Field(default=1.0, gt=0)


@register
class OneEuro(Node):
    """One-euro filter (:class:`neuropose.smoothing.OneEuroFilter`) on real timestamps.

    Unit of the input. A NaN element passes as NaN and restarts that element;
    a duplicate timestamp passes the raw value through.
    """

    kind = "one_euro"
    params_model = OneEuroNodeParams
    n_inputs = 1

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, OneEuroNodeParams)
        self.filter = OneEuroFilter(
            OneEuroParams(params.min_cutoff_hz, params.beta, params.d_cutoff_hz)
        )

    def reset(self) -> None:
        self.filter.reset()

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        x = np.asarray(inputs[0], np.float64)
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = self.filter(float(t[i]), x[i])
        return out


class WindowParams(Params):
    """``window``: number of frames averaged."""

    window: int = Field(ge=1)


@register
class MovingAverage(Node):
    """Trailing mean of the last ``window`` frames, element-wise for any shape (n, …).

    Unit of the input. NaN for the first ``window − 1`` frames of a recording
    (window not full) and while the window holds a NaN (frames k to
    k + window − 1). The lag is (window − 1) / 2 frames.
    """

    kind = "moving_average"
    params_model = WindowParams
    n_inputs = 1
    window = "frames k to k+window-1"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, WindowParams)
        self.w = params.window
        self.reset()

    def nan_span(self) -> int | None:
        return self.w - 1

    def reset(self) -> None:
        self._buf: np.ndarray | None = None

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        x = np.asarray(inputs[0], np.float64)
        if x.shape[0] == 0:
            return x.copy()
        if self._buf is None:
            self._buf = np.full((self.w - 1, *x.shape[1:]), np.nan)
        xx = np.concatenate([self._buf, x])
        self._buf = xx[xx.shape[0] - (self.w - 1) :]
        return np.asarray(sliding_window_view(xx, self.w, axis=0).mean(axis=-1))


@register
class FiltFilt(NonCausalNode):
    """Zero-phase Butterworth (``sosfiltfilt``), offline only (non-causal).

    Each contiguous run of complete frames is filtered forwards and
    backwards; runs shorter than the padding (3 × (2 × sections + 1) frames)
    are NaN. Unit of the input; no lag; magnitude response squared.
    """

    kind = "filtfilt"
    params_model = ButterParams
    n_inputs = 1
    window = "the missing frames; runs too short to pad are NaN"

    def offline(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        from scipy import signal as sps

        assert isinstance(self.params, ButterParams)
        sos = self.params.sos()
        pad = 3 * (2 * len(sos) + 1)
        flat = _flat(x)
        out = np.full_like(flat, np.nan)
        for ok, a, b in valid_runs(np.isfinite(flat).all(axis=1)):
            if ok and b - a > pad:
                out[a:b] = sps.sosfiltfilt(sos, flat[a:b], axis=0, padlen=pad)
        return out.reshape(x.shape)


class CenteredParams(Params):
    """``window``: odd number of frames centred on each frame."""

    window: int = Field(ge=1)

    @model_validator(mode="after")
    def _odd(self) -> CenteredParams:
        if self.window % 2 == 0:
            raise ValueError(f"window must be odd to be centred, got {self.window}")
        return self


@register
class CenteredAverage(NonCausalNode):
    """Mean of the ``window`` frames centred on each frame, offline only (non-causal).

    NaN within window // 2 frames of either end and while the window holds a NaN.
    """

    kind = "centered_average"
    params_model = CenteredParams
    n_inputs = 1
    window = "frames k-window//2 to k+window//2"

    def offline(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        assert isinstance(self.params, CenteredParams)
        w = self.params.window
        h = w // 2
        pad = np.full((h, *x.shape[1:]), np.nan)
        xx = np.concatenate([pad, x, pad])
        return np.asarray(sliding_window_view(xx, w, axis=0).mean(axis=-1))
