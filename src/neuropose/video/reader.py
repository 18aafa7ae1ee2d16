"""Opening videos and images: probing, upright RGB frames, container timestamps.

:func:`probe_video` reads the header only (:class:`VideoInfo`, with the
focal length a container or EXIF block declares: :mod:`neuropose.video.tags`),
:func:`count_frames` decodes to count, :class:`FrameReader` yields frames and,
once exhausted, :meth:`FrameReader.check_frame_count` detects short reads.

Frames
------
:class:`FrameReader` yields ``(index, timestamp_ms, frame)`` where ``index``
counts decoded frames from 0, ``timestamp_ms`` is the container presentation
time of that frame (``CAP_PROP_POS_MSEC`` read right after the frame; ``None``
for still images) and ``frame`` is an (H, W, 3) uint8 **RGB** array, already
rotated upright.

Rotation
--------
Phone videos store frames sideways plus a display-rotation tag. OpenCV 5
exposes the tag as ``CAP_PROP_ORIENTATION_META`` (degrees **clockwise** to
apply) and by default applies it itself (``CAP_PROP_ORIENTATION_AUTO=1``).
NeuroPose switches auto-rotation off and applies the rotation with
``cv2.rotate`` so the behaviour does not depend on the OpenCV version or
backend, and records the rotation and the resulting (upright) width/height.
Still images are read with ``cv2.imread``, which applies EXIF orientation.
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neuropose.video.errors import (
    NoFramesError,
    ShortReadError,
    VideoNotFoundError,
    VideoUnreadableError,
)
from neuropose.video.suffixes import IMAGE_SUFFIXES
from neuropose.video.tags import FocalTag, read_focal_tag

__all__ = ["FramePool", "FrameReader", "VideoInfo", "count_frames", "probe_video"]

logger = logging.getLogger(__name__)


_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class VideoInfo:
    """What a cheap probe of an input tells before decoding.

    Attributes
    ----------
    path : Path
        The input file.
    is_image : bool
        True for still images (one frame).
    width, height : int
        Upright frame size in pixels (after ``rotation_degrees``).
    rotation_degrees : int
        Clockwise rotation applied to stored frames (0, 90, 180, 270).
    codec : str
        FourCC of the video stream ("" for images).
    declared_frame_count : int or None
        Frame count the container declares (1 for images, None when unknown).
    fps_reported : float or None
        Nominal frame rate (None for images or when unknown).
    size_bytes : int
        File size.
    focal : FocalTag or None
        The 35 mm equivalent focal length the container (MP4/QuickTime
        metadata) or the image (EXIF) declares, if any
        (:func:`neuropose.video.tags.read_focal_tag`).
    """

    path: Path
    is_image: bool
    width: int
    height: int
    rotation_degrees: int
    codec: str
    declared_frame_count: int | None
    fps_reported: float | None
    size_bytes: int
    focal: FocalTag | None = None


class FramePool:
    """Reusable frame buffers, so decoding allocates no memory per frame.

    Allocating a fresh 6 MB array per 1080p frame, freed on another thread,
    lets glibc's malloc raise its mmap threshold and keep freed frames in
    per-thread arenas, so RSS creeps up with video length. The estimator
    instead hands out at most ``prefetch_frames`` buffers (one per frame in
    flight) and takes each back once the model has returned. A model must
    therefore not keep references to the frames it was given after
    ``predict`` returns (the :class:`~neuropose.models.base.PoseModel`
    contract).
    """

    def __init__(self) -> None:
        self._free: collections.deque[np.ndarray] = collections.deque()
        self.allocated = 0

    def acquire(self, shape: tuple[int, int, int]) -> np.ndarray:
        """A (H, W, 3) uint8 buffer (contents undefined)."""
        while True:
            try:
                buf = self._free.pop()  # most recently released: its pages are resident
            except IndexError:
                self.allocated += 1
                return np.empty(shape, np.uint8)
            if buf.shape == shape:
                return buf

    def release(self, buf: np.ndarray) -> None:
        """Give a buffer back for reuse."""
        self._free.append(buf)


def _check_file(path: Path) -> int:
    if not path.exists():
        raise VideoNotFoundError(f"input {path} does not exist", hint="check the path")
    if not path.is_file():
        raise VideoUnreadableError(f"input {path} is not a regular file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise VideoUnreadableError(
            f"input {path} cannot be read: {exc.strerror}", hint="check file permissions"
        ) from exc
    size = path.stat().st_size
    if size == 0:
        raise VideoUnreadableError(f"input {path} is empty (0 bytes)")
    return size


def _read_image(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise VideoUnreadableError(
            f"input {path} is not a readable image",
            hint="supported images: " + ", ".join(sorted(IMAGE_SUFFIXES)),
        )
    return bgr


def _open_capture(path: Path, threads: int | None = None) -> cv2.VideoCapture:
    params = [cv2.CAP_PROP_N_THREADS, int(threads)] if threads else []
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise VideoUnreadableError(
            f"input {path} is not a video OpenCV can decode",
            hint="check that the file is a complete video (mp4/mov/avi/mkv) and not truncated "
            "at its header",
        )
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    return cap


def _fourcc(value: float) -> str:
    code = int(value)
    if code <= 0:
        return ""
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars.strip("\x00 ") if chars.isprintable() else ""


def _capture_info(path: Path, cap: cv2.VideoCapture, size: int) -> VideoInfo:
    rot = round(cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360
    if rot not in (0, 90, 180, 270):
        logger.warning("%s: unsupported rotation tag %d degrees ignored", path.name, rot)
        rot = 0
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    if w <= 0 or h <= 0:
        declared = f" although the container declares {int(count)}" if count > 0 else ""
        raise NoFramesError(
            f"input {path.name} has no decodable frame (no frame size could be read){declared}",
            hint="the file is probably truncated or corrupt; re-copy or re-export it",
        )
    if rot in (90, 270):
        w, h = h, w
    fps = cap.get(cv2.CAP_PROP_FPS)
    return VideoInfo(
        path=path,
        is_image=False,
        width=w,
        height=h,
        rotation_degrees=rot,
        codec=_fourcc(cap.get(cv2.CAP_PROP_FOURCC)),
        declared_frame_count=int(count) if count and count > 0 else None,
        fps_reported=float(fps) if fps and math.isfinite(fps) and fps > 0 else None,
        size_bytes=size,
        focal=read_focal_tag(path),
    )


def probe_video(path: str | Path) -> VideoInfo:
    """Open ``path`` without decoding frames and report size, rotation and counts.

    Raises
    ------
    VideoNotFoundError, VideoUnreadableError
        Missing, unreadable, empty or undecodable input.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "one.png"
    >>> _ = cv2.imwrite(str(p), np.zeros((20, 30, 3), np.uint8))
    >>> info = probe_video(p)
    >>> info.is_image, info.width, info.height, info.declared_frame_count
    (True, 30, 20, 1)
    """
    path = Path(path)
    size = _check_file(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        img = _read_image(path)
        h, w = img.shape[:2]
        return VideoInfo(path, True, w, h, 0, "", 1, None, size, read_focal_tag(path))
    cap = _open_capture(path)
    try:
        return _capture_info(path, cap, size)
    finally:
        cap.release()


def count_frames(path: str | Path) -> int:
    """Number of frames that actually decode (every packet is decoded, nothing converted).

    Slower than :func:`probe_video` (it decodes the whole stream) and exact
    where the container's declared count is not: used to check a written
    video against its source.

    Raises
    ------
    VideoNotFoundError, VideoUnreadableError
        Missing, unreadable, empty or undecodable input.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "three.avi"
    >>> w = cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (32, 24))
    >>> for _ in range(3):
    ...     _ = w.write(np.zeros((24, 32, 3), np.uint8))
    >>> w.release()
    >>> count_frames(p), probe_video(p).fps_reported
    (3, 10.0)
    """
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        _read_image(path)
        return 1
    cap = _open_capture(path)
    try:
        n = 0
        while cap.grab():
            n += 1
        return n
    finally:
        cap.release()


class FrameReader:
    """Iterate the upright RGB frames of a video or image (see the module docstring).

    Parameters
    ----------
    path : path
        Video or image file.
    start : int
        Index of the first frame to yield; earlier frames are decoded and
        discarded (``grab`` without colour conversion), which is exact, unlike
        seeking.
    decode_threads : int, optional
        FFmpeg decoder threads (``CAP_PROP_N_THREADS``); None keeps OpenCV's
        default (one per core).
    pool : FramePool, optional
        Where yielded video frames come from; the consumer releases them back.
        Without a pool every frame is a new array.

    Attributes
    ----------
    info : VideoInfo
        Probe result of the open input.
    decoded : int
        Frames decoded so far (including skipped ones).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "grey.avi"
    >>> w = cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"MJPG"), 20.0, (32, 24))
    >>> for v in (0, 100, 200):
    ...     _ = w.write(np.full((24, 32, 3), v, np.uint8))
    >>> w.release()
    >>> with FrameReader(p, start=1) as reader:
    ...     got = [(i, ts, int(rgb.mean().round(-1))) for i, ts, rgb in reader]
    ...     short = reader.check_frame_count(allow_short_read=False)
    >>> got, short
    ([(1, 50.0, 100), (2, 100.0, 200)], False)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start: int = 0,
        decode_threads: int | None = None,
        pool: FramePool | None = None,
    ) -> None:
        self.path = Path(path)
        size = _check_file(self.path)
        self.start = start
        self.pool = pool
        self.decoded = 0
        self._cap: cv2.VideoCapture | None = None
        self._image: np.ndarray | None = None
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            self._image = _read_image(self.path)
            h, w = self._image.shape[:2]
            self.info = VideoInfo(self.path, True, w, h, 0, "", 1, None, size, read_focal_tag(path))
        else:
            self._cap = _open_capture(self.path, decode_threads)
            self.info = _capture_info(self.path, self._cap, size)

    def close(self) -> None:
        """Release the decoder (idempotent)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[int, float | None, np.ndarray]]:
        if self._image is not None:
            self.decoded = 1  # an image is its one frame, yielded or skipped
            if self.start == 0:
                yield 0, None, cv2.cvtColor(self._image, cv2.COLOR_BGR2RGB)
            return
        cap = self._cap
        if cap is None:
            return
        while self.decoded < self.start:
            if not cap.grab():
                raise NoFramesError(
                    f"{self.path.name}: only {self.decoded} frames could be decoded but the "
                    f"checkpoint resumes at frame {self.start}",
                    hint="the file changed since the checkpoint; restart from scratch",
                )
            self.decoded += 1
        rot = _ROTATE.get(self.info.rotation_degrees)
        shape = (self.info.height, self.info.width, 3)
        bgr: np.ndarray | None = None
        stored: np.ndarray | None = None
        while True:
            ok, bgr = cap.read(bgr)
            if not ok or bgr is None:
                return
            ts = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            if rot is not None:
                stored = cv2.rotate(bgr, rot, dst=stored)
                src = stored
            else:
                src = bgr
            if src.shape != shape:
                raise VideoUnreadableError(
                    f"{self.path.name}: frame {self.decoded} is {src.shape[1]}x{src.shape[0]}, "
                    f"expected {shape[1]}x{shape[0]} (resolution changes mid-stream are not "
                    "supported)"
                )
            out = self.pool.acquire(shape) if self.pool is not None else None
            rgb = cv2.cvtColor(src, cv2.COLOR_BGR2RGB, dst=out)
            index = self.decoded
            self.decoded += 1
            yield index, ts, rgb

    def check_frame_count(self, *, allow_short_read: bool) -> bool:
        """After iterating: compare the frames decoded with the count the container declares.

        Parameters
        ----------
        allow_short_read : bool
            Accept fewer frames than declared (a truncated file) instead of
            raising; a warning is logged.

        Returns
        -------
        bool
            True when fewer frames decoded than declared (a short read that
            was allowed).

        Raises
        ------
        NoFramesError
            Not a single frame decoded.
        ShortReadError
            Fewer frames than declared and ``allow_short_read`` is False.
        """
        n = self.decoded
        declared = self.info.declared_frame_count
        name = self.path.name
        if n == 0:
            raise NoFramesError(
                f"{name}: no frame could be decoded"
                + (f" (the container declares {declared})" if declared else ""),
                hint="the file may hold no video stream or be corrupt",
            )
        if declared is None or n >= declared:
            return False
        if not allow_short_read:
            raise ShortReadError(
                f"{name}: only {n} of the {declared} frames the container declares "
                "could be decoded (truncated or corrupt file; `neuropose process "
                "--allow-short-read` accepts the frames that decode)",
                declared=declared,
                decoded=n,
                hint="re-export or re-copy the video, or accept the frames that decode with "
                "--allow-short-read",
            )
        logger.warning("%s: short read, %d of %s declared frames", name, n, declared)
        return True
