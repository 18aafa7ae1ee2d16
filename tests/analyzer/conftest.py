"""Synthetic subjects with closed-form ground truth for the analyzer tests.

* ``make_arm``: a standing figure whose left elbow flexion is
  ``75 - 45 cos(2π f t)`` degrees (30° → 120° → 30°, one repetition per
  cycle, valleys at t = k / f), upper arm hanging along the trunk; joints use
  canonical names so every angle is defined. Optional timestamp jitter.
* ``make_walker``: a treadmill walker (pelvis at the origin, root-relative)
  with known heel-strike and toe-off times per side, seen by a tilted camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuropose.analyzer.load import Trial, trial_from_arrays
from neuropose.schemas import Skeleton

JOINTS = (
    "pelvis",
    "neck",
    "head",
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
)
SKELETON = Skeleton(name="synthetic_canonical", joints=JOINTS)


def rotation(axis: str, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def body_to_camera(points: np.ndarray, tilt_deg: float = 0.0, yaw_deg: float = 0.0) -> np.ndarray:
    """Body frame (x = subject's left, y = up, z = forward, mm) → camera frame.

    Camera axes are x right, y down, z forward (away from the camera). The
    subject faces the camera with yaw 0; ``tilt_deg`` pitches the camera.
    """
    # Subject facing the camera: subject-left = camera +x, up = camera -y, forward = camera -z.
    base = np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]], dtype=float)
    r = rotation("x", tilt_deg) @ base @ rotation("y", yaw_deg)
    return points @ r.T


def standing_body(n: int) -> np.ndarray:
    """(n, J, 3) neutral standing pose in the body frame (mm)."""
    p = np.zeros((n, len(JOINTS), 3))
    pos = {
        "pelvis": (0, 0, 0),
        "neck": (0, 500, 0),
        "head": (0, 650, 0),
        "left_hip": (100, 0, 0),
        "right_hip": (-100, 0, 0),
        "left_knee": (100, -450, 0),
        "right_knee": (-100, -450, 0),
        "left_ankle": (100, -900, 0),
        "right_ankle": (-100, -900, 0),
        "left_heel": (100, -960, -50),
        "right_heel": (-100, -960, -50),
        "left_toe": (100, -960, 150),
        "right_toe": (-100, -960, 150),
        "left_shoulder": (180, 500, 0),
        "right_shoulder": (-180, 500, 0),
        "left_elbow": (180, 200, 0),
        "right_elbow": (-180, 200, 0),
        "left_wrist": (180, -50, 0),
        "right_wrist": (-180, -50, 0),
    }
    for k, name in enumerate(JOINTS):
        p[:, k] = pos[name]
    return p


def idx(name: str) -> int:
    return JOINTS.index(name)


def timestamps(n: int, fs: float, jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    t = np.arange(n) / fs
    if jitter:
        rng = np.random.default_rng(seed)
        t = t + rng.uniform(-jitter, jitter, n) / fs
        t[0] = 0.0
    return t


def make_arm(
    fs: float = 30.0,
    cycles: int = 10,
    freq: float = 1.0,
    jitter: float = 0.0,
    tilt_deg: float = 20.0,
    phase_s: float = 0.0,
) -> tuple[Trial, np.ndarray]:
    """Arm raise subject; returns (trial, true left elbow flexion in degrees)."""
    n = round(cycles / freq * fs) + 1
    t = timestamps(n, fs, jitter)
    flex = 75 - 45 * np.cos(2 * np.pi * freq * (t + phase_s))
    p = standing_body(n)
    # Forearm rotates in the sagittal plane (y-z) about the elbow: 0 flexion = straight down.
    th = np.radians(flex)
    fore = 250 * np.stack([np.zeros(n), -np.cos(th), np.sin(th)], axis=1)
    p[:, idx("left_wrist")] = p[:, idx("left_elbow")] + fore
    trial = trial_from_arrays(body_to_camera(p, tilt_deg), t, SKELETON)
    return trial, flex


@dataclass
class Walker:
    trial: Trial
    hs_times: dict[str, np.ndarray]
    to_times: dict[str, np.ndarray]


def _foot_forward(t: np.ndarray, t0: float, period: float, stance: float, amp: float) -> np.ndarray:
    """Forward position of a foot relative to the pelvis: +amp at HS, -amp at TO.

    Stance (fraction ``stance`` of the cycle): half-cosine from +amp to -amp;
    swing: half-cosine back from -amp to +amp. Extrema exactly at HS and TO.
    """
    ph = np.mod(t - t0, period) / period
    return np.where(
        ph < stance,
        amp * np.cos(np.pi * ph / stance),
        -amp * np.cos(np.pi * (ph - stance) / (1 - stance)),
    )


def make_walker(
    fs: float = 60.0,
    duration: float = 8.0,
    period: float = 1.1,
    stance: float = 0.62,
    jitter: float = 0.0,
    tilt_deg: float = 15.0,
    yaw_deg: float = 30.0,
) -> Walker:
    n = int(duration * fs)
    t = timestamps(n, fs, jitter, seed=3)
    p = standing_body(n)
    amp = 350.0
    hs: dict[str, np.ndarray] = {}
    to: dict[str, np.ndarray] = {}
    for side, t0 in (("left", 0.13), ("right", 0.13 + period / 2)):
        f = _foot_forward(t, t0, period, stance, amp)
        ph = np.mod(t - t0, period) / period
        lift = np.where(ph < stance, 0.0, 80 * np.sin(np.pi * (ph - stance) / (1 - stance)))
        for j, dz, dy in (("heel", -50, -960), ("toe", 150, -960), ("ankle", 0, -900)):
            k = idx(f"{side}_{j}")
            p[:, k, 2] = f + dz
            p[:, k, 1] = dy + lift
        k = idx(f"{side}_knee")
        p[:, k, 2] = f / 2
        starts = t0 + period * np.arange(-1, int(duration / period) + 2)
        hs[side] = starts[(starts > t[0]) & (starts < t[-1])]
        tos = starts + stance * period
        to[side] = tos[(tos > t[0]) & (tos < t[-1])]
    trial = trial_from_arrays(body_to_camera(p, tilt_deg, yaw_deg), t, SKELETON)
    return Walker(trial, hs, to)


def make_results(trial: Trial, *, video: str = "arm.mp4", job_id: str = "job", missing=()):
    """A JobResults holding ``trial`` as track 1 (the primary subject).

    Frames listed in ``missing`` have no detection. A second person (track 2,
    a static bystander) is present on every frame.
    """
    from neuropose.schemas import JobResults, Provenance, VideoMetadata, VideoPredictions
    from neuropose.schemas.provenance import CameraIntrinsics

    n, j = trial.poses.shape[:2]
    frames = [f for f in range(n) if f not in set(missing)]
    det_frame, track, poses = [], [], []
    for f in range(n):
        if f in frames:
            det_frame.append(f)
            track.append(1)
            poses.append(trial.poses[f])
        det_frame.append(f)
        track.append(2)
        poses.append(trial.poses[0] + 2000.0)
    d = len(det_frame)
    vp = VideoPredictions(
        video=video,
        skeleton=trial.skeleton,
        metadata=VideoMetadata(
            width=640, height=480, decoded_frame_count=n, duration_s=float(trial.timestamps[-1])
        ),
        provenance=Provenance(
            model_name="synthetic",
            model_sha256="0" * 64,
            root_relative=trial.root_relative,
            intrinsics=CameraIntrinsics.from_fov(640, 480, 55.0),
            input_sha256="0" * 64,
            input_name=video,
            created_at="2026-01-01T00:00:00Z",
        ),
        primary_track_id=1,
        frame_index=np.arange(n, dtype=np.int32),
        timestamp_s=trial.timestamps,
        det_frame=np.array(det_frame, np.int32),
        track_id=np.array(track, np.int32),
        boxes=np.zeros((d, 5), np.float32),
        poses3d=np.array(poses, np.float32).reshape(d, j, 3),
        poses2d=np.zeros((d, j, 2), np.float32),
    )
    return JobResults(
        job_id=job_id, created_at="2026-01-01T00:00:00Z", neuropose_version="test", videos=(vp,)
    )
