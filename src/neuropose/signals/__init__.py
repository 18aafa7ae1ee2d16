"""Derived signals: a graph of named, stateful functions of poses (issue 19).

A spec (TOML or JSON) names nodes — joint positions, angles, distances,
derivatives, filters — each a function of the poses or of other nodes.
:class:`SignalGraph` runs it offline on a whole recording or live, frame by
frame, with the same numbers (causal nodes are chunk invariant). See
``docs/signals.md`` for the node reference.
"""

from __future__ import annotations

from neuropose.signals.graph import MISSING_POLICIES, SignalGraph
from neuropose.signals.spec import NodeSpec, SignalSpec, SpecError, load_spec, parse_spec

__all__ = [
    "MISSING_POLICIES",
    "NodeSpec",
    "SignalGraph",
    "SignalSpec",
    "SpecError",
    "load_spec",
    "parse_spec",
]
