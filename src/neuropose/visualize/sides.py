"""Left, right and limb groups of a skeleton's joints, and their colour-blind-safe colours.

A joint is *left* or *right* when its name starts with ``left``/``right``
(every BlazePose and canonical name does); other joints are *centre*. A
bone is on a side when both its joints are. Colours are from the Okabe-Ito
palette, distinguishable with the common colour-vision deficiencies: left
blue ``#0072B2``, right orange ``#E69F00``.

Examples
--------
>>> from neuropose.skeletons import BLAZEPOSE_33
>>> sides = joint_sides(BLAZEPOSE_33)
>>> sides[BLAZEPOSE_33.index("left_knee")], sides[BLAZEPOSE_33.index("nose")]
('left', None)
>>> [g for g, _ in limb_groups(BLAZEPOSE_33)]
['head', 'left arm', 'right arm', 'left leg', 'right leg']
"""

from __future__ import annotations

from neuropose.schemas.skeleton import Skeleton

__all__ = [
    "GROUP_COLOURS",
    "LEFT_BGR",
    "LEFT_HEX",
    "RIGHT_BGR",
    "RIGHT_HEX",
    "edge_sides",
    "joint_sides",
    "limb_groups",
]

#: Left side: Okabe-Ito blue (RGB 0, 114, 178) as BGR and hex.
LEFT_BGR, LEFT_HEX = (178, 114, 0), "#0072B2"
#: Right side: Okabe-Ito orange (RGB 230, 159, 0) as BGR and hex.
RIGHT_BGR, RIGHT_HEX = (0, 159, 230), "#E69F00"

#: Colour of each limb group (Okabe-Ito; left blue/sky blue, right orange/vermillion).
GROUP_COLOURS = {
    "head": "#000000",
    "trunk": "#009E73",
    "left arm": "#56B4E9",
    "right arm": "#D55E00",
    "left leg": LEFT_HEX,
    "right leg": RIGHT_HEX,
    "other joints": "#CC79A7",
}

_ARM = ("shoulder", "elbow", "wrist", "hand", "pinky", "index", "thumb", "finger")
_LEG = ("hip", "knee", "ankle", "heel", "foot", "toe")
_HEAD = ("nose", "eye", "ear", "mouth", "head", "face")
_TRUNK = ("neck", "spine", "pelvis", "chest", "torso", "back", "belly")


def _side(name: str) -> str | None:
    n = name.lower()
    if n.startswith("left"):
        return "left"
    if n.startswith("right"):
        return "right"
    return None


def joint_sides(skeleton: Skeleton) -> list[str | None]:
    """``"left"``, ``"right"`` or ``None`` (centre) per joint, by name."""
    return [_side(j) for j in skeleton.joints]


def edge_sides(skeleton: Skeleton) -> list[str | None]:
    """Side of each bone of ``skeleton.edges``: a side when both joints share it, else ``None``.

    >>> from neuropose.skeletons import BLAZEPOSE_33 as sk
    >>> sides = edge_sides(sk)
    >>> sides[sk.edges.index((sk.index("left_hip"), sk.index("left_knee")))]
    'left'
    """
    sides = joint_sides(skeleton)
    return [sides[a] if sides[a] == sides[b] else None for a, b in skeleton.edges]


def _part(name: str) -> str | None:
    n = name.lower()
    # "index" is a finger (left_index) but also appears in foot names (left_foot_index).
    for part, words in (("leg", _LEG), ("arm", _ARM), ("head", _HEAD), ("trunk", _TRUNK)):
        if any(w in n for w in words):
            return part
    return None


def limb_groups(skeleton: Skeleton) -> list[tuple[str, list[int]]]:
    """Joints grouped by body part, in display order; empty groups are left out.

    Groups: ``head``, ``trunk``, ``left arm``, ``right arm``, ``left leg``,
    ``right leg`` (hands and feet belong to their limb); joints whose names
    say nothing go to ``other joints``.
    """
    groups: dict[str, list[int]] = {g: [] for g in GROUP_COLOURS}
    for j, name in enumerate(skeleton.joints):
        part, side = _part(name), _side(name)
        if part in ("arm", "leg") and side is not None:
            groups[f"{side} {part}"].append(j)
        elif part in ("arm", "leg"):
            groups["trunk"].append(j)
        elif part is not None:
            groups[part].append(j)
        else:
            groups["other joints"].append(j)
    return [(g, idx) for g, idx in groups.items() if idx]
