"""Per-tick consumers and the two built-in debounced event detectors.

The loop calls every tick consumer with each :class:`Tick`; a consumer
returns the :class:`~neuropose.schemas.live.LiveEvent` s it detected on that
tick (usually none). This is the hook a classifier plugs into: anything with
``__call__(tick) -> list[LiveEvent]``.

Debouncing
----------
A detector's condition must hold on ``n_stable_ticks`` consecutive fresh
ticks before its state changes. Stale ticks (no new frame) are ignored; a
tick on which the signal is NaN (subject not detected, or inside a filter's
window) restarts the count. The first stable state sets the detector's
state without an event: a signal that starts above a threshold has not
crossed it.

* :class:`ThresholdDetector` (``SIGNAL>VALUE`` or ``SIGNAL<VALUE``): one
  ``threshold`` event each time the signal becomes stably above (below) the
  value after having been stably on the other side.
* :class:`RepetitionDetector` (``SIGNAL:LOW:HIGH``): hysteresis between the
  two levels; one ``repetition`` event each time the signal returns stably
  below ``LOW`` after having been stably above ``HIGH`` (a full
  low -> high -> low cycle).

Examples
--------
>>> det = RepetitionDetector("reach", low=0.2, high=0.8, n_stable_ticks=2)
>>> values = [0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0]  # the lone 1 and 0 are glitches
>>> events = [e for i, v in enumerate(values) for e in det(Tick.of(i * 0.1, {"reach": v}))]
>>> [(round(e.time_s, 1), e.count) for e in events]
[(0.6, 1), (1.2, 2)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from neuropose.errors import InputError
from neuropose.schemas.live import LiveEvent

__all__ = [
    "RepetitionDetector",
    "ThresholdDetector",
    "Tick",
    "TickConsumer",
    "parse_repetition",
    "parse_threshold",
]


@dataclass(frozen=True)
class Tick:
    """What the loop knows at one tick.

    Attributes
    ----------
    time_s : float
        Source time of the newest frame, seconds.
    index : int
        That frame's index in the source (-1 before the first frame).
    stale : bool
        True when no new frame arrived since the previous tick: ``pose`` and
        ``values`` are the previous tick's, the estimator was not re-run.
    pose : ndarray (J, 3) or None
        The subject's joints, mm (NaN when not detected).
    values : dict of str to ndarray
        Every graph output at this frame (shape ``()`` for scalars).
    """

    time_s: float
    index: int
    stale: bool
    pose: np.ndarray | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, time_s: float, values: dict[str, Any], *, stale: bool = False) -> Tick:
        """A fresh tick with scalar ``values`` (tests and doctests)."""
        return cls(time_s, -1, stale, None, {k: np.asarray(v, float) for k, v in values.items()})

    def scalar(self, name: str) -> float:
        """The value of signal ``name`` as a float (NaN when missing).

        Raises
        ------
        InputError
            ``name`` is not an output of the graph, or is not a scalar.
        """
        if name not in self.values:
            known = ", ".join(sorted(self.values)) or "none"
            raise InputError(
                f"event signal {name!r} is not an output of the signal spec",
                hint=f"outputs: {known}",
            )
        v = np.asarray(self.values[name])
        if v.size != 1:
            raise InputError(
                f"event signal {name!r} has shape {list(v.shape)} per frame, not a scalar",
                hint="use a scalar signal (an angle, a distance, a speed) for events",
            )
        return float(v.reshape(()))


#: ``consumer(tick) -> events``: the per-tick hook (see the module docstring).
TickConsumer = Callable[[Tick], list[LiveEvent]]


class _Debounced:
    """A level that changes only after ``n`` consecutive fresh ticks agree."""

    def __init__(self, n_stable_ticks: int) -> None:
        if n_stable_ticks < 1:
            raise InputError(f"n_stable_ticks must be >= 1, got {n_stable_ticks}")
        self.n = n_stable_ticks
        self.level: str | None = None
        self._candidate: str | None = None
        self._run = 0

    def feed(self, level: str | None) -> tuple[str | None, str | None]:
        """(previous level, new level) when the stable level changed, else (x, None)."""
        if level is None:
            self._candidate, self._run = None, 0
            return self.level, None
        if level == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = level, 1
        if self._run >= self.n and level != self.level:
            old, self.level = self.level, level
            return old, level
        return self.level, None


class ThresholdDetector:
    """``threshold`` events when ``signal`` crosses ``value`` (see the module docstring)."""

    def __init__(
        self, signal: str, op: Literal[">", "<"], value: float, n_stable_ticks: int = 3
    ) -> None:
        self.signal, self.op, self.value = signal, op, float(value)
        self._level = _Debounced(n_stable_ticks)
        self.count = 0

    def __call__(self, tick: Tick) -> list[LiveEvent]:
        if tick.stale:
            return []
        v = tick.scalar(self.signal)
        if math.isnan(v) or v == self.value:
            level = None
        else:
            level = "on" if (v > self.value) == (self.op == ">") else "off"
        old, new = self._level.feed(level)
        if new != "on" or old is None:
            return []
        self.count += 1
        word = "above" if self.op == ">" else "below"
        return [
            LiveEvent(
                time_s=tick.time_s,
                kind="threshold",
                signal=self.signal,
                value=v,
                detail=f"{self.signal} went {word} {self.value:g}",
                count=self.count,
            )
        ]


class RepetitionDetector:
    """``repetition`` events, one per low -> high -> low cycle (see the module docstring)."""

    def __init__(self, signal: str, low: float, high: float, n_stable_ticks: int = 3) -> None:
        if not low < high:
            raise InputError(f"repetition {signal}: LOW ({low:g}) must be below HIGH ({high:g})")
        self.signal, self.low, self.high = signal, float(low), float(high)
        self._level = _Debounced(n_stable_ticks)
        self._seen_low = False
        self.count = 0

    def __call__(self, tick: Tick) -> list[LiveEvent]:
        if tick.stale:
            return []
        v = tick.scalar(self.signal)
        level = None
        if v < self.low:
            level = "low"
        elif v > self.high:
            level = "high"
        old, new = self._level.feed(level)
        if new != "low":
            return []
        completed = old == "high" and self._seen_low
        self._seen_low = True
        if not completed:
            return []
        self.count += 1
        return [
            LiveEvent(
                time_s=tick.time_s,
                kind="repetition",
                signal=self.signal,
                value=v,
                detail=f"repetition {self.count} of {self.signal} "
                f"(above {self.high:g}, back below {self.low:g})",
                count=self.count,
            )
        ]


_THRESHOLD = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*([<>])\s*(-?[\d.]+(?:e-?\d+)?)\s*$")
_NUM = r"(-?[\d.]+(?:e-?\d+)?)"
_REPETITION = re.compile(rf"^\s*([A-Za-z_][\w.\-]*)\s*:\s*{_NUM}\s*:\s*{_NUM}\s*$")


def parse_threshold(text: str, n_stable_ticks: int) -> ThresholdDetector:
    """A detector from ``--threshold SIGNAL>VALUE`` (or ``<``).

    >>> parse_threshold("knee>120", 3).value
    120.0
    """
    m = _THRESHOLD.match(text)
    if m is None:
        raise InputError(
            f"--threshold {text!r} is not SIGNAL>VALUE or SIGNAL<VALUE",
            hint="e.g. --threshold 'left_knee_angle>120'",
        )
    op: Literal[">", "<"] = ">" if m.group(2) == ">" else "<"
    return ThresholdDetector(m.group(1), op, float(m.group(3)), n_stable_ticks)


def parse_repetition(text: str, n_stable_ticks: int) -> RepetitionDetector:
    """A detector from ``--repetition SIGNAL:LOW:HIGH``.

    >>> d = parse_repetition("reach:0.2:0.8", 2); (d.low, d.high)
    (0.2, 0.8)
    """
    m = _REPETITION.match(text)
    if m is None:
        raise InputError(
            f"--repetition {text!r} is not SIGNAL:LOW:HIGH",
            hint="e.g. --repetition 'wrist_height:-100:100'",
        )
    return RepetitionDetector(m.group(1), float(m.group(2)), float(m.group(3)), n_stable_ticks)
