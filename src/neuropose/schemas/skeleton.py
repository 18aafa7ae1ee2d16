"""Skeleton definition stored in every result."""

from __future__ import annotations

from pydantic import Field, model_validator

from neuropose.schemas.base import FrozenModel

__all__ = ["Skeleton"]


class Skeleton(FrozenModel):
    """Names and connectivity of a model's joints.

    Stored in every result so analysis never hard-codes a model's joint
    order; :mod:`neuropose.skeletons` maps clinical joint names onto it.

    Attributes
    ----------
    name : str
        Skeleton identifier, e.g. ``"blazepose_33"`` or ``"smpl+head_30"``.
    joints : list of str
        Joint names in the order of the joint axis of every pose array.
    edges : list of (int, int)
        Pairs of joint indices drawn as bones.
    """

    name: str = Field(min_length=1)
    joints: tuple[str, ...] = Field(min_length=1)
    edges: tuple[tuple[int, int], ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Skeleton:
        if len(set(self.joints)) != len(self.joints):
            raise ValueError("joint names must be unique")
        n = len(self.joints)
        for a, b in self.edges:
            if not (0 <= a < n and 0 <= b < n):
                raise ValueError(f"edge ({a}, {b}) refers to a joint outside 0..{n - 1}")
        return self

    def index(self, joint: str) -> int:
        """Index of ``joint`` in :attr:`joints` (``KeyError`` naming it if absent)."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise KeyError(f"joint {joint!r} is not in skeleton {self.name!r}") from None
