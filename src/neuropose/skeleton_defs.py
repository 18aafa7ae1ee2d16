"""Joint names and edges of the skeletons NeuroPose models emit, and the canonical joint map.

The data behind :mod:`neuropose.skeletons` (import the names from there): one
:class:`~neuropose.schemas.Skeleton` per model output, in the model's own
joint order and spelling, and :data:`CANONICAL_MAP`, which says which joints
of each skeleton average to each canonical clinical joint.

Examples
--------
>>> BLAZEPOSE_33.joints[23], CANONICAL_MAP["blazepose_33"]["pelvis"]
('left_hip', ('left_hip', 'right_hip'))
"""

from __future__ import annotations

import itertools

from neuropose.schemas import Skeleton

__all__ = [
    "BERKELEY_MHAD_43",
    "BLAZEPOSE_33",
    "CANONICAL_JOINTS",
    "CANONICAL_MAP",
    "COCO_19",
    "H36M_17",
    "SKELETONS",
    "SMPL_HEAD_30",
]


def _chain_edges(joints: tuple[str, ...], chains: str) -> tuple[tuple[int, int], ...]:
    """Edges from chains like ``"a-b-c,b-d"`` written with joint names."""
    index = {name: i for i, name in enumerate(joints)}
    edges: list[tuple[int, int]] = []
    for chain in chains.split(","):
        names = chain.strip().split("-")
        for a, b in itertools.pairwise(names):
            edges.append((index[a], index[b]))
    return tuple(edges)


def _make(name: str, joints: tuple[str, ...], chains: str) -> Skeleton:
    return Skeleton(name=name, joints=joints, edges=_chain_edges(joints, chains))


_BLAZEPOSE_JOINTS = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

#: The 33 BlazePose GHUM landmarks (MediaPipe order) with MediaPipe's usual edges.
BLAZEPOSE_33 = _make(
    "blazepose_33",
    _BLAZEPOSE_JOINTS,
    "nose-left_eye_inner-left_eye-left_eye_outer-left_ear,"
    "nose-right_eye_inner-right_eye-right_eye_outer-right_ear,"
    "mouth_left-mouth_right,"
    "left_shoulder-right_shoulder,"
    "left_shoulder-left_elbow-left_wrist-left_pinky-left_index-left_wrist-left_thumb,"
    "right_shoulder-right_elbow-right_wrist-right_pinky-right_index-right_wrist-right_thumb,"
    "left_shoulder-left_hip-right_hip-right_shoulder,"
    "left_hip-left_knee-left_ankle-left_heel-left_foot_index-left_ankle,"
    "right_hip-right_knee-right_ankle-right_heel-right_foot_index-right_ankle",
)

#: MeTRAbs ``h36m_17`` (Human3.6M joints).
H36M_17 = _make(
    "h36m_17",
    (
        "pelv",
        "rhip",
        "rkne",
        "rank",
        "lhip",
        "lkne",
        "lank",
        "spin",
        "neck",
        "head",
        "htop",
        "lsho",
        "lelb",
        "lwri",
        "rsho",
        "relb",
        "rwri",
    ),
    "pelv-rhip-rkne-rank,pelv-lhip-lkne-lank,pelv-spin-neck-head-htop,"
    "neck-lsho-lelb-lwri,neck-rsho-relb-rwri",
)

#: MeTRAbs ``coco_19`` (COCO keypoints plus neck and pelvis).
COCO_19 = _make(
    "coco_19",
    (
        "neck",
        "nose",
        "pelv",
        "lsho",
        "lelb",
        "lwri",
        "lhip",
        "lkne",
        "lank",
        "rsho",
        "relb",
        "rwri",
        "rhip",
        "rkne",
        "rank",
        "leye",
        "lear",
        "reye",
        "rear",
    ),
    "neck-nose-leye-lear,nose-reye-rear,neck-lsho-lelb-lwri,neck-rsho-relb-rwri,"
    "neck-pelv,pelv-lhip-lkne-lank,pelv-rhip-rkne-rank",
)

#: MeTRAbs ``smpl+head_30``: SMPL joints, the MPI-INF-3DHP head top and COCO face points.
SMPL_HEAD_30 = _make(
    "smpl+head_30",
    (
        "pelv_smpl",
        "lhip_smpl",
        "rhip_smpl",
        "bell_smpl",
        "lkne_smpl",
        "rkne_smpl",
        "spin_smpl",
        "lank_smpl",
        "rank_smpl",
        "thor_smpl",
        "ltoe_smpl",
        "rtoe_smpl",
        "neck_smpl",
        "lcla_smpl",
        "rcla_smpl",
        "head_smpl",
        "lsho_smpl",
        "rsho_smpl",
        "lelb_smpl",
        "relb_smpl",
        "lwri_smpl",
        "rwri_smpl",
        "lhan_smpl",
        "rhan_smpl",
        "htop_mpi_inf_3dhp",
        "learcoco",
        "leyecoco",
        "nosecoco",
        "rearcoco",
        "reyecoco",
    ),
    "pelv_smpl-lhip_smpl-lkne_smpl-lank_smpl-ltoe_smpl,"
    "pelv_smpl-rhip_smpl-rkne_smpl-rank_smpl-rtoe_smpl,"
    "pelv_smpl-bell_smpl-spin_smpl-thor_smpl-neck_smpl-head_smpl-htop_mpi_inf_3dhp,"
    "neck_smpl-lcla_smpl-lsho_smpl-lelb_smpl-lwri_smpl-lhan_smpl,"
    "neck_smpl-rcla_smpl-rsho_smpl-relb_smpl-rwri_smpl-rhan_smpl,"
    "head_smpl-nosecoco,learcoco-leyecoco-nosecoco-reyecoco-rearcoco",
)

