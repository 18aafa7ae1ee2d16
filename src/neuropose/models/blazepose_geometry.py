"""BlazePose geometry: SSD anchors and decoding, weighted NMS, ROIs, letterbox, heatmap refinement.

Pure NumPy/OpenCV functions of the BlazePose GHUM 3D pipeline
(:mod:`neuropose.models.blazepose_pipeline` documents the whole pipeline and
its conventions): pixel coordinates with the origin at the image's top-left,
ROI rotations in radians, counter-clockwise as seen on the image.

Examples
--------
>>> ssd_anchors().shape
(2254, 2)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "DETECTOR_SIZE",
    "LANDMARK_SIZE",
    "Detection",
    "Roi",
    "decode_detections",
    "letterbox",
    "refine_from_heatmap",
    "ssd_anchors",
    "warp_rect",
    "weighted_nms",
]

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256


def ssd_anchors(
    input_size: int = DETECTOR_SIZE,
    strides: tuple[int, ...] = (8, 16, 32, 32, 32),
    offset: float = 0.5,
) -> np.ndarray:
    """Anchor centres of the BlazePose detector, shape (A, 2), normalised x, y.

    Consecutive layers with the same stride share one grid; each layer
    contributes 2 anchors per cell (aspect ratio 1 plus the interpolated
    scale, both of fixed size 1 in this model), so all anchors of a cell are
    emitted together, cell by cell, row-major.

    >>> ssd_anchors().shape
    (2254, 2)
    """
    centres: list[np.ndarray] = []
    i = 0
    while i < len(strides):
        stride = strides[i]
        per_cell = 0
        while i < len(strides) and strides[i] == stride:
            per_cell += 2
            i += 1
        n = math.ceil(input_size / stride)
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grid = np.stack([(xs + offset) / n, (ys + offset) / n], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """A decoded detection in normalised coordinates of the detector input.

    ``box`` is (xmin, ymin, xmax, ymax); ``keypoints`` (4, 2) x, y;
    ``score`` in 0..1.
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def decode_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    *,
    scale: float = DETECTOR_SIZE,
    min_score: float = 0.5,
) -> list[Detection]:
    """Decode SSD outputs (A, 12) and score logits (A,) into detections above ``min_score``.

    Box offsets are ``(dx, dy, w, h)`` in input pixels relative to the
    anchor centre; keypoint ``k`` is at columns ``4 + 2k`` (x) and
    ``5 + 2k`` (y). Scores are ``sigmoid(clip(logit, -100, 100))``.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -100.0, 100.0)))
    keep = np.nonzero(scores >= min_score)[0]
    out: list[Detection] = []
    for a in keep:
        r = raw_boxes[a].astype(np.float64) / scale
        cx, cy = r[0] + anchors[a, 0], r[1] + anchors[a, 1]
        w, h = r[2], r[3]
        kps = r[4:12].reshape(4, 2) + anchors[a]
        out.append(
            Detection(
                box=np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]),
                keypoints=kps,
                score=float(scores[a]),
            )
        )
    return out


def refine_from_heatmap(
    xy: np.ndarray, heatmap: np.ndarray, kernel_size: int = 9, min_confidence: float = 0.5
) -> np.ndarray:
    """Refine normalised crop coordinates with the landmark model's heatmaps.

    MediaPipe's ``RefineLandmarksFromHeatmapCalculator``, edge cases
    included: the window is centred on cell ``trunc(x·W), trunc(y·H)``
    (truncation toward zero, so ``-1/W < x < 0`` still uses column 0), a
    landmark is left alone when its column is outside the map or its row is
    negative, and cells outside the map are dropped from the window (a row
    just below the map still refines from the rows that remain).

    Parameters
    ----------
    xy : ndarray, shape (L, 2)
        Landmark x, y normalised to the crop (0..1).
    heatmap : ndarray, shape (Hh, Wh, L)
        Heatmap logits, one channel per landmark.
    kernel_size : int
        Side of the square window around each landmark's heatmap cell: 9
        is what MediaPipe 0.10.21's Python ``solutions.pose`` runs (its
        graph asks for 7, see :class:`~neuropose.models.blazepose_pipeline.BlazePoseModel`).
    min_confidence : float
        A landmark moves only if the window's largest sigmoid value reaches this.

    Returns
    -------
    ndarray, shape (L, 2)
        Each refined landmark is the sigmoid-weighted mean cell index of its
        window divided by the heatmap size; others (and NaN) are unchanged.

    Examples
    --------
    >>> heat = np.full((64, 64, 1), -20.0)
    >>> heat[10, 20, 0] = 20.0
    >>> (refine_from_heatmap(np.array([[0.30, 0.17]]), heat) * 64).round(3)
    array([[20., 10.]])
    """
    hh, wh, n = heatmap.shape
    out = np.array(xy, dtype=np.float64, copy=True)
    m = min(n, len(out))
    off = (kernel_size - 1) // 2
    x, y = out[:m, 0], out[:m, 1]
    finite = np.isfinite(x) & np.isfinite(y)
    col = np.trunc(np.clip(np.where(finite, x, -1.0) * wh, -1e6, 1e6)).astype(np.int64)
    row = np.trunc(np.clip(np.where(finite, y, -1.0) * hh, -1e6, 1e6)).astype(np.int64)
    idx = np.nonzero(finite & (col >= 0) & (col < wh) & (row >= 0))[0]
    if idx.size == 0:
        return out
    # All windows at once: (V, k) row and column indices, cells outside the map weigh 0.
    d = np.arange(-off, off + 1)
    rows = row[idx][:, None] + d
    cols = col[idx][:, None] + d
    inside = ((rows >= 0) & (rows < hh))[:, :, None] & ((cols >= 0) & (cols < wh))[:, None, :]
    r_in, c_in = np.clip(rows, 0, hh - 1), np.clip(cols, 0, wh - 1)
    logits = heatmap[r_in[:, :, None], c_in[:, None, :], idx[:, None, None]].astype(np.float64)
    conf = np.where(inside, 1.0 / (1.0 + np.exp(-logits)), 0.0)
    total = conf.sum(axis=(1, 2))
    ok = (conf.max(axis=(1, 2)) >= min_confidence) & (total > 0)
    sel = idx[ok]
    out[sel, 0] = (conf[ok] * cols[ok][:, None, :]).sum(axis=(1, 2)) / total[ok] / wh
    out[sel, 1] = (conf[ok] * rows[ok][:, :, None]).sum(axis=(1, 2)) / total[ok] / hh
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def weighted_nms(detections: list[Detection], iou_threshold: float = 0.3) -> list[Detection]:
    """Weighted non-maximum suppression, highest score first.

    Each kept detection is the score-weighted mean (box and keypoints) of the
    candidates overlapping the best remaining one by more than
    ``iou_threshold``; its score is the best one's.
    """
    remaining = sorted(detections, key=lambda d: -d.score)
    out: list[Detection] = []
    while remaining:
        best = remaining[0]
        group = [d for d in remaining if _iou(best.box, d.box) > iou_threshold or d is best]
        remaining = [d for d in remaining if all(d is not g for g in group)]
        w = np.array([d.score for d in group])
        box = np.average(np.stack([d.box for d in group]), axis=0, weights=w)
        kps = np.average(np.stack([d.keypoints for d in group]), axis=0, weights=w)
        out.append(Detection(box=box, keypoints=kps, score=best.score))
    return out


@dataclass(frozen=True)
class Roi:
    """A rotated square region in image pixels: centre, size, rotation (radians).

    Positive ``rotation`` turns the crop's up axis clockwise in the image
    (y down): a crop pixel offset ``(dx, dy)`` from the centre lands at
    ``centre + R (dx, dy)`` with ``R = [[cos, -sin], [sin, cos]]``.
    """

    cx: float
    cy: float
    size: float
    rotation: float

    @classmethod
    def from_points(cls, centre: np.ndarray, scale_point: np.ndarray, expand: float = 1.25) -> Roi:
        """ROI centred on ``centre`` whose up axis points towards ``scale_point`` (pixels)."""
        dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
        rotation = math.pi / 2 - math.atan2(-dy, dx)
        rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
        size = 2.0 * math.hypot(dx, dy) * expand
        return cls(float(centre[0]), float(centre[1]), size, rotation)

    def crop_to_image(self, crop_size: int) -> np.ndarray:
        """2×3 affine matrix mapping crop pixels to image pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / crop_size
        rot = np.array([[c, -s], [s, c]]) * k
        centre = np.array([self.cx, self.cy])
        t = centre - rot @ np.array([crop_size / 2, crop_size / 2])
        return np.hstack([rot, t[:, None]])


