"""A deterministic fake :class:`~neuropose.models.base.PoseModel` for tests.

:class:`FakeModel` needs no weights and no TensorFlow. Its outputs are pure
functions of each frame's pixels, so results are identical across runs,
threads, batch sizes and resumed runs, and tests can compute the expected
values themselves with :func:`expected_detections`.

Skeleton
--------
``fake_3``: joints ``("root", "head", "foot")``, edges root-head, root-foot.

Output rule (mode ``"intensity"``, the default)
-----------------------------------------------
Let ``m`` be the mean of all pixel values of the frame (float64, 0..255) and
``H, W`` its size. Person ``p`` (0-based, ``p < num_persons``) gets

* box ``x = W * (p + 1) / (num_persons + 1) - w / 2 + (m - 128) * 0.1``,
  ``y = H / 4``, ``w = 40 - 10 * p`` (so person 0 is the largest),
  ``h = H / 2``, score ``0.9 - 0.1 * p``;
* 2D joints at the box centre (root), top centre (head), bottom centre (foot);
* 3D joints in millimetres: ``root = (100 * p, 0, 2000 + 10 * m)``,
  ``head = root + (0, -500, 0)``, ``foot = root + (0, 900, 0)``;
* confidence ``0.9 - 0.1 * p`` for every joint.

Output rule (mode ``"blobs"``)
------------------------------
Each connected component of pixels whose grey value is > 127 is one person
(largest area first, at most ``num_persons`` of them): box = the component's
bounding box (score 1), 2D joints = its centre / top centre / bottom centre,
3D root = ``(cx, cy, 2000)`` with the same head/foot offsets. Draw white
rectangles on black frames to script people moving, appearing, vanishing.

Fault injection
---------------
Frames are counted per instance since construction or the last
:meth:`FakeModel.reset` (0-based, in the order :meth:`FakeModel.predict`
receives them). ``fail_at=k`` raises :class:`FakeModelError` when frame ``k``
is reached; ``hang_at=k`` blocks there for ``hang_s`` seconds or until
:meth:`FakeModel.release` (to trigger the stall watchdog); ``exit_at=k``
calls ``os._exit(exit_code)`` there (a hard crash for daemon tests).
``fail_once_marker=PATH`` makes ``fail_at`` fire only while ``PATH`` does
not exist, and creates it when firing, so a retry succeeds.

Subprocess use
--------------
``neuropose watch --model python:tests.fakes:make_model`` (with
``PYTHONPATH`` = repo root) builds the model with :func:`make_model`, which
reads plain environment variables (not ``NEUROPOSE_*``): ``FAKE_MODEL_COST_S``,
``FAKE_MODEL_PERSONS``, ``FAKE_MODEL_BATCH``, ``FAKE_MODEL_MODE``,
``FAKE_MODEL_FAIL_AT``, ``FAKE_MODEL_FAIL_ONCE_MARKER``, ``FAKE_MODEL_HANG_AT``,
``FAKE_MODEL_HANG_S``, ``FAKE_MODEL_EXIT_AT``, ``FAKE_MODEL_EXIT_CODE``.

Examples
--------
>>> import numpy as np
>>> from neuropose.schemas import CameraIntrinsics
>>> m = FakeModel(num_persons=2)
>>> frames = np.full((1, 100, 200, 3), 128, np.uint8)
>>> det = m.predict(frames, CameraIntrinsics.from_fov(200, 100, 55.0))[0]
>>> det.boxes[:, 0].tolist(), det.poses3d[0, 0].tolist()
([46.66666793823242, 118.33333587646484], [0.0, 0.0, 3280.0])
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.models.base import FrameDetections
from neuropose.schemas import CameraIntrinsics, Skeleton

__all__ = ["FAKE_SKELETON", "FakeModel", "FakeModelError", "expected_detections", "make_model"]

FAKE_SKELETON = Skeleton(name="fake_3", joints=("root", "head", "foot"), edges=((0, 1), (0, 2)))

_HEAD = np.array([0.0, -500.0, 0.0])
_FOOT = np.array([0.0, 900.0, 0.0])


class FakeModelError(RuntimeError):
    """Raised by :class:`FakeModel` at the injected failure frame."""


def _person_arrays(
    box: tuple[float, float, float, float, float], root3d: np.ndarray, conf: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y, w, h, _ = box
    cx = x + w / 2
    p2 = np.array([[cx, y + h / 2], [cx, y], [cx, y + h]], dtype=np.float32)
    p3 = np.stack([root3d, root3d + _HEAD, root3d + _FOOT]).astype(np.float32)
    return np.array(box, np.float32), p3, p2, np.full(3, conf, np.float32)


def expected_detections(
    frame: np.ndarray, num_persons: int = 1, mode: str = "intensity"
) -> FrameDetections:
    """The detections :class:`FakeModel` returns for one (H, W, 3) uint8 RGB frame."""
    h_img, w_img = frame.shape[:2]
    persons: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if mode == "intensity":
        m = float(frame.mean(dtype=np.float64))
        for p in range(num_persons):
            w = 40.0 - 10.0 * p
            x = w_img * (p + 1) / (num_persons + 1) - w / 2 + (m - 128.0) * 0.1
            box = (x, h_img / 4, w, h_img / 2, 0.9 - 0.1 * p)
            root = np.array([100.0 * p, 0.0, 2000.0 + 10.0 * m])
            persons.append(_person_arrays(box, root, 0.9 - 0.1 * p))
    elif mode == "blobs":
        import cv2

        grey = frame.max(axis=2) > 127
        n, _, stats, _ = cv2.connectedComponentsWithStats(grey.astype(np.uint8), connectivity=8)
        comps = sorted(
            (tuple(int(v) for v in stats[i]) for i in range(1, n)),
            key=lambda s: (-s[4], s[0], s[1]),
        )
        for x, y, w, h, _area in comps[:num_persons]:
            box = (float(x), float(y), float(w), float(h), 1.0)
            root = np.array([x + w / 2, y + h / 2, 2000.0])
            persons.append(_person_arrays(box, root, 1.0))
    else:
        raise ValueError(f"unknown FakeModel mode {mode!r}")
    if not persons:
        return FrameDetections.empty(3)
    boxes, p3, p2, conf = (np.stack(a) for a in zip(*persons, strict=True))
    return FrameDetections(boxes=boxes, poses3d=p3, poses2d=p2, confidence=conf)


class FakeModel:
    """Deterministic pose model with configurable cost and fault injection.

    Parameters
    ----------
    cost_s : float
        Seconds slept per frame inside :meth:`predict` (simulates inference;
        ``time.sleep`` releases the GIL like a real backend).
    num_persons : int
        Persons returned per frame (at most, in ``"blobs"`` mode).
    max_batch_size : int
        Advertised batch size (the estimator sends at most this many frames).
    mode : {"intensity", "blobs"}
        Output rule, see the module docstring.
    fail_at, hang_at, exit_at : int, optional
        Frame counter values at which to raise / sleep ``hang_s`` / exit.
    fail_once_marker : path, optional
        Fail only while this file does not exist; create it when failing.

    Attributes
    ----------
    frames_seen : int
        Frames received since the last reset.
    batch_sizes : list of int
        Size of every :meth:`predict` call since construction.
    frame_sizes : set of (int, int)
        (H, W) of every frame received.
    threads : set of str
        Names of the threads that called :meth:`predict`.
    resets : int
        Number of :meth:`reset` calls.
    """

    name = "fake"
    skeleton = FAKE_SKELETON
    root_relative = False

    def __init__(
        self,
        *,
        cost_s: float = 0.0,
        num_persons: int = 1,
        max_batch_size: int = 1,
        mode: str = "intensity",
        fail_at: int | None = None,
        fail_once_marker: str | Path | None = None,
        hang_at: int | None = None,
        hang_s: float = 3600.0,
        exit_at: int | None = None,
        exit_code: int = 70,
    ) -> None:
        if mode not in {"intensity", "blobs"}:
            raise ValueError(f"unknown FakeModel mode {mode!r}")
        self.cost_s = float(cost_s)
        self.num_persons = int(num_persons)
        self.max_batch_size = int(max_batch_size)
        self.mode = mode
        self.fail_at = fail_at
        self.fail_once_marker = Path(fail_once_marker) if fail_once_marker else None
        self.hang_at = hang_at
        self.hang_s = float(hang_s)
        self.exit_at = exit_at
        self.exit_code = exit_code
        self.options: dict[str, Any] = {
            "mode": mode,
            "num_persons": self.num_persons,
            "max_batch_size": self.max_batch_size,
        }
        self.weights_sha256 = hashlib.sha256(f"fake:{mode}:{self.num_persons}".encode()).hexdigest()
        self.frames_seen = 0
        self.batch_sizes: list[int] = []
        self.frame_sizes: set[tuple[int, int]] = set()
        self.threads: set[str] = set()
        self.resets = 0
        self._lock = threading.Lock()
        self._release = threading.Event()

    def release(self) -> None:
        """End an injected hang now (and make any later hang return at once)."""
        self._release.set()

    def reset(self) -> None:
        """Restart the frame counter (called by the estimator before each video)."""
        with self._lock:
            self.frames_seen = 0
            self.resets += 1

    def predict(self, frames: np.ndarray, intrinsics: CameraIntrinsics) -> list[FrameDetections]:
        """Detections for each frame; see the module docstring for the rule."""
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected (N, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
        if frames.shape[0] > self.max_batch_size:
            raise ValueError(
                f"batch of {frames.shape[0]} exceeds max_batch_size {self.max_batch_size}"
            )
        with self._lock:
            self.batch_sizes.append(int(frames.shape[0]))
            self.frame_sizes.add((int(frames.shape[1]), int(frames.shape[2])))
            self.threads.add(threading.current_thread().name)
        out = []
        for frame in frames:
            k = self.frames_seen
            if k == self.exit_at:
                os._exit(self.exit_code)
            if k == self.hang_at:
                self._release.wait(self.hang_s)
            if k == self.fail_at and self._should_fail():
                raise FakeModelError(f"injected failure at frame {k}")
            if self.cost_s:
                time.sleep(self.cost_s)
            out.append(expected_detections(frame, self.num_persons, self.mode))
            self.frames_seen += 1
        return out

    def _should_fail(self) -> bool:
        if self.fail_once_marker is None:
            return True
        if self.fail_once_marker.exists():
            return False
        self.fail_once_marker.touch()
        return True


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else None


def make_model(settings: Any = None, **overrides: Any) -> FakeModel:
    """Build a :class:`FakeModel` from ``FAKE_MODEL_*`` environment variables.

    ``settings`` (a :class:`~neuropose.config.Settings`) is accepted for the
    ``python:<module>:<factory>`` registry protocol and otherwise ignored;
    keyword ``overrides`` win over the environment.
    """
    env = os.environ
    kwargs: dict[str, Any] = {
        "cost_s": float(env.get("FAKE_MODEL_COST_S") or 0.0),
        "num_persons": _env_int("FAKE_MODEL_PERSONS") or 1,
        "max_batch_size": _env_int("FAKE_MODEL_BATCH") or 1,
        "mode": env.get("FAKE_MODEL_MODE") or "intensity",
        "fail_at": _env_int("FAKE_MODEL_FAIL_AT"),
        "fail_once_marker": env.get("FAKE_MODEL_FAIL_ONCE_MARKER") or None,
        "hang_at": _env_int("FAKE_MODEL_HANG_AT"),
        "hang_s": float(env.get("FAKE_MODEL_HANG_S") or 3600.0),
        "exit_at": _env_int("FAKE_MODEL_EXIT_AT"),
        "exit_code": _env_int("FAKE_MODEL_EXIT_CODE") or 70,
    }
    kwargs.update(overrides)
    return FakeModel(**kwargs)