#: MeTRAbs ``berkeley_mhad_43`` (Berkeley MHAD motion-capture markers).
BERKELEY_MHAD_43 = _make(
    "berkeley_mhad_43",
    (
        "head",
        "lhead",
        "rhead",
        "rback",
        "backl",
        "backt",
        "lback",
        "lside",
        "bell",
        "chest",
        "rside",
        "lsho1",
        "lsho2",
        "larm",
        "lelb",
        "lwri",
        "lhan1",
        "lhan2",
        "lhan3",
        "rsho1",
        "rsho2",
        "rarm",
        "relb",
        "rwri",
        "rhan1",
        "rhan2",
        "rhan3",
        "lhipb",
        "lhipf",
        "lhipl",
        "lleg",
        "lkne",
        "lank",
        "lhee",
        "lfoo",
        "rhipb",
        "rhipf",
        "rhipl",
        "rleg",
        "rkne",
        "rank",
        "rhee",
        "rfoo",
    ),
    "lhead-head-rhead,head-chest-bell,backt-backl,lback-backt-rback,lside-bell-rside,"
    "chest-lsho1-lsho2-larm-lelb-lwri-lhan1,lwri-lhan2,lwri-lhan3,"
    "chest-rsho1-rsho2-rarm-relb-rwri-rhan1,rwri-rhan2,rwri-rhan3,"
    "bell-lhipf-lhipl-lleg-lkne-lank-lhee-lfoo-lank,lhipb-lhipl,"
    "bell-rhipf-rhipl-rleg-rkne-rank-rhee-rfoo-rank,rhipb-rhipl,backl-lhipb,backl-rhipb",
)

#: Every known skeleton, by name.
SKELETONS: dict[str, Skeleton] = {
    s.name: s for s in (BLAZEPOSE_33, BERKELEY_MHAD_43, SMPL_HEAD_30, H36M_17, COCO_19)
}

#: The canonical clinical joints, in a fixed order.
CANONICAL_JOINTS: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_toe",
    "right_toe",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "neck",
    "head",
)


def _bilateral(left: str, right: str, **extra: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Map of left_/right_ canonical joints using name templates with ``{s}``."""
    out: dict[str, tuple[str, ...]] = {}
    for key, names in extra.items():
        for side, prefix in (("left", left), ("right", right)):
            out[f"{side}_{key}"] = tuple(n.format(s=prefix) for n in names)
    return out


#: Canonical joint → joint names of each skeleton whose mean is that joint.
#: A canonical joint missing from a skeleton's map is unsupported there.
CANONICAL_MAP: dict[str, dict[str, tuple[str, ...]]] = {
    "blazepose_33": {
        "pelvis": ("left_hip", "right_hip"),
        "neck": ("left_shoulder", "right_shoulder"),
        "head": ("left_ear", "right_ear"),
        **_bilateral(
            "left",
            "right",
            hip=("{s}_hip",),
            knee=("{s}_knee",),
            ankle=("{s}_ankle",),
            heel=("{s}_heel",),
            toe=("{s}_foot_index",),
            shoulder=("{s}_shoulder",),
            elbow=("{s}_elbow",),
            wrist=("{s}_wrist",),
        ),
    },
    "h36m_17": {
        "pelvis": ("pelv",),
        "neck": ("neck",),
        "head": ("head",),
        **_bilateral(
            "l",
            "r",
            hip=("{s}hip",),
            knee=("{s}kne",),
            ankle=("{s}ank",),
            shoulder=("{s}sho",),
            elbow=("{s}elb",),
            wrist=("{s}wri",),
        ),
    },
    "coco_19": {
        "pelvis": ("pelv",),
        "neck": ("neck",),
        "head": ("lear", "rear"),
        **_bilateral(
            "l",
            "r",
            hip=("{s}hip",),
            knee=("{s}kne",),
            ankle=("{s}ank",),
            shoulder=("{s}sho",),
            elbow=("{s}elb",),
            wrist=("{s}wri",),
        ),
    },
    "smpl+head_30": {
        "pelvis": ("pelv_smpl",),
        "neck": ("neck_smpl",),
        "head": ("head_smpl",),
        **_bilateral(
            "l",
            "r",
            hip=("{s}hip_smpl",),
            knee=("{s}kne_smpl",),
            ankle=("{s}ank_smpl",),
            toe=("{s}toe_smpl",),
            shoulder=("{s}sho_smpl",),
            elbow=("{s}elb_smpl",),
            wrist=("{s}wri_smpl",),
        ),
    },
    "berkeley_mhad_43": {
        "pelvis": ("lhipb", "lhipf", "lhipl", "rhipb", "rhipf", "rhipl"),
        "neck": ("lsho1", "lsho2", "rsho1", "rsho2"),
        "head": ("head",),
        **_bilateral(
            "l",
            "r",
            hip=("{s}hipb", "{s}hipf", "{s}hipl"),
            knee=("{s}kne",),
            ankle=("{s}ank",),
            heel=("{s}hee",),
            toe=("{s}foo",),
            shoulder=("{s}sho1", "{s}sho2"),
            elbow=("{s}elb",),
            wrist=("{s}wri",),
        ),
    },
}