_TAB_BITS = 5  # OpenCV INTER_BITS: source coordinates in 1/32 pixel
_TAB = 1 << _TAB_BITS


@functools.lru_cache(maxsize=4)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output rows (n, 1), column block starts and offsets (1, n): OpenCV walks 64-column blocks."""
    xs = np.arange(n, dtype=np.float64)[None, :]
    block = float(min(32 * 32 // min(16, n), n))
    xb = np.floor(xs / block) * block
    ys, x1 = xs.T.copy(), xs - xb
    for a in (ys, xb, x1):
        a.flags.writeable = False
    return ys, xb, x1


def _box_points(
    cx: np.float32, cy: np.float32, w: np.float32, h: np.float32, rotation: float
) -> np.ndarray:
    """Corners of a rotated rect in float32, as OpenCV's ``RotatedRect::points``."""
    f = np.float32
    angle = f(float(f(rotation) * f(180.0)) / math.pi)  # float * 180.f / M_PI (double)
    rad = float(angle) * math.pi / 180.0
    b, a = f(math.cos(rad)) * f(0.5), f(math.sin(rad)) * f(0.5)
    cx_, cy_, w_, h_ = f(cx), f(cy), f(w), f(h)
    p0 = (cx_ - a * h_ - b * w_, cy_ + b * h_ - a * w_)
    p1 = (cx_ + a * h_ - b * w_, cy_ - b * h_ - a * w_)
    p2 = (f(2) * cx_ - p0[0], f(2) * cy_ - p0[1])
    p3 = (f(2) * cx_ - p1[0], f(2) * cy_ - p1[1])
    return np.array([p0, p1, p2, p3], np.float32)


