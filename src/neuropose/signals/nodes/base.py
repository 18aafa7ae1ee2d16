"""The node-kind contract and the registry of kinds.

A node kind is a class with a pydantic ``Params`` model (frozen, unknown
fields refused), the number of ``inputs`` it takes, whether it is
``causal`` (output at frame k depends only on frames <= k), and a
``window`` sentence documenting how many frames a missing input affects.
An instance carries its state across :meth:`Node.push` calls.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from neuropose.signals.joints import JointMap

__all__ = [
    "REGISTRY",
    "JointLookupError",
    "Node",
    "NonCausalNode",
    "Params",
    "register",
]


class JointLookupError(KeyError):
    """A node's joint parameter ``field`` is not on the pose joint axis (``message`` says why)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Params(BaseModel):
    """Base of every kind's parameters: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Node:
    """One stateful node of a signal graph.

    Subclasses set the class attributes and implement :meth:`push` (and
    :meth:`reset` when they hold state).

    Attributes
    ----------
    kind : str
        Name used in specs.
    params_model : type[Params]
        Parameter model.
    n_inputs : int
        Exact number of input nodes.
    causal : bool
        Output at frame k depends only on frames <= k.
    window : str
        Missing-data window: which output frames a NaN input frame affects.
    unit : str
        Unit of the output; ``{in}`` stands for the unit of the input node
        (``"{in}/s"`` for a velocity). Positions are in the poses' unit,
        millimetres for NeuroPose results (``"mm"``).
    """

    kind: ClassVar[str]
    params_model: ClassVar[type[Params]]
    n_inputs: ClassVar[int] = 0
    causal: ClassVar[bool] = True
    window: ClassVar[str] = "the missing frame only"
    unit: ClassVar[str] = "{in}"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        self.name = name
        self.params = params
        self.joints = joints

    def joint_index(self, field: str) -> tuple[int, ...]:
        """Joint-axis indices of the joint named by parameter ``field``.

        Raises
        ------
        JointLookupError
            The pose joint axis does not provide that joint.
        """
        name = getattr(self.params, field)
        try:
            return self.joints.indices(name)
        except KeyError as exc:
            raise JointLookupError(field, str(exc.args[0])) from None

    def nan_span(self) -> int | None:
        """How many frames after a missing input frame k are NaN too (``propagate``).

        0 means frame k only; None means detections do not matter (frame rate).
        Non-causal nodes may also reach back before k (see :attr:`window`).
        """
        return 0

    def reset(self) -> None:
        """Forget all state (the next push starts a new recording)."""

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        """Output rows for ``n`` new frames.

        Parameters
        ----------
        t : ndarray, shape (n,)
            Frame times, seconds.
        poses : ndarray, shape (n, J, 3)
            Poses after the graph's missing-data policy, NaN = missing.
        inputs : list of ndarray
            Outputs of the input nodes for the same frames, leading dim n.
        """
        raise NotImplementedError


class NonCausalNode(Node):
    """A node that needs the whole recording: each push recomputes on all frames so far.

    Its output for a frame may change when later frames arrive, so it is
    offline-only; :meth:`offline` gets the full history and returns the full output.
    """

    causal = False

    def reset(self) -> None:
        self._t: list[np.ndarray] = []
        self._x: list[np.ndarray] = []

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        self.reset()

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        if len(t) == 0:
            return np.asarray(inputs[0], np.float64).copy()
        self._t.append(np.asarray(t, np.float64))
        self._x.append(np.asarray(inputs[0], np.float64))
        out = self.offline(np.concatenate(self._t), np.concatenate(self._x))
        return out[out.shape[0] - len(t) :]

    def offline(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Output for the whole recording ``x`` (F, …) at times ``t`` (F,)."""
        raise NotImplementedError


#: Every node kind by name.
REGISTRY: dict[str, type[Node]] = {}


def register(cls: type[Node]) -> type[Node]:
    """Class decorator adding a kind to :data:`REGISTRY`."""
    if cls.kind in REGISTRY:
        raise ValueError(f"node kind {cls.kind!r} registered twice")
    REGISTRY[cls.kind] = cls
    return cls
