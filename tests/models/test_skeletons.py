"""The skeleton catalogue and the canonical clinical joint map."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import neuropose.skeletons as sk
from neuropose.skeletons import (
    BLAZEPOSE_33,
    CANONICAL_JOINTS,
    SKELETONS,
    canonical_indices,
    canonical_joint,
)


def test_blazepose_has_the_33_standard_landmarks_in_mediapipe_order() -> None:
    joints = BLAZEPOSE_33.joints
    assert len(joints) == 33
    assert joints[:4] == ("nose", "left_eye_inner", "left_eye", "left_eye_outer")
    assert joints[11:13] == ("left_shoulder", "right_shoulder")
    assert joints[23:25] == ("left_hip", "right_hip")
    assert joints[-4:] == ("left_heel", "right_heel", "left_foot_index", "right_foot_index")
    assert (joints.index("left_hip"), joints.index("left_knee")) in BLAZEPOSE_33.edges


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("blazepose_33", 33),
        ("berkeley_mhad_43", 43),
        ("smpl+head_30", 30),
        ("h36m_17", 17),
        ("coco_19", 19),
    ],
)
def test_skeleton_sizes_match_their_names(name: str, count: int) -> None:
    assert len(SKELETONS[name].joints) == count
    assert SKELETONS[name].edges, "every skeleton has edges to draw"


def test_every_supported_canonical_joint_resolves_on_every_skeleton() -> None:
    for skel_name, mapping in sk.CANONICAL_MAP.items():
        for joint in mapping:
            assert joint in CANONICAL_JOINTS
            idx = canonical_indices(SKELETONS[skel_name], joint)
            assert all(0 <= i < len(SKELETONS[skel_name].joints) for i in idx)


def test_all_clinical_joints_on_blazepose_smpl_and_mhad_except_missing_heels() -> None:
    for joint in CANONICAL_JOINTS:
        canonical_indices(BLAZEPOSE_33, joint)
        canonical_indices("berkeley_mhad_43", joint)
    assert canonical_indices("smpl+head_30", "left_toe") == (10,)


def test_blazepose_virtual_joints_are_the_documented_means() -> None:
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(4, 33, 3))
    j = BLAZEPOSE_33.index
    np.testing.assert_allclose(
        canonical_joint(poses, BLAZEPOSE_33, "pelvis"),
        (poses[:, j("left_hip")] + poses[:, j("right_hip")]) / 2,
    )
    np.testing.assert_allclose(
        canonical_joint(poses, BLAZEPOSE_33, "neck"),
        (poses[:, j("left_shoulder")] + poses[:, j("right_shoulder")]) / 2,
    )
    np.testing.assert_array_equal(
        canonical_joint(poses, BLAZEPOSE_33, "right_toe"), poses[:, j("right_foot_index")]
    )


def test_left_right_are_not_swapped() -> None:
    for name, skel in SKELETONS.items():
        for side, letter in (("left", "l"), ("right", "r")):
            for joint in ("knee", "wrist"):
                (i,) = canonical_indices(skel, f"{side}_{joint}")
                assert skel.joints[i].startswith((side, letter)), (name, side, joint)


def test_nan_in_any_contributing_joint_propagates() -> None:
    poses = np.ones((3, 33, 2))
    poses[1, BLAZEPOSE_33.index("right_hip"), 0] = np.nan
    pelvis = canonical_joint(poses, BLAZEPOSE_33, "pelvis")
    assert pelvis.shape == (3, 2)
    assert np.isnan(pelvis[1, 0]) and not np.isnan(pelvis[1, 1])
    assert not np.isnan(pelvis[[0, 2]]).any()


def test_unsupported_joint_names_joint_and_skeleton() -> None:
    with pytest.raises(KeyError, match=r"'left_heel' is not provided by skeleton 'h36m_17'"):
        canonical_indices("h36m_17", "left_heel")
    with pytest.raises(ValueError, match=r"'left_toe' is not provided by skeleton 'coco_19'"):
        canonical_indices(SKELETONS["coco_19"], "left_toe")


def test_unknown_canonical_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"'hip' is not a canonical joint; .*left_hip"):
        canonical_indices(BLAZEPOSE_33, "hip")


def test_unknown_skeleton_name() -> None:
    with pytest.raises(KeyError, match=r"unknown skeleton 'foo_3'.*blazepose_33"):
        canonical_joint(np.zeros((33, 3)), "foo_3", "pelvis")


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"do not match skeleton 'blazepose_33' with 33 joints"):
        canonical_joint(np.zeros((5, 17, 3)), BLAZEPOSE_33, "pelvis")


def test_module_doctest_runs() -> None:
    result = doctest.testmod(sk)
    assert result.attempted > 0 and result.failed == 0