def warp_rect(
    frame: np.ndarray,
    centre: tuple[float, float],
    size: tuple[float, float],
    rotation: float,
    out_size: int,
    *,
    zero_border: bool,
) -> np.ndarray:
    """Crop a rotated rect of ``frame`` to ``out_size``² exactly as MediaPipe 0.10.21 does.

    MediaPipe's ``ImageToTensorCalculator`` (OpenCV converter) maps the
    rect's corners (``cv::boxPoints``, float32) onto the output's corners
    with ``cv::getPerspectiveTransform`` and samples with
    ``cv::warpPerspective`` (bilinear, source coordinates rounded to 1/32
    pixel, 15-bit fixed-point weights) from the OpenCV built into its wheel.
    Recent OpenCV releases sample differently (about 3 % of the values of a
    256² crop differ by 1–3 levels, which moves landmarks by ~0.1 px), so
    the sampling is reproduced here in NumPy. ``zero_border`` pads with
    black (the detector), otherwise edge pixels are replicated (landmarks).

    Examples
    --------
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4, 1).repeat(3, axis=2)
    >>> warp_rect(img, (2.0, 2.0), (4.0, 4.0), 0.0, 4, zero_border=True)[..., 0]
    array([[ 0,  1,  2,  3],
           [ 4,  5,  6,  7],
           [ 8,  9, 10, 11],
           [12, 13, 14, 15]], dtype=uint8)
    """
    h, w = frame.shape[:2]
    # MediaPipe holds the rect normalised to the image in float32 and scales it back.
    f = np.float32
    cx, cy = f(f(centre[0] / w) * f(w)), f(f(centre[1] / h) * f(h))
    rw, rh = f(f(size[0] / w) * f(w)), f(f(size[1] / h) * f(h))
    src = _box_points(cx, cy, rw, rh, rotation)
    n = float(out_size)
    dst = np.array([[0.0, n], [0.0, 0.0], [n, 0.0], [n, n]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)  # the same LU solve as MediaPipe's OpenCV
    inv = cv2.invert(m, flags=cv2.DECOMP_LU)[1].reshape(-1)
    ys, xb, x1 = _grid(out_size)
    # Same operation order as OpenCV, so the doubles (and their rounding) are the same.
    wd = inv[6] * xb + inv[7] * ys + inv[8] + inv[6] * x1
    wd = np.divide(_TAB, wd, out=np.zeros_like(wd), where=wd != 0)
    big = float(2**31 - 1)
    fx = np.clip((inv[0] * xb + inv[1] * ys + inv[2] + inv[0] * x1) * wd, -big, big)
    fy = np.clip((inv[3] * xb + inv[4] * ys + inv[5] + inv[3] * x1) * wd, -big, big)
    qx, qy = np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)
    # OpenCV's own intermediate maps: whole pixels (int16) + the 1/32 fraction index.
    lim = np.iinfo(np.int16)
    whole = np.empty((out_size, out_size, 2), np.int16)
    whole[..., 0] = np.clip(qx >> _TAB_BITS, lim.min, lim.max)
    whole[..., 1] = np.clip(qy >> _TAB_BITS, lim.min, lim.max)
    frac = ((qy & (_TAB - 1)) * _TAB + (qx & (_TAB - 1))).astype(np.uint16)
    return cv2.remap(
        frame,
        whole,
        frac,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT if zero_border else cv2.BORDER_REPLICATE,
        borderValue=(0, 0, 0),
    )


def letterbox(frame: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Letterbox ``frame`` into ``size``² as MediaPipe 0.10.21's ``ImageToTensorCalculator``.

    The square of side ``max(h, w)`` centred on the frame is mapped onto the
    output by one bilinear warp without anti-aliasing (:func:`warp_rect`),
    its corners onto the output's corners (output pixel ``i`` samples source
    ``x0 + i·S/size``), with black outside the frame. Returns the image, the
    scale (output/source pixels) and the padding ``pad_x, pad_y`` in output
    pixels, so that ``source = (output - pad) / scale``.

    Examples
    --------
    >>> img, scale, px, py = letterbox(np.full((100, 50, 3), 200, np.uint8), 10)
    >>> img.shape, scale, px, py
    ((10, 10, 3), 0.1, 2.5, 0.0)
    >>> int(img[5, 0, 0]), int(img[5, 5, 0])
    (0, 200)
    """
    h, w = frame.shape[:2]
    side = float(max(h, w))
    x0, y0 = (w - side) / 2.0, (h - side) / 2.0
    out = warp_rect(frame, (w / 2.0, h / 2.0), (side, side), 0.0, size, zero_border=True)
    scale = size / side
    return out, scale, -x0 * scale + 0.0, -y0 * scale + 0.0
