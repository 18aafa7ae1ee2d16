"""Skeletons of the supported pose models and the canonical clinical joint map.

Every result file stores the :class:`~neuropose.schemas.Skeleton` its poses
were produced with, so analysis never hard-codes a model's joint order.
This module knows the skeletons NeuroPose models emit and maps a small set of
*canonical clinical joints* onto each of them, so that analysis can ask for
``"left_knee"`` whatever model produced the file.

Skeletons
---------
``blazepose_33``
    The 33 BlazePose GHUM landmarks, in MediaPipe's order.
``berkeley_mhad_43``, ``smpl+head_30``, ``h36m_17``, ``coco_19``
    MeTRAbs skeletons, with joint names spelled exactly as the MeTRAbs
    SavedModel reports them in ``per_skeleton_joint_names`` (for example
    ``"lkne"`` in ``h36m_17``, ``"lkne_smpl"`` in ``smpl+head_30``).

Canonical joints
----------------
:data:`CANONICAL_JOINTS` lists the clinically used joints. For each skeleton a
canonical joint is the *mean* of one or more of that skeleton's joints
(a "virtual joint"): BlazePose ``pelvis`` is the midpoint of its two hip
landmarks, ``neck`` the midpoint of the shoulders, ``toe`` the foot index
landmark. When a skeleton has no landmark for a joint (``h36m_17`` has no
heel or toe) the joint is *unsupported* and asking for it raises
:class:`UnsupportedJointError` naming the joint and the skeleton.

Semantics worth knowing when comparing models:

* ``head`` is the centre of the head: the midpoint of the ears where the
  skeleton has ears (BlazePose, COCO), otherwise the model's own head joint.
* ``neck`` is the midpoint of the shoulders where the skeleton has no neck
  joint (BlazePose, Berkeley MHAD), otherwise the model's neck joint, which
  sits a few centimetres higher.
* Berkeley MHAD joints are motion-capture marker positions, not joint
  centres; its hip is the mean of the three hip markers.

NaN policy: :func:`canonical_joint` takes a plain mean, so a NaN in any
contributing joint makes the virtual joint NaN (a missing landmark is never
silently replaced by its partner).

Examples
--------
>>> import numpy as np
>>> poses = np.zeros((2, 33, 3))                 # (frames, joints, xyz)
>>> poses[:, 23] = [100.0, 0.0, 0.0]             # left_hip
>>> poses[:, 24] = [-100.0, 0.0, 0.0]            # right_hip
>>> canonical_joint(poses, BLAZEPOSE_33, "pelvis")
array([[0., 0., 0.],
       [0., 0., 0.]])
>>> canonical_indices(BLAZEPOSE_33, "left_toe")
(31,)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuropose.schemas import Skeleton
from neuropose.skeleton_defs import (
    BERKELEY_MHAD_43,
    BLAZEPOSE_33,
    CANONICAL_JOINTS,
    CANONICAL_MAP,
    COCO_19,
    H36M_17,
    SKELETONS,
    SMPL_HEAD_30,
)

__all__ = [
    "BERKELEY_MHAD_43",
    "BLAZEPOSE_33",
    "CANONICAL_JOINTS",
    "CANONICAL_MAP",
    "COCO_19",
    "H36M_17",
    "SKELETONS",
    "SMPL_HEAD_30",
    "UnsupportedJointError",
    "canonical_indices",
    "canonical_joint",
    "get_skeleton",
    "joint_indices",
    "joint_position",
    "lower_body_mask",
    "mean_joint",
    "mirror_permutation",
    "skeleton_of",
]


class UnsupportedJointError(KeyError, ValueError):
    """A canonical joint is unknown, or not provided by a skeleton.

    Subclasses both :class:`KeyError` and :class:`ValueError` so either
    ``except`` clause catches it; the message names the joint and skeleton.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def get_skeleton(name: str) -> Skeleton:
    """The known skeleton called ``name`` (``KeyError`` listing the known ones)."""
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(
            f"unknown skeleton {name!r}; known skeletons: {', '.join(sorted(SKELETONS))}"
        ) from None


