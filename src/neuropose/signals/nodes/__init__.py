"""Node kinds of the signal graph; importing this package fills :data:`REGISTRY`."""

from __future__ import annotations

from neuropose.signals.nodes import filters, geometric, temporal
from neuropose.signals.nodes.base import REGISTRY, JointLookupError, Node, NonCausalNode, Params

__all__ = ["REGISTRY", "JointLookupError", "Node", "NonCausalNode", "Params", "kinds"]

_MODULES = (geometric, temporal, filters)


def kinds() -> list[str]:
    """Registered kind names, sorted."""
    return sorted(REGISTRY)
