"""Joint names in a signal spec: parse-time check and lookup in a pose array's joint axis.

A spec names joints by canonical clinical name (``left_knee``, ``pelvis``…,
:data:`neuropose.skeletons.CANONICAL_JOINTS`) or by a joint name of a known
skeleton (``left_foot_index`` in ``blazepose_33``). At graph build time the
names are resolved against the joint axis of the poses by
:func:`neuropose.skeletons.joint_indices` (the analyzer's lookup too): a
canonical joint is the mean of its contributing joints, so NaN in any
contributing joint makes it NaN.

Examples
--------
>>> from neuropose.skeletons import BLAZEPOSE_33
>>> JointMap(BLAZEPOSE_33.joints).indices("pelvis")
(23, 24)
>>> check_joint_name("left_kne")
Traceback (most recent call last):
...
ValueError: unknown joint 'left_kne'; use a canonical joint (pelvis, ...) or a joint of ...skeleton
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from neuropose.schemas import Skeleton
from neuropose.skeletons import (
    CANONICAL_JOINTS,
    SKELETONS,
    joint_indices,
    mean_joint,
    skeleton_of,
)

__all__ = ["JointMap", "check_joint_name", "known_joint_names"]


@cache
def known_joint_names() -> frozenset[str]:
    """Canonical joint names plus every joint name of every known skeleton."""
    names = set(CANONICAL_JOINTS)
    for skel in SKELETONS.values():
        names.update(skel.joints)
    return frozenset(names)


def check_joint_name(name: str) -> str:
    """``name`` when it is a canonical or known skeleton joint, else ``ValueError`` naming it."""
    if name not in known_joint_names():
        raise ValueError(
            f"unknown joint {name!r}; use a canonical joint ({', '.join(CANONICAL_JOINTS)}) "
            "or a joint of a known skeleton"
        )
    return name


class JointMap:
    """Resolve joint names against the joint axis of a pose array.

    Parameters
    ----------
    joints : sequence of str or Skeleton
        Names of the joint axis, in order. When they are exactly the joints
        of a known skeleton (or a :class:`Skeleton` is given) canonical names
        resolve through that skeleton's canonical map.
    """

    def __init__(self, joints: Sequence[str] | Skeleton) -> None:
        if isinstance(joints, Skeleton):
            self.skeleton: Skeleton | None = joints
            self.names: tuple[str, ...] = tuple(joints.joints)
        else:
            self.names = tuple(joints)
            self.skeleton = skeleton_of(self.names)
        if not self.names:
            raise ValueError("the pose joint axis has no joint names")

    def indices(self, name: str) -> tuple[int, ...]:
        """Joint-axis indices whose mean is joint ``name`` (``KeyError`` naming it if absent).

        The lookup is :func:`neuropose.skeletons.joint_indices`.
        """
        return joint_indices(self.skeleton or self.names, name)

    def position(self, poses: np.ndarray, idx: tuple[int, ...]) -> np.ndarray:
        """Positions (n, 3) of the joint with indices ``idx`` in ``poses`` (n, J, 3)."""
        return np.asarray(mean_joint(poses, idx), dtype=np.float64)