def canonical_indices(skeleton: Skeleton | str, name: str) -> tuple[int, ...]:
    """Indices of the joints of ``skeleton`` whose mean is canonical joint ``name``.

    Parameters
    ----------
    skeleton : Skeleton or str
        A skeleton (as stored in a result file) or the name of a known one.
        Joint names are looked up by name in *this* skeleton, so the joint
        order stored in the file is what counts.
    name : str
        One of :data:`CANONICAL_JOINTS`.

    Returns
    -------
    tuple of int
        One or more indices into the joint axis.

    Raises
    ------
    UnsupportedJointError
        (a ``KeyError`` and ``ValueError``) when ``name`` is not a canonical
        joint, the skeleton has no canonical map, or the skeleton does not
        provide that joint (e.g. ``left_heel`` in ``h36m_17``).
    """
    skel = get_skeleton(skeleton) if isinstance(skeleton, str) else skeleton
    if name not in CANONICAL_JOINTS:
        raise UnsupportedJointError(
            f"{name!r} is not a canonical joint; canonical joints: {', '.join(CANONICAL_JOINTS)}"
        )
    mapping = CANONICAL_MAP.get(skel.name)
    if mapping is None:
        raise UnsupportedJointError(
            f"skeleton {skel.name!r} has no canonical joint map (cannot find {name!r}); "
            f"supported skeletons: {', '.join(sorted(CANONICAL_MAP))}"
        )
    names = mapping.get(name)
    if names is None:
        raise UnsupportedJointError(
            f"joint {name!r} is not provided by skeleton {skel.name!r}; it provides: "
            f"{', '.join(j for j in CANONICAL_JOINTS if j in mapping)}"
        )
    try:
        return tuple(skel.index(n) for n in names)
    except KeyError:
        missing = [n for n in names if n not in skel.joints]
        raise UnsupportedJointError(
            f"skeleton {skel.name!r} lacks joint(s) {', '.join(missing)} needed for {name!r}"
        ) from None


def canonical_joint(poses: np.ndarray, skeleton: Skeleton | str, name: str) -> np.ndarray:
    """Positions of canonical joint ``name`` from poses of ``skeleton``.

    Parameters
    ----------
    poses : ndarray, shape (..., J, C)
        Joint coordinates (any units, any number of leading axes, C = 2 or 3),
        J = number of joints of ``skeleton``.
    skeleton : Skeleton or str
        The skeleton of ``poses``.
    name : str
        One of :data:`CANONICAL_JOINTS`.

    Returns
    -------
    ndarray, shape (..., C)
        The mean of the contributing joints, same units as ``poses``; NaN
        wherever any contributing joint is NaN.

    Raises
    ------
    UnsupportedJointError
        See :func:`canonical_indices`.
    ValueError
        ``poses`` does not have J joints on its second-to-last axis.
    """
    skel = get_skeleton(skeleton) if isinstance(skeleton, str) else skeleton
    arr = _check_poses(poses, skel)
    return mean_joint(arr, canonical_indices(skel, name))


def joint_indices(joints: Skeleton | Sequence[str], name: str) -> tuple[int, ...]:
    """Indices on a pose joint axis whose mean is joint ``name``.

    The one lookup used by the analyzer and the signal graph: a canonical
    name (:data:`CANONICAL_JOINTS`) resolves through the skeleton's canonical
    map first (so ``pelvis`` is the hip midpoint on BlazePose), then ``name``
    is looked up among the axis's own joint names.

    Parameters
    ----------
    joints : Skeleton or sequence of str
        The joint axis. A sequence equal to a known skeleton's joints
        (:func:`skeleton_of`) is that skeleton; any other sequence has no
        canonical map.
    name : str
        Canonical or own joint name.

    Returns
    -------
    tuple of int
        Indices into the joint axis; one for an own joint name.

    Raises
    ------
    UnsupportedJointError
        Naming the joint and the skeleton (or "the pose joint axis");
        ``hint`` says which names are accepted when ``name`` is neither.

    Examples
    --------
    >>> joint_indices(BLAZEPOSE_33, "pelvis"), joint_indices(BLAZEPOSE_33.joints, "nose")
    ((23, 24), (0,))
    >>> joint_indices(("a", "b"), "b")
    (1,)
    >>> joint_indices(("a", "b"), "knee")
    Traceback (most recent call last):
    ...
    neuropose.skeletons.UnsupportedJointError: joint 'knee' is not provided by the pose joint axis
    """
    if isinstance(joints, Skeleton):
        skel: Skeleton | None = joints
        names = joints.joints
    else:
        names = tuple(joints)
        skel = skeleton_of(names)
    if skel is not None and skel.name in CANONICAL_MAP and name in CANONICAL_JOINTS:
        try:
            return canonical_indices(skel, name)
        except UnsupportedJointError:
            if name not in names:
                raise
    if name in names:
        return (names.index(name),)
    where = f"skeleton {skel.name!r}" if skel is not None else "the pose joint axis"
    raise UnsupportedJointError(
        f"joint {name!r} is not provided by {where}",
        hint=f"use a canonical joint name ({', '.join(CANONICAL_JOINTS)}) "
        "or one of the skeleton's joints",
    )


