"""Reading upright frames and writing browser-playable MP4 files atomically.

Encoder choice
--------------
The installed OpenCV can only write MPEG-4 Part 2 (``mp4v``, which browsers do
not play) or VP9 (about 1 frame/s at 1080p, far too slow). The writer
therefore converts frames to YUV 4:2:0 with OpenCV and pipes them raw into
an ``ffmpeg`` process encoding H.264
(``libx264``, ``yuv420p``, ``+faststart`` so browsers can start playing
before the whole file arrives). The ``ffmpeg`` executable comes from the
``imageio-ffmpeg`` wheel (a static build; ``IMAGEIO_FFMPEG_EXE`` overrides
it) or from ``PATH``. Only when no ffmpeg exists does the writer fall back to
OpenCV's ``mp4v`` and log a warning that browsers may not play the file.

Crash invariants
----------------
A video is encoded into ``.<name>.<16 hex>.tmp`` in the destination
directory, ``fsync``'d, renamed over the final name and the directory is
``fsync``'d (the :mod:`neuropose.io` protocol). On any error the temporary
file is deleted and the final name is untouched; a temporary left by SIGKILL
matches :data:`neuropose.io.TEMP_FILE_PATTERN` and is removed by
:func:`neuropose.io.remove_stale_temp_files`.

Frame orientation
-----------------
:func:`iter_upright_frames` decodes with the estimator's own frame reader
(auto-rotation off, then ``cv2.rotate`` by the container's rotation tag) and
checks that the rotation equals ``VideoMetadata.rotation_degrees`` recorded
with the predictions, so 2D poses line up with the pixels.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from neuropose.errors import InputError, ProcessingError, ResourceError
from neuropose.io import fsync_directory

__all__ = ["VideoWriter", "find_ffmpeg", "iter_upright_frames", "probe_video"]

log = logging.getLogger(__name__)


def find_ffmpeg() -> str | None:
    """Path of an ffmpeg executable with libx264, or None."""
    env = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if env:
        return env
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def probe_video(path: Path) -> tuple[float, int]:
    """Nominal frame rate and decodable frame count of a video, by decoding it.

    Used by tests and benchmarks to compare an output with its input.
    """
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise InputError(f"{path}: OpenCV cannot open this video")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = 0
        while cap.grab():
            n += 1
        return fps, n
    finally:
        cap.release()


def iter_upright_frames(path: Path, rotation_degrees: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Decode ``path`` and yield ``(decode_index, upright BGR frame)``.

    Uses the estimator's :class:`~neuropose.estimator.video.FrameReader` (the
    same decoding and rotation that produced the predictions) and converts
    its RGB frames to BGR for drawing.

    Parameters
    ----------
    path : Path
        Video file.
    rotation_degrees : {0, 90, 180, 270}
        Clockwise rotation the predictions were made with
        (``VideoMetadata.rotation_degrees``).

    Raises
    ------
    InputError
        The file is missing or unreadable, or its rotation tag differs from
        the one recorded with the predictions.
    """
    from neuropose.estimator.video import FrameReader

    if not Path(path).is_file():
        raise InputError(f"{path}: video not found", hint="pass the original video with --video")
    with FrameReader(path) as reader:
        if reader.info.rotation_degrees != rotation_degrees:
            raise InputError(
                f"{path}: rotation tag is {reader.info.rotation_degrees} degrees but the "
                f"predictions were made with {rotation_degrees}",
                hint="pass the video these results were computed from with --video",
            )
        for index, _ts, rgb in reader:
            yield index, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


