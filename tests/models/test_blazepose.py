"""BlazePose GHUM 3D: decoding units with known answers, and quality on real media.

Real-media ground truth (hand-labelled from the images, generous margins):
``messi5.jpg`` (548×342) shows one player inside x 60..465, y 55..340;
``basketball1.png`` (640×480) shows a fully visible player inside x 30..165,
y 75..480 (a second, cut-off person at the right edge is not required).
``lab_single_person/cam01.mp4``: one subject on a treadmill in every frame of
100; left and right femurs are the same person's, so equal in length.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.models import CorruptModelError
from neuropose.models.blazepose_geometry import (
    Detection,
    Roi,
    decode_detections,
    refine_from_heatmap,
    ssd_anchors,
    weighted_nms,
)
from neuropose.models.blazepose_pipeline import BlazePoseModel
from neuropose.schemas import CameraIntrinsics
from neuropose.skeletons import BLAZEPOSE_33

J = BLAZEPOSE_33.index


# --- pure decoding, known answers ------------------------------------------------------


def test_anchor_layout() -> None:
    a = ssd_anchors()
    assert a.shape == (2254, 2)
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])  # first cell of the stride-8 grid
    np.testing.assert_allclose(a[1], a[0])  # 2 anchors per cell
    np.testing.assert_allclose(a[1568], [0.5 / 14, 0.5 / 14])  # stride-16 grid starts
    np.testing.assert_allclose(a[1960:1966], np.tile([0.5 / 7, 0.5 / 7], (6, 1)))  # 3 layers


def test_decode_applies_sigmoid_threshold_and_anchor_offsets() -> None:
    anchors = np.array([[0.5, 0.5], [0.25, 0.75]], np.float32)
    raw = np.zeros((2, 12), np.float32)
    raw[0, :4] = [22.4, -11.2, 44.8, 89.6]  # dx=+0.1, dy=-0.05, w=0.2, h=0.4
    raw[0, 4:6] = [0.0, 22.4]  # keypoint 0 at anchor + (0, 0.1)
    scores = np.array([2.0, -2.0], np.float32)  # sigmoid 0.881, 0.119
    dets = decode_detections(raw, scores, anchors, scale=224, min_score=0.5)
    assert len(dets) == 1
    d = dets[0]
    assert d.score == pytest.approx(1 / (1 + math.exp(-2)))
    np.testing.assert_allclose(d.box, [0.5, 0.25, 0.7, 0.65], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [0.5, 0.6], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[3], [0.5, 0.5], atol=1e-6)


def test_weighted_nms_merges_overlaps_by_score_and_keeps_separate_boxes() -> None:
    kp = np.zeros((4, 2))
    a = Detection(np.array([0.0, 0.0, 1.0, 1.0]), kp, 0.9)
    b = Detection(np.array([0.1, 0.0, 1.1, 1.0]), kp + 1, 0.3)  # IoU 0.82 with a
    c = Detection(np.array([5.0, 5.0, 6.0, 6.0]), kp, 0.6)
    out = weighted_nms([b, c, a], 0.3)
    assert [d.score for d in out] == [0.9, 0.6]
    np.testing.assert_allclose(out[0].box, [0.025, 0.0, 1.025, 1.0])  # (0.9*0 + 0.3*0.1)/1.2
    np.testing.assert_allclose(out[0].keypoints, np.full((4, 2), 0.25))
    np.testing.assert_allclose(out[1].box, c.box)


def test_heatmap_refinement_moves_only_confident_landmarks_inside_the_window() -> None:
    heat = np.full((64, 64, 3), -20.0, np.float32)
    heat[10, 20, 0] = 20.0  # sharp peak for landmark 0 at row 10, col 20
    heat[:, :, 1] = -5.0  # landmark 1: nowhere confident (sigmoid 0.007 < 0.5)
    heat[40, 40, 2] = 20.0  # landmark 2: a peak far outside its window
    xy = np.array([[0.30, 0.17], [0.5, 0.5], [0.1, 0.1]])
    out = refine_from_heatmap(xy, heat, kernel_size=7, min_confidence=0.5)
    np.testing.assert_allclose(out[0], [20 / 64, 10 / 64], atol=1e-6)
    np.testing.assert_array_equal(out[1:], xy[1:])
    outside = refine_from_heatmap(np.array([[1.2, 0.5]]), heat[:, :, :1])
    np.testing.assert_array_equal(outside, [[1.2, 0.5]])


def test_roi_geometry() -> None:
    upright = Roi.from_points(np.array([100.0, 200.0]), np.array([100.0, 100.0]))
    assert upright.rotation == pytest.approx(0.0)
    assert upright.size == pytest.approx(2 * 100 * 1.25)
    m = upright.crop_to_image(256)
    np.testing.assert_allclose(m @ [128, 128, 1], [100, 200])
    np.testing.assert_allclose(m @ [128, 0, 1], [100, 75])  # crop top = towards the head
    # Body axis pointing right in the image: crop "up" maps to +x.
    lying = Roi.from_points(np.array([0.0, 0.0]), np.array([50.0, 0.0]))
    assert lying.rotation == pytest.approx(math.pi / 2)
    np.testing.assert_allclose(lying.crop_to_image(256) @ [128, 0, 1], [62.5, 0.0], atol=1e-9)


# --- the real model ---------------------------------------------------------------------


def _rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _predict(model, image: np.ndarray):  # type: ignore[no-untyped-def]
    model.reset()
    intr = CameraIntrinsics.from_fov(image.shape[1], image.shape[0], 55.0)
    return model.predict(image[None], intr)[0]


@pytest.mark.media
@pytest.mark.parametrize(
    ("name", "box"), [("messi5.jpg", (60, 55, 465, 340)), ("basketball1.png", (30, 75, 165, 480))]
)
def test_one_plausible_person_on_photos(
    blazepose_model, shared_media: Path, artifacts_dir: Path, name, box
) -> None:
    image = _rgb(shared_media / name)
    det = _predict(blazepose_model, image)
    overlay = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    for p in range(det.num_persons):
        for a, b in BLAZEPOSE_33.edges:
            pa = tuple(int(v) for v in det.poses2d[p, a])
            pb = tuple(int(v) for v in det.poses2d[p, b])
            cv2.line(overlay, pa, pb, (0, 255, 0), 2)
    cv2.imwrite(str(artifacts_dir / f"models_blazepose_{Path(name).stem}.png"), overlay)
    assert det.num_persons == 1
    p2, p3, conf = det.poses2d[0], det.poses3d[0], det.confidence[0]
    assert p2.shape == (33, 2) and p3.shape == (33, 3) and conf.shape == (33,)
    assert ((conf >= 0) & (conf <= 1)).all()
    x0, y0, x1, y1 = box
    seen = conf > 0.5
    assert seen.sum() >= 25
    assert ((p2[seen, 0] >= x0) & (p2[seen, 0] <= x1)).all(), "2D keypoints outside the person"
    assert ((p2[seen, 1] >= y0) & (p2[seen, 1] <= y1)).all()
    for pts in (p2, p3):  # image and 3D share y-down
        hips_y = (pts[J("left_hip"), 1] + pts[J("right_hip"), 1]) / 2
        assert pts[J("nose"), 1] < hips_y
        for side in ("left", "right"):
            assert pts[J(f"{side}_ankle"), 1] > pts[J(f"{side}_knee"), 1]
            assert pts[J(f"{side}_knee"), 1] > pts[J(f"{side}_hip"), 1]
    # Facing direction agrees between shoulders and hips (left/right not mixed up).
    sh = p2[J("left_shoulder"), 0] > p2[J("right_shoulder"), 0]
    hp = p2[J("left_hip"), 0] > p2[J("right_hip"), 0]
    assert sh == hp
    # Root-relative 3D in millimetres: hip centre at the origin, body ~1.5-2 m tall scale.
    hip_centre = (p3[J("left_hip")] + p3[J("right_hip")]) / 2
    assert np.linalg.norm(hip_centre) < 30.0
    femur = np.linalg.norm(p3[J("left_hip")] - p3[J("left_knee")])
    assert 250 < femur < 600


@pytest.mark.media
@pytest.mark.slow
def test_lab_clip_tracks_subject_with_symmetric_femurs(blazepose_model, shared_media) -> None:
    cap = cv2.VideoCapture(str(shared_media / "lab_single_person" / "cam01.mp4"))
    blazepose_model.reset()
    calls0 = blazepose_model.detector_calls
    found, left, right, frames = 0, [], [], 0
    intr = None
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        intr = intr or CameraIntrinsics.from_fov(frame.shape[1], frame.shape[0], 55.0)
        det = blazepose_model.predict(frame[None], intr)[0]
        frames += 1
        if det.num_persons:
            found += 1
            p = det.poses3d[0]
            left.append(np.linalg.norm(p[J("left_hip")] - p[J("left_knee")]))
            right.append(np.linalg.norm(p[J("right_hip")] - p[J("right_knee")]))
            assert det.boxes[0, 3] > 500, "subject, not the bystander"
    assert frames == 100
    assert found >= 95
    ml, mr = float(np.median(left)), float(np.median(right))
    assert abs(ml - mr) / ((ml + mr) / 2) < 0.15
    # Tracking: the detector ran only when the person had to be (re)found.
    assert blazepose_model.detector_calls - calls0 <= 5


@pytest.mark.parametrize("kind", ["black", "noise", "gradient"])
def test_frames_without_people_yield_none(blazepose_model, kind: str) -> None:
    rng = np.random.default_rng(1)
    if kind == "black":
        img = np.zeros((480, 640, 3), np.uint8)
    elif kind == "noise":
        img = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    else:
        img = np.broadcast_to(
            np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], (480, 640, 3)
        ).copy()
    det = _predict(blazepose_model, img)
    assert det.num_persons == 0
    assert det.poses3d.shape == (0, 33, 3) and det.boxes.shape == (0, 5)


@pytest.mark.media
def test_max_persons_two_finds_both_copies(blazepose_model, shared_media: Path) -> None:
    img = _rgb(shared_media / "basketball1.png")[:, :220]
    pair = np.ascontiguousarray(np.hstack([img, img]))
    blazepose_model.max_persons = 2
    try:
        det = _predict(blazepose_model, pair)
    finally:
        blazepose_model.max_persons = 1
    assert det.num_persons == 2
    centres = sorted(float(det.poses2d[i, :, 0].mean()) for i in range(2))
    assert centres[0] < 220 < centres[1]
    assert centres[1] - centres[0] == pytest.approx(220, abs=10)
    assert _predict(blazepose_model, pair).num_persons == 1


def test_model_identity(blazepose_model) -> None:
    from neuropose.models.blazepose import weights_digest

    assert blazepose_model.name == "blazepose-full"
    assert blazepose_model.skeleton == BLAZEPOSE_33
    assert blazepose_model.root_relative is True and blazepose_model.max_batch_size == 1
    assert blazepose_model.weights_sha256 == weights_digest()


def test_corrupt_weight_file_is_named(model_cache_dir: Path, blazepose_model, tmp_path) -> None:
    src = model_cache_dir / "blazepose-full"
    for f in ("pose_detection.tflite", "pose_landmark_full.tflite"):
        shutil.copy(src / f, tmp_path / f)
    data = bytearray((tmp_path / "pose_detection.tflite").read_bytes())
    data[1000] ^= 0xFF
    (tmp_path / "pose_detection.tflite").write_bytes(bytes(data))
    from neuropose.models.blazepose import BLAZEPOSE_FULL

    with pytest.raises(CorruptModelError, match=r"pose_detection.tflite is corrupt: sha256"):
        BlazePoseModel.from_files(
            tmp_path / "pose_detection.tflite",
            tmp_path / "pose_landmark_full.tflite",
            name="x",
            expected_sha256=dict(BLAZEPOSE_FULL.files),
        )


def test_blazepose_location_spec_loads_a_directory(
    blazepose_model, model_cache_dir: Path, tmp_path: Path
) -> None:
    from tests.models.conftest import make_settings

    from neuropose.models import UnknownModelError, load_pose_model

    settings = make_settings(tmp_path / "cache", num_threads=1)
    model = load_pose_model(f"blazepose:{model_cache_dir / 'blazepose-full'}", settings)
    assert model.name == "blazepose:blazepose-full"
    assert model.skeleton.name == "blazepose_33"
    with pytest.raises(UnknownModelError, match=r"expected pose_detection\.tflite"):
        load_pose_model(f"blazepose:{tmp_path}", settings)


def test_blazepose_spec_options(blazepose_model, model_cache_dir: Path) -> None:
    from tests.models.conftest import make_settings

    from neuropose.models import load_pose_model

    settings = make_settings(model_cache_dir, num_threads=1)
    model = load_pose_model("blazepose-full?tracking=false&detector_threshold=0.6", settings)
    assert model.options["tracking"] is False
    assert model.options["detector_threshold"] == 0.6
    assert model.options["heatmap_refinement"] is True


@pytest.mark.media
def test_batches_views_and_reset(blazepose_model, shared_media: Path) -> None:
    img = _rgb(shared_media / "basketball1.png")
    intr = CameraIntrinsics.from_fov(img.shape[1], img.shape[0], 55.0)
    blazepose_model.reset()
    calls = blazepose_model.detector_calls
    batch = np.repeat(np.stack([img, img, img]), 2, axis=2)[:, :, ::2]  # strided view
    assert not batch.flags.c_contiguous and np.array_equal(batch[0], img)
    dets = blazepose_model.predict(batch, intr)
    assert [d.num_persons for d in dets] == [1, 1, 1]
    assert blazepose_model.detector_calls - calls == 1, "frames 2 and 3 reuse the tracked ROI"
    blazepose_model.reset()
    blazepose_model.predict(img[None], intr)
    assert blazepose_model.detector_calls - calls == 2, "reset forgets the ROI"
    with pytest.raises(ValueError, match=r"frames must be \(N, H, W, 3\) uint8 RGB"):
        blazepose_model.predict(img.astype(np.float32)[None], intr)
