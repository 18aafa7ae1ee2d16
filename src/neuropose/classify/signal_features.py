"""Features from a derived-signal graph (``--spec``): statistics of every node's output.

The spec's graph (:mod:`neuropose.signals`) runs **from a reset state on each
window's own frames** (``SignalGraph.run``), so a window gives the same
features offline, in ``predict`` and frame by frame
(:class:`~neuropose.classify.online.OnlineClassifier`), whatever the nodes'
causality. A causal filter therefore starts afresh in every window: its
start-up transient is part of the features, so prefer windows several times
longer than the slowest filter's time constant.

Every node of the spec becomes features (keep in the spec only the signals
you want to classify on): a scalar node ``knee_l`` gives ``knee_l.mean``,
``knee_l.sd``, ``knee_l.min``, ``knee_l.max``, ``knee_l.range``
(:data:`~neuropose.classify.features.STATS`, NaN frames left out); a node with
per-frame shape ``(3,)`` gives ``ankle_l[0].mean`` … ``ankle_l[2].range``.
The feature definition hash includes the spec's own SHA-256
(``SignalSpec.sha256``), so a model trained with one spec refuses another.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuropose.classify.features import STATS, definition_sha256, stats_of
from neuropose.classify.pipeline import FeatureSet
from neuropose.schemas import Skeleton
from neuropose.signals import SignalGraph, SignalSpec, load_spec

__all__ = ["signal_features"]


def _columns(out: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    cols = []
    for name, values in out.items():
        v = np.asarray(values, dtype=np.float64)
        flat = v.reshape(v.shape[0], -1)
        if v.ndim == 1:
            cols.append((name, flat[:, 0]))
        else:
            cols += [(f"{name}[{k}]", flat[:, k]) for k in range(flat.shape[1])]
    return cols


class SignalStats:
    """Statistics of a spec's outputs for one skeleton (see the module docstring)."""

    def __init__(self, spec: SignalSpec, skeleton: Skeleton) -> None:
        self.graph = SignalGraph(spec, skeleton)
        probe = self.graph.run(np.array([0.0, 1 / 30]), np.zeros((2, len(skeleton.joints), 3)))
        signals = [name for name, _ in _columns(probe)]
        self.names = tuple(f"{s}.{k}" for s in signals for k in STATS)
        self.sha256 = definition_sha256(
            {
                "extractor": "signals",
                "version": 1,
                "spec_sha256": spec.sha256,
                "stats": list(STATS),
                "features": list(self.names),
            }
        )

    def __call__(self, times_s: np.ndarray, poses: np.ndarray) -> np.ndarray:
        """Feature vector (K,) of one window's frames."""
        out: list[float] = []
        for _, col in _columns(self.graph.run(times_s, poses)):
            out += stats_of(col)
        return np.asarray(out, dtype=np.float64)


def signal_features(path: Path) -> Callable[[Skeleton], FeatureSet]:
    """A feature factory for ``build_pipeline(features=...)`` from the spec at ``path``.

    Raises
    ------
    SpecError
        The spec is invalid, or names a joint the skeleton lacks (when the
        factory is called).
    """
    spec = load_spec(path)

    def factory(skeleton: Skeleton) -> FeatureSet:
        stats = SignalStats(spec, skeleton)
        return FeatureSet("signals", stats.names, stats.sha256, stats)

    return factory