class VideoWriter:
    """Write BGR frames to an MP4 atomically (see the module docstring).

    Parameters
    ----------
    path : Path
        Final file; its directory must exist.
    size : (int, int)
        Frame width and height in pixels. With ffmpeg, an odd width or height
        gets one replicated column/row (H.264 4:2:0 needs even sizes).
    fps : float
        Constant output frame rate.
    preset : str
        x264 speed preset (``ultrafast`` keeps 1080p overlays above 30 fps on
        two cores; slower presets give smaller files).
    crf : int
        x264 constant-rate factor (lower is better quality).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with VideoWriter(d / "grey.mp4", (64, 48), 25.0) as w:
    ...     for _ in range(5):
    ...         w.write(np.full((48, 64, 3), 128, np.uint8))
    >>> (d / "grey.mp4").stat().st_size > 0
    True
    """

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: float,
        *,
        preset: str = "ultrafast",
        crf: int = 23,
    ) -> None:
        if not fps > 0:
            raise InputError(f"cannot write {path.name}: frame rate {fps} is not positive")
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        self.frames_written = 0
        self.codec = ""
        self._tmp = self.path.parent / f".{self.path.name}.{secrets.token_hex(8)}.tmp"
        self._proc: subprocess.Popen[bytes] | None = None
        self._cv: cv2.VideoWriter | None = None
        exe = find_ffmpeg()
        w, h = self.size
        # 4:2:0 needs even sizes: odd frames get one replicated row/column.
        self._pad = (h % 2, w % 2)
        ew, eh = w + w % 2, h + h % 2
        if exe is not None:
            cmd = [
                exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{ew}x{eh}",
                "-r", f"{self.fps:.6f}", "-i", "-", "-an",
                "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(self._tmp),
            ]  # fmt: skip
            try:
                self._proc = subprocess.Popen(
                    cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            except OSError as exc:
                raise ResourceError(f"cannot start ffmpeg ({exe}): {exc}") from exc
            self.codec = "h264"
        else:
            log.warning(
                "no ffmpeg found: writing %s as MPEG-4 Part 2 (mp4v), which browsers may not "
                "play; install imageio-ffmpeg for H.264",
                self.path.name,
            )
            self._cv = cv2.VideoWriter(
                str(self._tmp),
                cv2.CAP_FFMPEG,
                cv2.VideoWriter.fourcc(*"mp4v"),
                self.fps,
                (w, h),
                [cv2.VIDEOWRITER_PROP_IS_COLOR, 1],
            )
            if not self._cv.isOpened():
                raise ResourceError(f"OpenCV cannot write {self.path.name}")
            self.codec = "mp4v"

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR uint8 frame of exactly :attr:`size`."""
        w, h = self.size
        if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame has shape {frame.shape} {frame.dtype}, expected ({h}, {w}, 3)")
        if self._proc is not None:
            assert self._proc.stdin is not None
            if any(self._pad):
                frame = cv2.copyMakeBorder(
                    frame, 0, self._pad[0], 0, self._pad[1], cv2.BORDER_REPLICATE
                )
            # OpenCV's BGR -> I420 (BT.601, limited range, what ffmpeg assumes for
            # yuv420p) is SIMD-fast and halves the bytes piped; it cut ffmpeg's CPU
            # per 1080x1920 frame from ~26 ms to ~15 ms (benchmarks/bench_overlay.py).
            yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
            try:
                self._proc.stdin.write(yuv.data)
            except BrokenPipeError:
                raise ProcessingError(
                    f"ffmpeg stopped while writing {self.path.name}: {self._stderr()}"
                ) from None
        else:
            assert self._cv is not None
            self._cv.write(frame)
        self.frames_written += 1

    def _stderr(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            return self._proc.stderr.read().decode("utf-8", "replace").strip()[-500:]
        return ""

    def close(self) -> None:
        """Finish encoding and move the file into place atomically."""
        if self._proc is not None:
            assert self._proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
            code = self._proc.wait()
            if code != 0:
                raise ProcessingError(f"ffmpeg failed writing {self.path.name}: {self._stderr()}")
            if self._proc.stderr is not None:
                self._proc.stderr.close()
            self._proc = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        fd = os.open(self._tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self._tmp, self.path)
        fsync_directory(self.path.parent)

    def abort(self) -> None:
        """Stop encoding and delete the temporary file (the final name is untouched)."""
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stderr):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
            self._proc = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.close()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()
