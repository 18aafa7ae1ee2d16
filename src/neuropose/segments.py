"""Clinical limb segments and the stability of their length over time.

A segment is the straight line between two canonical joints
(:data:`neuropose.skeletons.CANONICAL_JOINTS`); its length in a rigid body
does not change, so the coefficient of variation (CV = std / mean over
frames) of a segment's 3D length measures how unstable a reconstruction is.
One definition, used by the quality report (:mod:`neuropose.quality`) and by
the multi-camera QC (:mod:`neuropose.multiview`).

Examples
--------
>>> import numpy as np
>>> from neuropose.skeletons import BLAZEPOSE_33
>>> p = np.zeros((2, 33, 3)); p[:, 25, 2] = [400, 440]   # left knee 400 / 440 mm from the hip
>>> round(length_cv(segment_lengths(p, BLAZEPOSE_33)["left_thigh"]), 4)
0.0476
"""

from __future__ import annotations

import numpy as np

from neuropose.schemas.skeleton import Skeleton
from neuropose.skeletons import CANONICAL_MAP, canonical_joint

__all__ = ["CLINICAL_SEGMENTS", "clinical_segments", "length_cv", "segment_lengths"]

#: The segments whose length stability is judged: segment name -> (proximal,
#: distal) canonical joints of :data:`neuropose.skeletons.CANONICAL_JOINTS`.
#: These are the long bones that joint-angle kinematics (elbow, knee, hip,
#: shoulder) are computed from; face, hand, foot and trunk edges are not
#: segments here.
CLINICAL_SEGMENTS: dict[str, tuple[str, str]] = {
    f"{side}_{segment}": (f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for segment, (a, b) in {
        "upper_arm": ("shoulder", "elbow"),
        "forearm": ("elbow", "wrist"),
        "thigh": ("hip", "knee"),
        "shank": ("knee", "ankle"),
    }.items()
}


def clinical_segments(skeleton: Skeleton) -> list[str]:
    """The :data:`CLINICAL_SEGMENTS` that ``skeleton`` provides, in their fixed order.

    A segment counts when both its canonical joints are mapped for the
    skeleton (:data:`neuropose.skeletons.CANONICAL_MAP`) and every mapped
    joint name exists in it. A skeleton without a canonical map (a custom
    model's) has no clinical segments.

    Examples
    --------
    >>> from neuropose.skeletons import BLAZEPOSE_33
    >>> clinical_segments(BLAZEPOSE_33)[:2]
    ['left_upper_arm', 'left_forearm']
    >>> clinical_segments(Skeleton(name="custom", joints=("a", "b")))
    []
    """
    mapping = CANONICAL_MAP.get(skeleton.name, {})
    joints = set(skeleton.joints)
    return [
        name
        for name, ends in CLINICAL_SEGMENTS.items()
        if all(end in mapping and set(mapping[end]) <= joints for end in ends)
    ]


def segment_lengths(poses: np.ndarray, skeleton: Skeleton) -> dict[str, np.ndarray]:
    """3D length of every clinical segment of ``skeleton`` on every frame.

    Parameters
    ----------
    poses : ndarray, shape (F, J, 3)
        Joint positions of one person (mm); NaN where absent.
    skeleton : Skeleton
        Skeleton of ``poses``.

    Returns
    -------
    dict of str to ndarray, shape (F,)
        Segment name -> distance between its canonical joints (unit of
        ``poses``), NaN on frames where either end is NaN.
    """
    return {
        name: np.linalg.norm(
            canonical_joint(poses, skeleton, a) - canonical_joint(poses, skeleton, b), axis=-1
        )
        for name in clinical_segments(skeleton)
        for a, b in [CLINICAL_SEGMENTS[name]]
    }


def length_cv(lengths: np.ndarray) -> float:
    """``std / mean`` of the finite values of a length series (population std).

    NaN when fewer than 2 finite values or a zero mean.

    Examples
    --------
    >>> round(length_cv(np.array([360.0, 440.0, np.nan])), 3)
    0.1
    """
    finite = lengths[np.isfinite(lengths)]
    if finite.size < 2 or not finite.mean() > 0:
        return float("nan")
    return float(finite.std() / finite.mean())
