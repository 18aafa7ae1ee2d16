"""``neuropose live --classifier``: a tick consumer that classifies the live stream.

:class:`ClassifierConsumer` is a live tick consumer (``consumer(tick) ->
events``, see ``docs/live.md``). The session binds it to the pose skeleton
before the first tick (``bind``), which loads nothing new but checks the model
against that skeleton (``model was trained for … but input has …``). On every
fresh tick it adds the frame to an
:class:`~neuropose.classify.online.OnlineClassifier` and, when the debounced
class changes, returns one ``class`` event (signal ``classifier``, detail
``stand -> lunge``); stale ticks (no new frame) are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuropose.classify.online import OnlineClassifier
from neuropose.classify.run import FeatureFactory
from neuropose.classify.signal_features import signal_features
from neuropose.classify.store import load_classifier
from neuropose.errors import UsageError
from neuropose.schemas import Skeleton
from neuropose.schemas.live import LiveEvent

__all__ = ["ClassifierConsumer", "classifier_consumer"]


class ClassifierConsumer:
    """Debounced class-change events of a trained classifier, per live tick.

    Parameters
    ----------
    model : Path
        Model file written by ``neuropose classify train``.
    n_stable_ticks : int
        Fresh ticks a new class must hold before it is reported.
    allow_unverified : bool
        Accept a model without a provenance sidecar.
    features : callable, optional
        The training ``--spec`` features, else window statistics.
    """

    def __init__(
        self,
        model: Path,
        *,
        n_stable_ticks: int = 3,
        allow_unverified: bool = False,
        features: FeatureFactory | None = None,
    ) -> None:
        self.loaded = load_classifier(model, allow_unverified=allow_unverified)
        self.n_stable_ticks = n_stable_ticks
        self.features = features
        self.online: OnlineClassifier | None = None
        self.count = 0

    def bind(self, skeleton: Skeleton) -> None:
        """Check the model against the session's skeleton and start afresh."""
        self.online = OnlineClassifier(
            self.loaded, skeleton, n_stable_ticks=self.n_stable_ticks, features=self.features
        )
        self.count = 0

    def __call__(self, tick: Any) -> list[LiveEvent]:
        """Events of one tick (``tick.time_s``, ``tick.stale``, ``tick.pose``)."""
        if self.online is None:
            raise UsageError("the classifier consumer was not bound to a skeleton")
        if tick.stale or tick.pose is None:
            return []
        change = self.online.push(float(tick.time_s), tick.pose)
        if change is None:
            return []
        self.count += 1
        return [
            LiveEvent(
                time_s=change.time_s,
                kind="class",
                signal="classifier",
                detail=f"{change.previous or 'start'} -> {change.current}",
                count=self.count,
            )
        ]


def classifier_consumer(model: Path, spec: Path | None, n_stable_ticks: int) -> ClassifierConsumer:
    """The consumer of ``neuropose live --classifier MODEL [--classifier-spec SPEC]``."""
    features = signal_features(spec) if spec is not None else None
    return ClassifierConsumer(model, n_stable_ticks=n_stable_ticks, features=features)
