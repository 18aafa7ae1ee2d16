"""The BlazePose pipeline's MediaPipe-exact pieces, against known answers (no model, no media).

``tests/data/mediapipe_crops.npz`` holds MediaPipe 0.10.21's own
``ImageToTensorCalculator`` crops of a synthetic 240×320 image (three
rotated rects and the detector's letterbox), written by
``benchmarks/validate_mediapipe.py --write-crop-reference`` in MediaPipe's
environment.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.models import InvalidModelOptionError
from neuropose.models.blazepose_geometry import letterbox, refine_from_heatmap, warp_rect
from neuropose.models.blazepose_pipeline import BlazePoseModel, _AuxFilter

CROPS = Path(__file__).resolve().parents[1] / "data" / "mediapipe_crops.npz"


def _crops() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    data = np.load(CROPS)
    img = data["image"]
    out = []
    for i, r in enumerate(data["rois"]):
        if np.isnan(r[0]):
            ours = letterbox(img, 224)[0]
        else:
            ours = warp_rect(img, (r[0], r[1]), (r[2], r[3]), r[4], 256, zero_border=False)
        out.append((r, ours, data[f"crop{i}"]))
    return out


def test_crops_are_mediapipes_to_the_level() -> None:
    # Measured: 0, 10, 0 and 0 of 196,608 / 150,528 values differ, by 1 level.
    for roi, ours, ref in _crops():
        assert ours.shape == ref.shape and ours.dtype == np.uint8
        diff = np.abs(ours.astype(int) - ref.astype(int))
        assert diff.max() <= 1, roi
        assert (diff > 0).sum() <= 20, roi


def test_plain_opencv_warp_is_not_mediapipes() -> None:
    """The reason warp_rect exists: this OpenCV's own warp misses by up to 2 levels."""
    roi, _, ref = _crops()[1]
    img = np.load(CROPS)["image"]
    c, s, k = math.cos(roi[4]), math.sin(roi[4]), roi[2] / 256
    rot = np.array([[c, -s], [s, c]]) * k
    m = np.hstack([rot, (np.array(roi[:2]) - rot @ [128, 128])[:, None]])
    plain = cv2.warpAffine(
        img,
        m,
        (256, 256),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    diff = np.abs(plain.astype(int) - ref.astype(int))
    assert diff.max() <= 3  # the same crop...
    assert (diff > 0).sum() > 100  # ...sampled differently


def test_warp_rect_rotation_and_borders() -> None:
    img = np.arange(36, dtype=np.uint8).reshape(6, 6, 1).repeat(3, axis=2)
    # Output pixel (i, j) samples centre + R·((i, j) − size/2), no half-pixel offset
    # (MediaPipe maps rect corners onto output corners), so an axis-aligned crop is
    # img[1:5, 1:5] and the 90° one img[1:5, 2:6] turned. Positive rotation turns the
    # crop's up axis clockwise: its top row is that patch's right column.
    straight = warp_rect(img, (3.0, 3.0), (4.0, 4.0), 0.0, 4, zero_border=True)[..., 0]
    np.testing.assert_array_equal(straight, img[1:5, 1:5, 0])
    turned = warp_rect(img, (3.0, 3.0), (4.0, 4.0), math.pi / 2, 4, zero_border=True)[..., 0]
    np.testing.assert_array_equal(turned, np.rot90(img[1:5, 2:6, 0]))
    # A rect half outside the image: black or the edge pixels.
    zero = warp_rect(img, (0.0, 3.0), (4.0, 4.0), 0.0, 4, zero_border=True)[..., 0]
    edge = warp_rect(img, (0.0, 3.0), (4.0, 4.0), 0.0, 4, zero_border=False)[..., 0]
    np.testing.assert_array_equal(zero[:, :2], 0)
    np.testing.assert_array_equal(edge[:, 0], img[1:5, 0, 0])
    np.testing.assert_array_equal(zero[:, 2:], img[1:5, 0:2, 0])


def test_refinement_window_size_and_mediapipe_edges() -> None:
    heat = np.full((64, 64, 1), -20.0)
    heat[20, 24, 0] = 20.0  # a peak 4 cells right of the landmark's cell (20, 20)
    xy = np.array([[20.5 / 64, 20.5 / 64]])
    np.testing.assert_allclose(
        refine_from_heatmap(xy, heat, kernel_size=9) * 64, [[24, 20]], atol=1e-5
    )
    np.testing.assert_array_equal(refine_from_heatmap(xy, heat, kernel_size=7), xy)
    # x slightly negative truncates to column 0 (C++ int cast): refined, not skipped.
    edge = np.full((64, 64, 1), -20.0)
    edge[10, 0, 0] = 20.0
    np.testing.assert_allclose(
        refine_from_heatmap(np.array([[-0.004, 10 / 64]]), edge) * 64, [[0, 10]], atol=1e-5
    )
    # A row just below the map still refines from the rows left in the window...
    edge[63, 5, 0] = 20.0
    np.testing.assert_allclose(
        refine_from_heatmap(np.array([[5 / 64, 66 / 64]]), edge) * 64, [[5, 63]], atol=1e-5
    )
    # ...a row far below, or a column outside, does not; NaN stays NaN.
    for far in ([5 / 64, 80 / 64], [1.2, 0.5], [np.nan, 0.5]):
        np.testing.assert_array_equal(refine_from_heatmap(np.array([far]), edge), [far])


def test_aux_filter_scales_speed_by_twice_the_point_distance() -> None:
    f = _AuxFilter(30.0)
    first = np.array([[100.0, 200.0], [100.0, 100.0]])  # distance 100 -> object scale 200
    np.testing.assert_array_equal(f(first), first)
    second = first + np.array([[10.0, 0.0], [10.0, 0.0]])
    rate = 1 / 0.033333  # MediaPipe's simulated clock: 33,333 µs per frame

    def alpha(cutoff: float) -> float:
        te = 1 / rate
        return 1 / (1 + (1 / (2 * math.pi * cutoff)) / te)

    speed = 10.0 / 200.0 * rate
    dspeed = alpha(1.0) * speed
    a = alpha(0.01 + 10.0 * dspeed)
    np.testing.assert_allclose(f(second)[:, 0], 100.0 + a * 10.0)


def test_heatmap_kernel_must_be_odd() -> None:
    class Runner:
        output_shapes = ((1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117))

    with pytest.raises(InvalidModelOptionError, match="heatmap_kernel=8"):
        BlazePoseModel(
            Runner(), Runner(), name="blazepose-full", weights_sha256="x", heatmap_kernel=8
        )
    model = BlazePoseModel(Runner(), Runner(), name="blazepose-full", weights_sha256="x")
    assert model.options["heatmap_kernel"] == 9
