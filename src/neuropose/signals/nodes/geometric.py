"""Nodes computed from one frame's pose: joints, angles, distances, normalisation.

Positions are in the unit of the poses (millimetres for NeuroPose results,
camera axes x right, y down, z forward). Angles use the conventions of
:mod:`neuropose.geometry` (shared with the analyzer). Every node here is
causal and stateless: a missing joint makes only that frame NaN.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from neuropose.geometry import angle_3pt, segment_angle
from neuropose.signals.joints import JointMap, check_joint_name
from neuropose.signals.nodes.base import Node, Params, register

__all__ = ["Angle3pt", "Distance", "JointNode", "Normalize", "PoseNode", "SegmentAngle"]

#: A joint name checked when the spec is parsed.
JointName = Annotated[str, AfterValidator(check_joint_name)]

_AXES = {"x": 0, "y": 1, "z": 2}


class JointParams(Params):
    """``joint``; ``axis`` x, y or z selects one coordinate (omit for the (n, 3) position)."""

    joint: JointName
    axis: Literal["x", "y", "z"] | None = None


@register
class JointNode(Node):
    """Position of one joint: (n, 3), or (n,) with ``axis``; unit of the poses (mm)."""

    kind = "joint"
    params_model = JointParams
    unit = "mm"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, JointParams)
        self.idx = self.joint_index("joint")
        self.axis = None if params.axis is None else _AXES[params.axis]

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        p = self.joints.position(poses, self.idx)
        return p if self.axis is None else p[:, self.axis]


class NoParams(Params):
    """No parameters."""


@register
class PoseNode(Node):
    """All joints of the pose, (n, J, 3), unit of the poses (mm)."""

    kind = "pose"
    params_model = NoParams
    unit = "mm"

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        return np.array(poses, dtype=np.float64)


class Angle3ptParams(Params):
    """Angle ∠abc at vertex ``b``; ``complement`` gives 180° − ∠abc (clinical flexion)."""

    a: JointName
    b: JointName
    c: JointName
    complement: bool = False


@register
class Angle3pt(Node):
    """∠(a, b, c) at vertex b, degrees in [0, 180] (180 − that with ``complement``).

    ``complement = true`` on hip, knee, ankle gives the analyzer's knee
    flexion (0 = straight, + flexed).
    """

    kind = "angle_3pt"
    params_model = Angle3ptParams
    unit = "deg"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, Angle3ptParams)
        self.ia, self.ib, self.ic = (self.joint_index(f) for f in ("a", "b", "c"))
        self.complement = params.complement

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        pos = self.joints.position
        ang = angle_3pt(pos(poses, self.ia), pos(poses, self.ib), pos(poses, self.ic))
        return 180.0 - ang if self.complement else ang


class SegmentAngleParams(Params):
    """Segment ``a``→``b`` against ``reference`` (a fixed 3-vector) or segment ``ref_a``→``ref_b``.

    The default reference (0, −1, 0) is the camera's up direction (y points
    down in camera axes); the analyzer estimates the up axis over a whole
    recording, which a causal node cannot.
    """

    a: JointName
    b: JointName
    reference: tuple[float, float, float] = (0.0, -1.0, 0.0)
    ref_a: JointName | None = None
    ref_b: JointName | None = None

    @model_validator(mode="after")
    def _pair(self) -> SegmentAngleParams:
        if (self.ref_a is None) != (self.ref_b is None):
            raise ValueError("give both ref_a and ref_b (the reference segment) or neither")
        if self.ref_a is None and not any(self.reference):
            raise ValueError("reference must not be the zero vector")
        return self


@register
class SegmentAngle(Node):
    """Unsigned angle between segment a→b and the reference, degrees in [0, 180]."""

    kind = "segment_angle"
    params_model = SegmentAngleParams
    unit = "deg"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, SegmentAngleParams)
        self.ia, self.ib = self.joint_index("a"), self.joint_index("b")
        self.ref = None
        if params.ref_a is not None:
            self.ref = (self.joint_index("ref_a"), self.joint_index("ref_b"))
        self.vec = np.asarray(params.reference, np.float64)

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        pos = self.joints.position
        a, b = pos(poses, self.ia), pos(poses, self.ib)
        if self.ref is None:
            return segment_angle(a, b, self.vec)
        ref = pos(poses, self.ref[1]) - pos(poses, self.ref[0])
        return segment_angle(a, b, ref)


class PairParams(Params):
    """Two joints ``a`` and ``b``."""

    a: JointName
    b: JointName


@register
class Distance(Node):
    """Euclidean distance between joints a and b, (n,), unit of the poses (mm)."""

    kind = "distance"
    params_model = PairParams
    unit = "mm"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        self.ia, self.ib = self.joint_index("a"), self.joint_index("b")

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        pos = self.joints.position
        return np.linalg.norm(pos(poses, self.ib) - pos(poses, self.ia), axis=-1)


class NormalizeParams(Params):
    """Segment ``a``–``b`` whose length divides the input; ``min_length`` guards near-zero."""

    a: JointName
    b: JointName
    min_length: float = Field(default=1e-9, gt=0)


@register
class Normalize(Node):
    """The input divided by the length of segment a–b on the same frame (dimensionless if
    the input is a length, e.g. a distance in body-segment units).

    The segment length is taken per frame (causal); a length below
    ``min_length`` or missing gives NaN.
    """

    kind = "normalize"
    params_model = NormalizeParams
    n_inputs = 1
    unit = "{in}/mm"

    def __init__(self, name: str, params: Params, joints: JointMap) -> None:
        super().__init__(name, params, joints)
        assert isinstance(params, NormalizeParams)
        self.ia, self.ib = self.joint_index("a"), self.joint_index("b")
        self.min_length = params.min_length

    def push(self, t: np.ndarray, poses: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        pos = self.joints.position
        length = np.linalg.norm(pos(poses, self.ib) - pos(poses, self.ia), axis=-1)
        length = np.where(length >= self.min_length, length, np.nan)
        x = np.asarray(inputs[0], np.float64)
        return x / length.reshape((-1,) + (1,) * (x.ndim - 1))
