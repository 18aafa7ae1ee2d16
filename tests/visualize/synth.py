"""Synthetic videos and predictions with known ground truth for visualize tests.

Helpers (fixtures live in ``conftest.py``):

* ``UNIQUE_BGR``: a colour no drawing element uses (the ``unique_video``
  fixture is a 640x480, 30 fps, 30-frame H.264 MP4 of only that colour).
* ``fps_and_count``: nominal frame rate and decodable frame count of a video
  (to compare an output with its input).
* ``build_predictions``: predictions for that video on a 4-joint skeleton
  ``a-b-c-d`` (edges a-b, b-c, c-d). Track 1 (the subject) has joint ``a`` at
  exactly (400, 300) px with confidence 1.0, joint ``b`` at (400, 380) with
  confidence 0.0, ``c`` at (450, 380) and ``d`` at (450, 440) with 0.5; 3D
  bone lengths are constant (100, 50, 60 mm). Track 2 (a bystander) stands at
  x = 100..150 px. The subject is missing on frames 10..12.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from neuropose.schemas import (
    CameraIntrinsics,
    Provenance,
    Segment,
    Segmentation,
    Skeleton,
    VideoMetadata,
    VideoPredictions,
)
from neuropose.video.reader import count_frames, probe_video

UNIQUE_BGR = (200, 30, 180)
W, H, N, FPS = 640, 480, 30, 30.0
SKELETON = Skeleton(name="toy_4", joints=("a", "b", "c", "d"), edges=((0, 1), (1, 2), (2, 3)))
SUBJECT_2D = np.array([[400, 300], [400, 380], [450, 380], [450, 440]], np.float32)
SUBJECT_CONF = np.array([1.0, 0.0, 0.5, 0.5], np.float32)
SUBJECT_3D = np.array([[0, 0, 0], [0, 100, 0], [50, 100, 0], [50, 160, 0]], np.float32)
MISSING = range(10, 13)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_predictions(
    *, input_sha256: str = "0" * 64, video: str = "clip.mp4", n: int = N
) -> VideoPredictions:
    det_frame, track, boxes, p2, p3, conf = [], [], [], [], [], []
    for f in range(n):
        if f not in MISSING:
            det_frame.append(f)
            track.append(1)
            boxes.append([380, 280, 90, 180, 0.95])
            p2.append(SUBJECT_2D)
            p3.append(SUBJECT_3D + np.float32([0, 0, 2000 + f]))
            conf.append(SUBJECT_CONF)
        det_frame.append(f)
        track.append(2)
        boxes.append([90, 280, 70, 180, 0.8])
        p2.append(SUBJECT_2D - np.float32([300, 0]))
        p3.append(SUBJECT_3D)
        conf.append(np.full(4, 0.7, np.float32))
    ts = np.arange(n) / FPS
    seg = Segmentation(
        method="valley_to_valley",
        signal={"angle": "left_knee_flexion"},
        segments=(
            Segment(start_frame=2, end_frame=14, start_s=2 / FPS, end_s=14 / FPS),
            Segment(start_frame=14, end_frame=26, start_s=14 / FPS, end_s=26 / FPS),
        ),
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="0.1.0",
    )
    return VideoPredictions(
        video=video,
        skeleton=SKELETON,
        metadata=VideoMetadata(
            width=W, height=H, decoded_frame_count=n, duration_s=n / FPS, fps_reported=FPS
        ),
        provenance=Provenance(
            model_name="synthetic",
            model_sha256="0" * 64,
            root_relative=False,
            intrinsics=CameraIntrinsics.from_fov(W, H, 55.0),
            input_sha256=input_sha256,
            input_name=video,
            created_at="2026-01-01T00:00:00Z",
        ),
        primary_track_id=1,
        frame_index=np.arange(n, dtype=np.int32),
        timestamp_s=ts,
        det_frame=np.array(det_frame, np.int32),
        track_id=np.array(track, np.int32),
        boxes=np.array(boxes, np.float32),
        poses3d=np.array(p3, np.float32),
        poses2d=np.array(p2, np.float32),
        confidence=np.array(conf, np.float32),
        segmentations={"reps": seg},
    )


def read_frames(path: Path) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def build_knee_predictions(n: int = 90) -> tuple[VideoPredictions, np.ndarray]:
    """BlazePose-33 predictions whose left knee flexion is known.

    Camera frame, mm: hips at y = 0, knees 400 mm below, ankles 400 mm from the
    knees; the left shank swings forward so that left knee flexion is
    ``30 + 20 sin(2π · 1 Hz · t)`` degrees (returned), the right leg is straight.
    One segmentation ``reps`` with segments at frames 0..30 and 30..60.
    """
    from neuropose.skeletons import BLAZEPOSE_33 as sk

    t = np.arange(n) / FPS
    theta = 30 + 20 * np.sin(2 * np.pi * 1.0 * t)
    poses = np.zeros((n, len(sk.joints), 3), np.float32)
    poses[:, :, 2] = 3000.0
    ix = sk.index

    def put(name: str, xyz: np.ndarray) -> None:
        poses[:, ix(name)] = xyz

    ones = np.ones(n)
    put("left_shoulder", np.stack([100 * ones, -500 * ones, 3000 * ones], 1))
    put("right_shoulder", np.stack([-100 * ones, -500 * ones, 3000 * ones], 1))
    put("left_hip", np.stack([100 * ones, 0 * ones, 3000 * ones], 1))
    put("right_hip", np.stack([-100 * ones, 0 * ones, 3000 * ones], 1))
    put("left_knee", np.stack([100 * ones, 400 * ones, 3000 * ones], 1))
    put("right_knee", np.stack([-100 * ones, 400 * ones, 3000 * ones], 1))
    rad = np.radians(theta)
    put("left_ankle", np.stack([100 * ones, 400 + 400 * np.cos(rad), 3000 - 400 * np.sin(rad)], 1))
    put("right_ankle", np.stack([-100 * ones, 800 * ones, 3000 * ones], 1))
    p2 = poses[:, :, :2] / 10 + np.float32([320, 100])
    seg = Segmentation(
        method="valley_to_valley",
        signal={"angle": "left_knee_flexion"},
        segments=tuple(
            Segment(start_frame=a, end_frame=b, start_s=a / FPS, end_s=b / FPS)
            for a, b in ((0, 30), (30, 60))
        ),
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="0.1.0",
    )
    base = build_predictions(n=n)
    vp = base.model_copy(
        update={
            "skeleton": sk,
            "det_frame": np.arange(n, dtype=np.int32),
            "track_id": np.ones(n, np.int32),
            "boxes": np.tile(np.float32([250, 50, 140, 300, 0.9]), (n, 1)),
            "poses3d": poses,
            "poses2d": p2.astype(np.float32),
            "confidence": np.full((n, len(sk.joints)), 0.8, np.float32),
            "segmentations": {"reps": seg},
        }
    )
    return VideoPredictions.model_validate(vp.model_dump()), theta


def build_limb_predictions(n: int = 30) -> VideoPredictions:
    """BlazePose-33 predictions of one person whose segment lengths are known.

    Camera frame, mm, 30 fps, one track (id 1) on every frame, confidence 0.8.
    Every joint sits at a fixed, distinct position except:

    * left thigh (left_hip–left_knee) alternates 350 / 450 mm frame by frame
      (mean 400, population std 50: CV 0.125); the left ankle moves with the
      knee so the left shank stays 400 mm;
    * right thigh alternates 380 / 420 mm (CV 0.05), right shank stays 400 mm;
    * upper arms are 300 mm, forearms 250 mm, constant;
    * the left_eye_inner–left_eye edge alternates 0.5 / 0.9 mm (mean 0.7 mm,
      CV 0.2857): a face "bone" that must never count as a limb segment.
    """
    from neuropose.skeletons import BLAZEPOSE_33 as sk

    rng = np.random.default_rng(7)
    base = rng.uniform(-300, 300, size=(len(sk.joints), 3)) + np.array([0, -700, 3000])
    poses = np.repeat(base[None], n, axis=0)
    alt = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)

    def put(name: str, x: float | np.ndarray, y: float | np.ndarray) -> None:
        poses[:, sk.index(name)] = np.stack(
            np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float), 3000.0 * np.ones(n)), 1
        )

    for side, sx in (("left", 1.0), ("right", -1.0)):
        put(f"{side}_shoulder", 150 * sx, -500)
        put(f"{side}_elbow", 150 * sx, -200)
        put(f"{side}_wrist", 150 * sx, 50)
        put(f"{side}_hip", 100 * sx, 0)
    put("left_knee", 100, 400 + 50 * alt)
    put("left_ankle", 100, 800 + 50 * alt)
    put("right_knee", -100, 400 + 20 * alt)
    put("right_ankle", -100, 800 + 20 * alt)
    put("left_eye_inner", 20, -900)
    put("left_eye", 20.7 + 0.2 * alt, -900)
    base_vp = build_predictions(n=n)
    vp = base_vp.model_copy(
        update={
            "skeleton": sk,
            "det_frame": np.arange(n, dtype=np.int32),
            "track_id": np.ones(n, np.int32),
            "boxes": np.tile(np.float32([250, 50, 140, 300, 0.9]), (n, 1)),
            "poses3d": poses.astype(np.float32),
            "poses2d": (poses[:, :, :2] / 10 + np.float32([320, 100])).astype(np.float32),
            "confidence": np.full((n, len(sk.joints)), 0.8, np.float32),
            "segmentations": {},
        }
    )
    return VideoPredictions.model_validate(vp.model_dump())


def fps_and_count(path: Path) -> tuple[float | None, int]:
    """Nominal frame rate (container) and number of frames that decode."""
    return probe_video(path).fps_reported, count_frames(path)
