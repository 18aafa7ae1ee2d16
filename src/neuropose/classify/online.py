"""Classify a stream frame by frame, with the same features as offline.

:class:`OnlineClassifier` keeps the frames of the last ``win_s`` seconds. At
frame time ``t`` it classifies the window ``[t + Δ − win_s, t + Δ)``
(``Δ`` = median frame interval so far), i.e. the frames ``t' > t + Δ − win_s``
up to and including ``t``, with the model's extract hook on exactly those
frames — so whenever that window is one of the offline windows (its start on
the ``hop_s`` grid from the first frame), the online class equals the
offline class. A window with too many missing frames or an undefined
feature gives no class (``None``), as offline.

Class changes are debounced: a class becomes current after
``n_stable_ticks`` consecutive frames predict it; a frame with no class
restarts the count. Every change of the current class (including the first)
is reported once.

Examples
--------
>>> deb = Debouncer(2)
>>> [deb.feed(c) for c in ["a", "a", "b", "a", "b", "b", None, "b"]]
[None, 'a', None, None, None, 'b', None, None]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from neuropose.classify.pipeline import build_pipeline
from neuropose.classify.run import FeatureFactory
from neuropose.classify.store import LoadedModel, check_input
from neuropose.classify.windows import EPS_S, Window
from neuropose.schemas import Skeleton

__all__ = ["ClassChange", "Debouncer", "OnlineClassifier"]


class Debouncer:
    """The current class changes after ``n`` consecutive equal predictions."""

    def __init__(self, n: int) -> None:
        self.n = max(1, int(n))
        self.current: str | None = None
        self._candidate: str | None = None
        self._run = 0

    def feed(self, label: str | None) -> str | None:
        """The new current class when it just changed, else None."""
        if label is None:
            self._candidate, self._run = None, 0
            return None
        if label == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = label, 1
        if self._run >= self.n and label != self.current:
            self.current = label
            return label
        return None


@dataclass(frozen=True)
class ClassChange:
    """The current class changed at ``time_s`` (``previous`` None at the first)."""

    time_s: float
    previous: str | None
    current: str


class OnlineClassifier:
    """Per-frame classification over a sliding window (see the module docstring).

    Parameters
    ----------
    loaded : LoadedModel
        The model (checked against ``skeleton`` and the features first).
    skeleton : Skeleton
        Skeleton of the incoming poses.
    n_stable_ticks : int
        Frames a new class must hold before it becomes current.
    features : callable, optional
        The feature factory used in training (``--spec``), else window statistics.

    Raises
    ------
    ModelMismatchError
        The model was trained for another skeleton or other features.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        skeleton: Skeleton,
        *,
        n_stable_ticks: int = 3,
        features: FeatureFactory | None = None,
    ) -> None:
        self.loaded = loaded
        self.pipe = build_pipeline(loaded.recipe, features=features)
        self.features = self.pipe.feature_set(skeleton)
        check_input(loaded, skeleton.name, tuple(skeleton.joints), self.features.source)
        self.debouncer = Debouncer(n_stable_ticks)
        self._t: deque[float] = deque()
        self._p: deque[np.ndarray] = deque()
        self.last: str | None = None

    def predict(self, time_s: float, pose: np.ndarray) -> str | None:
        """Add one frame; the class of the window ending with it (None if rejected)."""
        self._t.append(float(time_s))
        self._p.append(np.asarray(pose, dtype=np.float64))
        win = self.loaded.window.win_s
        if len(self._t) < 2:
            return None
        t = np.fromiter(self._t, dtype=np.float64)
        delta = float(np.median(np.diff(t)))
        start = t[-1] + delta - win
        while self._t and self._t[0] < start - EPS_S:
            self._t.popleft()
            self._p.popleft()
        if t[0] > start + EPS_S:  # the stream is younger than one window
            return None
        t = np.fromiter(self._t, dtype=np.float64)
        poses = np.stack(self._p)
        detected = np.isfinite(poses).any(axis=(1, 2))
        w = Window(start, start + win, t, poses, int((~detected).sum()))
        if w.too_sparse(self.loaded.window.max_missing):
            return None
        vec = self.features.vector(t, poses)
        if not np.isfinite(vec).all():
            return None
        k = int(self.pipe.classify(self.loaded.model, vec[None])[0])
        return self.loaded.class_names[k]

    def push(self, time_s: float, pose: np.ndarray) -> ClassChange | None:
        """:meth:`predict`, debounced: the change of the current class, if any."""
        previous = self.debouncer.current
        self.last = self.predict(time_s, pose)
        changed = self.debouncer.feed(self.last)
        return None if changed is None else ClassChange(time_s, previous, changed)