def skeleton_of(joints: Sequence[str]) -> Skeleton | None:
    """The known skeleton whose joint names are exactly ``joints`` (in order), else None.

    Examples
    --------
    >>> skeleton_of(H36M_17.joints).name, skeleton_of(("a", "b"))
    ('h36m_17', None)
    """
    names = tuple(joints)
    return next((s for s in SKELETONS.values() if tuple(s.joints) == names), None)


def mean_joint(poses: np.ndarray, idx: tuple[int, ...]) -> np.ndarray:
    """Mean over joints ``idx`` of ``poses`` (..., J, C): shape (..., C), a new array.

    NaN in any contributing joint makes the mean NaN; one index is a copy
    of that joint (dtype kept).

    Examples
    --------
    >>> mean_joint(np.array([[[0.0, 2], [2, 4], [9, 9]]]), (0, 1)).tolist()
    [[1.0, 3.0]]
    """
    picked = np.asarray(poses)[..., list(idx), :]
    if len(idx) == 1:
        return np.array(picked[..., 0, :])
    return np.asarray(picked.mean(axis=-2))


def joint_position(poses: np.ndarray, skeleton: Skeleton, name: str) -> np.ndarray:
    """Positions (..., C), float64, of joint ``name`` (:func:`joint_indices`) in ``poses``.

    Raises
    ------
    UnsupportedJointError
        See :func:`joint_indices`.
    ValueError
        ``poses`` does not have the skeleton's J joints on its second-to-last axis.
    """
    arr = _check_poses(poses, skeleton)
    return np.asarray(mean_joint(arr, joint_indices(skeleton, name)), dtype=np.float64)


def _check_poses(poses: np.ndarray, skel: Skeleton) -> np.ndarray:
    arr = np.asarray(poses)
    if arr.ndim < 2 or arr.shape[-2] != len(skel.joints):
        raise ValueError(
            f"poses of shape {arr.shape} do not match skeleton {skel.name!r} "
            f"with {len(skel.joints)} joints (expected shape (..., {len(skel.joints)}, C))"
        )
    return arr


_LOWER_BODY_WORDS = ("hip", "kne", "ank", "hee", "foo", "toe", "leg")


def mirror_permutation(skeleton: Skeleton) -> np.ndarray:
    """Joint permutation exchanging every left joint with its right partner.

    Partners are found by name: ``left``/``right`` anywhere in the name
    (``left_knee``, ``mouth_left``), or a leading ``l``/``r`` whose partner
    exists (``lkne``/``rkne``, ``lhip_smpl``/``rhip_smpl``). Joints without a
    partner (nose, pelvis) map to themselves.

    Examples
    --------
    >>> mirror_permutation(H36M_17)[:7].tolist()
    [0, 4, 5, 6, 1, 2, 3]
    >>> p = mirror_permutation(BLAZEPOSE_33)
    >>> BLAZEPOSE_33.joints[p[9]], BLAZEPOSE_33.joints[p[0]]
    ('mouth_right', 'nose')
    """
    index = {name: i for i, name in enumerate(skeleton.joints)}
    perm = np.arange(len(skeleton.joints))
    for i, name in enumerate(skeleton.joints):
        if "left" in name or "right" in name:
            partner = name.replace("left", "\0").replace("right", "left").replace("\0", "right")
        elif name[:1] in ("l", "r"):
            partner = {"l": "r", "r": "l"}[name[0]] + name[1:]
        else:
            continue
        perm[i] = index.get(partner, i)
    return perm


def lower_body_mask(skeleton: Skeleton) -> np.ndarray:
    """Boolean (J,) mask of hip, leg and foot joints (by name), for per-part relabelling.

    Examples
    --------
    >>> np.nonzero(lower_body_mask(H36M_17))[0].tolist()
    [1, 2, 3, 4, 5, 6]
    """
    return np.array(
        [any(w in name for w in _LOWER_BODY_WORDS) for name in skeleton.joints], dtype=bool
    )
