"""BlazePose GHUM 3D (full) inference: detector, ROI tracking, landmarks, 3D.

This is NeuroPose's own implementation of the pipeline described by
MediaPipe's public graph configurations (``pose_detection_cpu``,
``pose_landmark_by_roi_cpu``, ``pose_detection_to_roi``,
``pose_landmarks_to_roi``) and the BlazePose GHUM 3D model card. It runs the
two TFLite models through :class:`neuropose.models.tflite.TFLiteRunner`.

Pipeline per frame
------------------
1. **Detector** (only when tracking has no person, or every
   :attr:`BlazePoseModel.redetect_every` frames while fewer than
   ``max_persons`` are tracked): the frame is letterboxed (aspect kept, black
   padding) to 224×224 by one bilinear warp without anti-aliasing, as
   MediaPipe's ``ImageToTensorCalculator`` (:func:`_letterbox`), scaled to
   [-1, 1]. Outputs 2254 SSD anchors × 12
   values (box centre/size offsets and 4 keypoints) and a score logit.
   Anchors: 5 layers, strides 8, 16, 32, 32, 32, 2 anchors per cell per layer,
   fixed size 1, offset 0.5 (28²·2 + 14²·2 + 7²·6 = 2254). Scores are clipped
   to ±100 and passed through a sigmoid (threshold 0.5); boxes and keypoints
   are decoded relative to their anchor (scale 224), merged with *weighted*
   non-maximum suppression (IoU 0.3), and the letterbox is removed.
2. **ROI from detection**: centre = keypoint 0 (hip centre); side =
   2 × |keypoint 1 − keypoint 0| in pixels, × 1.25, square; rotation =
   90° − atan2(−(y₁ − y₀), x₁ − x₀) so the body axis points up in the crop.
3. **Landmarks**: the rotated square ROI is warped (bilinear, edge
   replicate) to 256×256 in [0, 1]. The model returns 39 landmarks × (x, y,
   z, visibility, presence) in crop pixels, 39 world landmarks × (x, y, z) in
   metres, 39 heatmaps (64×64) and a pose-presence score. The person is kept
   when presence ≥ 0.5. Each 2D landmark is refined to the sigmoid-weighted
   centre of its heatmap in a 7×7 window around it when that window's peak
   confidence is ≥ 0.5 (:func:`refine_from_heatmap`). Landmarks are mapped
   back to image pixels through the inverse ROI transform; world landmarks
   are rotated by the ROI rotation so their x/y axes are the image's.
4. **Tracking**: the next frame's ROI is built from landmarks 33 (body
   centre) and 34 (scale/rotation point) exactly as in step 2, so the
   detector does not run while the person stays found. As in MediaPipe
   (even with its landmark smoothing off) these two auxiliary landmarks are
   first smoothed per tracked person by a one-euro filter
   (:class:`neuropose.smoothing.OneEuroFilter`: ``min_cutoff`` 0.01 Hz,
   ``beta`` 10, derivative cut-off 1 Hz, speed divided by the object scale
   ``(|dx| + |dy|) / 2`` of the two points in pixels) on a clock of
   ``roi_filter_rate_hz`` (30: MediaPipe's ``solutions`` API simulates 30 fps
   whatever the video). The filter restarts when the person is lost. If every tracked ROI
   is lost, the detector runs again *on the same frame*.

Outputs (per person; see :mod:`neuropose.models.base`)
------------------------------------------------------
* ``poses2d`` (33, 2): image pixels, origin top-left.
* ``poses3d`` (33, 3): millimetres, **root-relative** — the origin is the
  midpoint of the hips as estimated by the model, axes x right, y down,
  z away from the camera (the camera frame's orientation, but no absolute
  position or depth). BlazePose's z is less accurate than x/y.
* ``confidence`` (33,): sigmoid of the landmark *visibility* logit (the
  probability that the landmark is visible, i.e. not occluded), in 0..1.
* ``boxes`` (5,): the bounding box of the 33 landmarks in pixels and the
  pose-presence score.

The returned landmarks are not smoothed: landmark smoothing is an estimator
stage (:mod:`neuropose.estimator.refine`) that keeps the raw landmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neuropose.models.base import FrameDetections
from neuropose.models.cache import combined_digest, sha256_file
from neuropose.models.errors import CorruptModelError, ModelLoadError
from neuropose.schemas import CameraIntrinsics
from neuropose.skeletons import BLAZEPOSE_33
from neuropose.smoothing import OneEuroFilter, OneEuroParams

__all__ = [
    "BlazePoseModel",
    "Detection",
    "Roi",
    "decode_detections",
    "refine_from_heatmap",
    "ssd_anchors",
    "weighted_nms",
]

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
NUM_LANDMARKS = 33
_NUM_ALL_LANDMARKS = 39
#: MediaPipe's filter of the auxiliary (ROI) landmarks, ``pose_landmark_filtering``.
AUX_FILTER = OneEuroParams(min_cutoff=0.01, beta=10.0, d_cutoff=1.0)


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
    xy: np.ndarray, heatmap: np.ndarray, kernel_size: int = 7, min_confidence: float = 0.5
) -> np.ndarray:
    """Refine normalised crop coordinates with the landmark model's heatmaps.

    Parameters
    ----------
    xy : ndarray, shape (L, 2)
        Landmark x, y normalised to the crop (0..1).
    heatmap : ndarray, shape (Hh, Wh, L)
        Heatmap logits, one channel per landmark.
    kernel_size : int
        Side of the square window around each landmark's heatmap cell.
    min_confidence : float
        A landmark moves only if the window's largest sigmoid value reaches this.

    Returns
    -------
    ndarray, shape (L, 2)
        Each refined landmark is the sigmoid-weighted mean cell index of its
        window divided by the heatmap size; others are unchanged.
    """
    hh, wh, n = heatmap.shape
    out = np.array(xy, dtype=np.float64, copy=True)
    m = min(n, len(out))
    off = (kernel_size - 1) // 2
    with np.errstate(invalid="ignore"):  # NaN coordinates are simply left unchanged
        x, y = out[:m, 0], out[:m, 1]
        valid = (x >= 0) & (y >= 0) & (x * wh < wh) & (y * hh < hh)
    idx = np.nonzero(valid)[0]
    if idx.size == 0:
        return out
    # All windows at once: (V, k) row and column indices, cells outside the map weigh 0.
    d = np.arange(-off, off + 1)
    rows = (y[idx] * hh).astype(np.int64)[:, None] + d
    cols = (x[idx] * wh).astype(np.int64)[:, None] + d
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


def _letterbox(frame: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Letterbox ``frame`` into ``size``² as MediaPipe 0.10.21's ``ImageToTensorCalculator``.

    The square of side ``max(h, w)`` centred on the frame is mapped onto the
    output by one bilinear affine warp (no anti-aliasing), its corners onto
    the output's corners (output pixel ``i`` samples source ``x0 + i·S/size``),
    with black outside the frame. Returns the image, the scale
    (output/source pixels) and the padding ``pad_x, pad_y`` in output pixels,
    so that ``source = (output - pad) / scale``.

    Examples
    --------
    >>> img, scale, px, py = _letterbox(np.full((100, 50, 3), 200, np.uint8), 10)
    >>> img.shape, scale, px, py
    ((10, 10, 3), 0.1, 2.5, 0.0)
    >>> int(img[5, 0, 0]), int(img[5, 5, 0])
    (0, 200)
    """
    h, w = frame.shape[:2]
    side = float(max(h, w))
    x0, y0 = (w - side) / 2.0, (h - side) / 2.0
    k = side / size
    m = np.array([[k, 0.0, x0], [0.0, k, y0]])
    out = cv2.warpAffine(
        frame,
        m,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    scale = size / side
    return out, scale, -x0 * scale + 0.0, -y0 * scale + 0.0


def _check_file(path: Path, expected: str | None) -> str:
    if not path.is_file():
        raise CorruptModelError(
            f"model file {path} is missing",
            hint="re-fetch it with `neuropose models fetch blazepose-full --force`",
        )
    actual = sha256_file(path)
    if expected is not None and actual != expected:
        raise CorruptModelError(
            f"model file {path} is corrupt: sha256 {actual}, expected {expected}",
            hint="re-fetch it with `neuropose models fetch blazepose-full --force`",
        )
    return actual


class _AuxFilter:
    """One-euro smoothing of one tracked person's two auxiliary landmarks (pixels)."""

    def __init__(self, rate_hz: float) -> None:
        self._filter = OneEuroFilter(AUX_FILTER, rate_hz)
        self._frames = 0
        self._rate = rate_hz

    def __call__(self, aux: np.ndarray) -> np.ndarray:
        scale = (abs(aux[1, 0] - aux[0, 0]) + abs(aux[1, 1] - aux[0, 1])) / 2
        t = self._frames / self._rate
        self._frames += 1
        if scale < 1e-6:  # MediaPipe's min_allowed_object_scale: pass through
            return aux
        return self._filter(t, aux, 1.0 / scale)


@dataclass(frozen=True)
class _Person:
    roi: Roi
    presence: float
    landmarks: np.ndarray  # (39, 3) image px (x, y) + z crop-scaled
    world: np.ndarray  # (39, 3) metres, image-aligned axes
    visibility: np.ndarray  # (39,)


class BlazePoseModel:
    """BlazePose GHUM 3D full as a :class:`~neuropose.models.base.PoseModel`.

    Build it with :meth:`from_files` (or through the registry:
    ``load_model("blazepose-full", settings)``). Frames are processed one at
    a time (``max_batch_size = 1``); :meth:`reset` forgets the tracked ROIs
    and must be called before each new video.

    Parameters
    ----------
    detector, landmarker : TFLiteRunner-like
        Objects with ``run(x) -> list[ndarray]`` for the two models.
    name : str
        Registry name reported in results.
    weights_sha256 : str
        Combined digest of the two weight files.
    max_persons : int
        Most people returned per frame.
    tracking : bool
        Track ROIs from frame to frame (default); ``False`` runs the detector
        on every frame (slower; for comparisons).
    detector_threshold, presence_threshold, nms_iou : float
        0.5, 0.5 and 0.3 as in MediaPipe.
    redetect_every : int
        While fewer than ``max_persons`` are tracked (and at least one is),
        run the detector every this many frames to pick up newcomers.
    heatmap_refinement : bool
        Refine 2D landmarks with the model's heatmaps (7×7 window, as
        MediaPipe does); default on.
    """

    skeleton = BLAZEPOSE_33
    root_relative = True
    max_batch_size = 1

    def __init__(
        self,
        detector: Any,
        landmarker: Any,
        *,
        name: str,
        weights_sha256: str,
        max_persons: int = 1,
        tracking: bool = True,
        detector_threshold: float = 0.5,
        presence_threshold: float = 0.5,
        nms_iou: float = 0.3,
        redetect_every: int = 15,
        num_threads: int = 1,
        heatmap_refinement: bool = True,
        roi_filter_rate_hz: float = 30.0,
    ) -> None:
        self.name = name
        self.weights_sha256 = weights_sha256
        self.max_persons = max_persons
        self.tracking = tracking
        self.detector_threshold = detector_threshold
        self.presence_threshold = presence_threshold
        self.nms_iou = nms_iou
        self.redetect_every = redetect_every
        self.heatmap_refinement = heatmap_refinement
        self.roi_filter_rate_hz = roi_filter_rate_hz
        self._filters: dict[int, _AuxFilter] = {}
        self._detector = detector
        self._landmarker = landmarker
        self._anchors = ssd_anchors()
        self._tracked: list[Roi] = []
        self._since_detect = 0
        self.detector_calls = 0
        self.landmark_calls = 0
        self._lm_index, self._flag_index, self._world_index, self._heatmap_index = (
            self._output_indices(landmarker.output_shapes)
        )
        self.options: dict[str, Any] = {
            "max_persons": max_persons,
            "tracking": tracking,
            "detector_threshold": detector_threshold,
            "presence_threshold": presence_threshold,
            "nms_iou": nms_iou,
            "roi_expansion": 1.25,
            "redetect_every": redetect_every,
            "heatmap_refinement": heatmap_refinement,
            "roi_filter": "one_euro min_cutoff 0.01 beta 10 d_cutoff 1",
            "roi_filter_rate_hz": roi_filter_rate_hz,
            "num_threads": num_threads,
            "confidence": "landmark visibility (sigmoid)",
            "poses3d": "root-relative (hip centre), mm",
        }

    @staticmethod
    def _output_indices(shapes: list[tuple[int, ...]]) -> tuple[int, int, int, int | None]:
        sizes = [int(np.prod(s)) for s in shapes]
        heat = [i for i, s in enumerate(shapes) if len(s) == 4 and s[-1] == _NUM_ALL_LANDMARKS]
        try:
            return (
                sizes.index(_NUM_ALL_LANDMARKS * 5),
                sizes.index(1),
                sizes.index(_NUM_ALL_LANDMARKS * 3),
                heat[0] if heat else None,
            )
        except ValueError:
            raise ModelLoadError(
                f"landmark model outputs {shapes} are not those of BlazePose GHUM 3D"
            ) from None

    @classmethod
    def from_files(
        cls,
        detector_path: Path,
        landmark_path: Path,
        *,
        name: str,
        expected_sha256: dict[str, str] | None = None,
        num_threads: int = 2,
        max_persons: int = 1,
        tracking: bool = True,
        **options: Any,
    ) -> BlazePoseModel:
        """Verify the two ``.tflite`` files' sha256 and build the model.

        Raises
        ------
        CorruptModelError
            A file is missing or its sha256 differs from ``expected_sha256``
            (keyed by file name).
        ModelLoadError
            A file is not a BlazePose TFLite model.
        """
        from neuropose.models.tflite import TFLiteRunner

        expected = expected_sha256 or {}
        digests = {
            p.name: _check_file(p, expected.get(p.name)) for p in (detector_path, landmark_path)
        }
        detector = TFLiteRunner(detector_path, num_threads)
        landmarker = TFLiteRunner(landmark_path, num_threads)
        if detector.input_shape != (1, DETECTOR_SIZE, DETECTOR_SIZE, 3):
            raise ModelLoadError(f"{detector_path}: unexpected input {detector.input_shape}")
        if landmarker.input_shape != (1, LANDMARK_SIZE, LANDMARK_SIZE, 3):
            raise ModelLoadError(f"{landmark_path}: unexpected input {landmarker.input_shape}")
        return cls(
            detector,
            landmarker,
            name=name,
            weights_sha256=combined_digest(digests),
            max_persons=max_persons,
            tracking=tracking,
            num_threads=num_threads,
            **options,
        )

    # -- PoseModel -----------------------------------------------------------

    def reset(self) -> None:
        """Forget tracked ROIs (call before each new video)."""
        self._tracked = []
        self._filters = {}
        self._since_detect = 0

    def predict(self, frames: np.ndarray, intrinsics: CameraIntrinsics) -> list[FrameDetections]:
        """Detections for each frame of ``frames`` (N, H, W, 3) uint8 RGB.

        ``intrinsics`` is accepted for the protocol; BlazePose does not use
        it (its 3D output is root-relative and camera-independent).
        """
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(
                f"frames must be (N, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}"
            )
        return [self._frame(np.ascontiguousarray(frame)) for frame in frames]

    # -- pipeline ------------------------------------------------------------

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Run the detector; detections in *image pixels* (box and keypoints), best first."""
        self.detector_calls += 1
        h, w = frame.shape[:2]
        boxed, scale, px, py = _letterbox(frame, DETECTOR_SIZE)
        x = boxed.astype(np.float32)[None] / 127.5 - 1.0
        outs = self._detector.run(x)
        raw_boxes, raw_scores = outs if outs[0].shape[-1] == 12 else outs[::-1]
        dets = decode_detections(
            raw_boxes.reshape(-1, 12),
            raw_scores.reshape(-1),
            self._anchors,
            min_score=self.detector_threshold,
        )
        dets = weighted_nms(dets, self.nms_iou)
        out = []
        for d in dets:
            to_px = np.array([DETECTOR_SIZE, DETECTOR_SIZE])
            off = np.array([px, py])
            box = ((d.box.reshape(2, 2) * to_px - off) / scale).reshape(4)
            kps = (d.keypoints * to_px - off) / scale
            box = np.clip(box, [0, 0, 0, 0], [w, h, w, h])
            out.append(Detection(box=box, keypoints=kps, score=d.score))
        return out

    def landmarks(self, frame: np.ndarray, roi: Roi) -> _Person:
        """Run the landmark model on ``roi`` of ``frame``."""
        self.landmark_calls += 1
        m = roi.crop_to_image(LANDMARK_SIZE)
        crop = cv2.warpAffine(
            frame,
            m,
            (LANDMARK_SIZE, LANDMARK_SIZE),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        x = crop.astype(np.float32)[None] / 255.0
        outs = self._landmarker.run(x)
        raw = outs[self._lm_index].reshape(_NUM_ALL_LANDMARKS, 5).astype(np.float64)
        presence = float(np.asarray(outs[self._flag_index]).reshape(-1)[0])
        world = outs[self._world_index].reshape(_NUM_ALL_LANDMARKS, 3).astype(np.float64)
        crop_xy = raw[:, :2]
        if self.heatmap_refinement and self._heatmap_index is not None:
            heat = np.asarray(outs[self._heatmap_index])[0]
            crop_xy = refine_from_heatmap(crop_xy / LANDMARK_SIZE, heat) * LANDMARK_SIZE
        xy = crop_xy @ m[:, :2].T + m[:, 2]
        z = raw[:, 2] * roi.size / LANDMARK_SIZE
        vis = 1.0 / (1.0 + np.exp(-np.clip(raw[:, 3], -100, 100)))
        c, s = math.cos(roi.rotation), math.sin(roi.rotation)
        rot = np.array([[c, -s], [s, c]])
        world_xy = world[:, :2] @ rot.T
        world = np.column_stack([world_xy, world[:, 2]])
        return _Person(
            roi=roi,
            presence=presence,
            landmarks=np.column_stack([xy, z]),
            world=world,
            visibility=vis,
        )

    def _frame(self, frame: np.ndarray) -> FrameDetections:
        rois = list(self._tracked) if self.tracking else []
        detected = False
        self._since_detect += 1
        if not rois or (len(rois) < self.max_persons and self._since_detect >= self.redetect_every):
            rois = self._add_detections(frame, rois)
            detected = True
        persons = self._run_landmarks(frame, rois)
        if not persons and not detected and rois:
            # Every tracked person was lost: look again in this very frame.
            persons = self._run_landmarks(frame, self._add_detections(frame, []))
        self._track(persons)
        return self._to_detections(persons)

    def _track(self, persons: list[_Person]) -> None:
        """Next frame's ROIs from each person's smoothed auxiliary landmarks."""
        filters: dict[int, _AuxFilter] = {}
        tracked: list[Roi] = []
        for p in persons:
            f = self._filters.get(id(p.roi)) or _AuxFilter(self.roi_filter_rate_hz)
            aux = f(p.landmarks[33:35, :2])
            roi = Roi.from_points(aux[0], aux[1])
            filters[id(roi)] = f
            tracked.append(roi)
        self._tracked, self._filters = tracked, filters

    def _add_detections(self, frame: np.ndarray, rois: list[Roi]) -> list[Roi]:
        self._since_detect = 0
        out = list(rois)
        for det in self.detect(frame):
            if len(out) >= self.max_persons:
                break
            roi = Roi.from_points(det.keypoints[0], det.keypoints[1])
            if any(math.hypot(roi.cx - r.cx, roi.cy - r.cy) < 0.25 * r.size for r in out):
                continue  # already tracked
            out.append(roi)
        return out

    def _run_landmarks(self, frame: np.ndarray, rois: list[Roi]) -> list[_Person]:
        persons = []
        for roi in rois:
            if roi.size < 4:
                continue
            p = self.landmarks(frame, roi)
            if p.presence >= self.presence_threshold:
                persons.append(p)
        # Two ROIs that converged on one person: keep the more confident one.
        persons.sort(key=lambda p: -p.presence)
        kept: list[_Person] = []
        for p in persons:
            centre = p.landmarks[33, :2]
            if all(np.hypot(*(centre - k.landmarks[33, :2])) > 0.1 * k.roi.size for k in kept):
                kept.append(p)
        return kept[: self.max_persons]

    def _to_detections(self, persons: list[_Person]) -> FrameDetections:
        if not persons:
            return FrameDetections.empty(NUM_LANDMARKS)
        boxes, p3, p2, conf = [], [], [], []
        for p in persons:
            xy = p.landmarks[:NUM_LANDMARKS, :2]
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            boxes.append([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1], p.presence])
            p3.append(p.world[:NUM_LANDMARKS] * 1000.0)
            p2.append(xy)
            conf.append(p.visibility[:NUM_LANDMARKS])
        return FrameDetections(
            boxes=np.asarray(boxes, np.float32),
            poses3d=np.asarray(p3, np.float32),
            poses2d=np.asarray(p2, np.float32),
            confidence=np.asarray(conf, np.float32),
        )
