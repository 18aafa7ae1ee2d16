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
   MediaPipe's ``ImageToTensorCalculator``
   (:func:`~neuropose.models.blazepose_geometry.letterbox`), scaled to [-1, 1].
   Outputs 2254 SSD anchors × 12 values (box centre/size offsets and 4 keypoints) and a score logit.
   Anchors: 5 layers, strides 8, 16, 32, 32, 32, 2 anchors per cell per layer,
   fixed size 1, offset 0.5 (28²·2 + 14²·2 + 7²·6 = 2254). Scores are clipped
   to ±100 and passed through a sigmoid (threshold 0.5); boxes and keypoints
   are decoded relative to their anchor (scale 224), merged with *weighted*
   non-maximum suppression (IoU 0.3), and the letterbox is removed.
2. **ROI from detection**: centre = keypoint 0 (hip centre); side =
   2 × |keypoint 1 − keypoint 0| in pixels, × 1.25, square; rotation =
   90° − atan2(−(y₁ − y₀), x₁ − x₀) so the body axis points up in the crop.
3. **Landmarks**: the rotated square ROI is warped (bilinear, edge
   replicate, MediaPipe's exact sampling: :func:`warp_rect`) to 256×256 in
   [0, 1]. The model returns 39 landmarks × (x, y,
   z, visibility, presence) in crop pixels, 39 world landmarks × (x, y, z) in
   metres, 39 heatmaps (64×64) and a pose-presence score. The person is kept
   when presence ≥ 0.5. Each 2D landmark is refined to the sigmoid-weighted
   centre of its heatmap in a 9×9 window around it when that window's peak
   confidence is ≥ 0.5 (:func:`refine_from_heatmap`; 9 is what MediaPipe
   0.10.21's Python ``solutions.pose`` runs, see ``heatmap_kernel``).
   Landmarks are mapped back to image pixels through the inverse ROI transform; world landmarks
   are rotated by the ROI rotation so their x/y axes are the image's.
4. **Tracking**: the next frame's ROI is built from landmarks 33 (body
   centre) and 34 (scale/rotation point) exactly as in step 2, so the
   detector does not run while the person stays found. As in MediaPipe
   (even with its landmark smoothing off) these two auxiliary landmarks are
   first smoothed per tracked person by a one-euro filter
   (:class:`neuropose.smoothing.OneEuroFilter`: ``min_cutoff`` 0.01 Hz,
   ``beta`` 10, derivative cut-off 1 Hz, speed divided by the object scale
   ``2·|aux₁ − aux₀|`` in pixels: the side of the unexpanded square through
   the two points, MediaPipe's ``OBJECT_SCALE_ROI``) on a clock of
   ``roi_filter_rate_hz`` (30: MediaPipe's ``solutions`` API simulates 30 fps
   whatever the video, in whole microseconds). The filter restarts when the
   person is lost. If every tracked ROI is lost, the detector runs again *on
   the same frame*.

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

import numpy as np

from neuropose.models.base import FrameDetections
from neuropose.models.blazepose_geometry import (
    DETECTOR_SIZE,
    LANDMARK_SIZE,
    Detection,
    Roi,
    decode_detections,
    letterbox,
    refine_from_heatmap,
    ssd_anchors,
    warp_rect,
    weighted_nms,
)
from neuropose.models.cache import combined_digest, sha256_file
from neuropose.models.errors import CorruptModelError, InvalidModelOptionError, ModelLoadError
from neuropose.schemas import CameraIntrinsics
from neuropose.schemas.checkpoint import BlazePoseState, OneEuroState, RoiTrackState
from neuropose.skeletons import BLAZEPOSE_33
from neuropose.smoothing import OneEuroFilter, OneEuroParams

__all__ = ["BlazePoseModel"]

NUM_LANDMARKS = 33
_NUM_ALL_LANDMARKS = 39
#: MediaPipe's filter of the auxiliary (ROI) landmarks, ``pose_landmark_filtering``.
AUX_FILTER = OneEuroParams(min_cutoff=0.01, beta=10.0, d_cutoff=1.0)


def _check_file(path: Path, expected: str | None, known: str | None) -> str:
    if not path.is_file():
        raise CorruptModelError(
            f"model file {path} is missing",
            hint="re-fetch it with `neuropose models fetch blazepose-full --force`",
        )
    actual = known if known is not None else sha256_file(path)
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

    def state(self, roi: Roi) -> RoiTrackState:
        """This filter and the ROI it produced, as checkpoint state."""
        t, raw, y, dy = self._filter.get_state()
        return RoiTrackState(
            cx=roi.cx,
            cy=roi.cy,
            size=roi.size,
            rotation=roi.rotation,
            filter_frames=self._frames,
            filter=OneEuroState(t=t, raw=raw, y=y, dy=dy),
        )

    @classmethod
    def restore(cls, st: RoiTrackState, rate_hz: float) -> tuple[Roi, _AuxFilter]:
        """The ROI and filter saved by :meth:`state`."""
        f = cls(rate_hz)
        f._frames = st.filter_frames
        fs = st.filter
        f._filter.set_state(fs.t, fs.raw, fs.y, fs.dy)
        return Roi(st.cx, st.cy, st.size, st.rotation), f

    def __call__(self, aux: np.ndarray) -> np.ndarray:
        # MediaPipe scales speeds by 1 / the object scale of its OBJECT_SCALE_ROI:
        # the unexpanded square through the two points, side 2·|aux1 - aux0|.
        scale = 2.0 * math.hypot(aux[1, 0] - aux[0, 0], aux[1, 1] - aux[0, 1])
        # Its simulated clock ticks in whole microseconds (33,333 µs at 30 fps).
        t = self._frames * round(1e6 / self._rate) * 1e-6
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
    and must be called before each new video; :meth:`get_state` /
    :meth:`set_state` save and restore them for an exact resume.

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
        Refine 2D landmarks with the model's heatmaps; default on.
    heatmap_kernel : int
        Side of the refinement window in heatmap cells (64×64 map, one cell
        = 4 crop pixels). MediaPipe's graph
        (``tensors_to_pose_landmarks_and_segmentation``) asks for 7, but its
        Python ``solutions.pose`` runs the calculator's default 9: the
        expanded graph passes through Python protobuf, which does not know
        that calculator's options (its ``_pb2`` module is not imported) and
        they are lost. 9 (default) matches ``mp.solutions.pose`` to
        1e-4 px on identical tensors; 7 matches the graph as written
        (C++ / a graph that imports the options module).
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
        heatmap_kernel: int = 9,
        roi_filter_rate_hz: float = 30.0,
    ) -> None:
        if heatmap_kernel < 1 or heatmap_kernel % 2 == 0:
            raise InvalidModelOptionError(
                f"{name}: option heatmap_kernel={heatmap_kernel} must be an odd number >= 1",
                hint="use 9 (MediaPipe's Python solutions.pose) or 7 (MediaPipe's graph)",
            )
        self.name = name
        self.weights_sha256 = weights_sha256
        self.max_persons = max_persons
        self.tracking = tracking
        self.detector_threshold = detector_threshold
        self.presence_threshold = presence_threshold
        self.nms_iou = nms_iou
        self.redetect_every = redetect_every
        self.heatmap_refinement = heatmap_refinement
        self.heatmap_kernel = heatmap_kernel
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
            "heatmap_kernel": heatmap_kernel,
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
        known_sha256: dict[str, str] | None = None,
        num_threads: int = 2,
        max_persons: int = 1,
        tracking: bool = True,
        **options: Any,
    ) -> BlazePoseModel:
        """Verify the two ``.tflite`` files' sha256 and build the model.

        ``known_sha256`` (keyed by file name) holds digests already known for
        the files' current bytes (from the cache manifest, see
        :func:`neuropose.models.cache.file_digests`); other files are hashed.

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
        known = known_sha256 or {}
        digests = {
            p.name: _check_file(p, expected.get(p.name), known.get(p.name))
            for p in (detector_path, landmark_path)
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

    def get_state(self) -> dict[str, Any]:
        """Everything the next frame depends on, as JSON (:class:`BlazePoseState`).

        The tracked ROIs with their auxiliary-landmark filters and the frames
        since the last detection; :meth:`set_state` of a fresh model with this
        state makes the following frames bit-identical to an uninterrupted run.
        """
        tracked = tuple(self._filters[id(r)].state(r) for r in self._tracked)
        return BlazePoseState(since_detect=self._since_detect, tracked=tracked).model_dump(
            mode="json"
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s output.

        Raises
        ------
        pydantic.ValidationError
            ``state`` is not a :class:`BlazePoseState`.
        """
        st = BlazePoseState.model_validate(state)
        tracked, filters = [], {}
        for rs in st.tracked:
            roi, f = _AuxFilter.restore(rs, self.roi_filter_rate_hz)
            tracked.append(roi)
            filters[id(roi)] = f
        self._tracked, self._filters, self._since_detect = tracked, filters, st.since_detect

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
        boxed, scale, px, py = letterbox(frame, DETECTOR_SIZE)
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
        crop = warp_rect(
            frame,
            (roi.cx, roi.cy),
            (roi.size, roi.size),
            roi.rotation,
            LANDMARK_SIZE,
            zero_border=False,
        )
        x = crop.astype(np.float32)[None] / 255.0
        outs = self._landmarker.run(x)
        raw = outs[self._lm_index].reshape(_NUM_ALL_LANDMARKS, 5).astype(np.float64)
        presence = float(np.asarray(outs[self._flag_index]).reshape(-1)[0])
        world = outs[self._world_index].reshape(_NUM_ALL_LANDMARKS, 3).astype(np.float64)
        crop_xy = raw[:, :2]
        if self.heatmap_refinement and self._heatmap_index is not None:
            heat = np.asarray(outs[self._heatmap_index])[0]
            crop_xy = refine_from_heatmap(crop_xy / LANDMARK_SIZE, heat, self.heatmap_kernel)
            crop_xy = crop_xy * LANDMARK_SIZE
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
