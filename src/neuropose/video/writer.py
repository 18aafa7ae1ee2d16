"""Writing browser-playable MP4 files atomically (H.264 through ffmpeg).

Encoder choice
--------------
The installed OpenCV can only write MPEG-4 Part 2 (``mp4v``, which browsers do
not play) or VP9 (about 1 frame/s at 1080p, far too slow). The writer
therefore converts frames to YUV 4:2:0 with OpenCV and pipes them raw into
an ``ffmpeg`` process encoding H.264
(``libx264``, ``yuv420p``, ``+faststart`` so browsers can start playing
before the whole file arrives). The ``ffmpeg`` executable comes from the
``imageio-ffmpeg`` wheel (a static build and a dependency;
``IMAGEIO_FFMPEG_EXE`` overrides it) or from ``PATH``; without one the
writer raises :class:`~neuropose.errors.ResourceError` (exit 4) before
creating anything. (OpenCV's own ``mp4v`` writer is no fallback: browsers do
not play it, and it picks the container from the file name, which a
``.tmp`` name does not give.)

Crash invariants
----------------
A video is encoded into ``.<name>.<16 hex>.tmp`` in the destination
directory, ``fsync``'d, renamed over the final name and the directory is
``fsync``'d (the :mod:`neuropose.io` protocol). On any error the temporary
file is deleted and the final name is untouched; a temporary left by SIGKILL
matches :data:`neuropose.io.TEMP_FILE_PATTERN` and is removed by
:func:`neuropose.io.remove_stale_temp_files`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from neuropose.errors import InputError, ProcessingError, ResourceError
from neuropose.io import fsync_directory

__all__ = ["VideoWriter", "find_ffmpeg"]


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


class VideoWriter:
    """Write BGR frames to an MP4 atomically (see the module docstring).

    Parameters
    ----------
    path : Path
        Final file; its directory must exist.
    size : (int, int)
        Frame width and height in pixels. An odd width or height gets one
        replicated column/row (H.264 4:2:0 needs even sizes).
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
    >>> w.codec, w.frames_written, (d / "grey.mp4").stat().st_size > 0
    ('h264', 5, True)
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
        exe = find_ffmpeg()
        if exe is None:
            raise ResourceError(
                f"cannot write {self.path.name}: no ffmpeg executable found",
                hint="reinstall the imageio-ffmpeg package (a neuropose dependency) or point "
                "IMAGEIO_FFMPEG_EXE at an ffmpeg with libx264",
            )
        w, h = self.size
        # 4:2:0 needs even sizes: odd frames get one replicated row/column.
        self._pad = (h % 2, w % 2)
        ew, eh = w + w % 2, h + h % 2
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

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR uint8 frame of exactly :attr:`size`."""
        w, h = self.size
        if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame has shape {frame.shape} {frame.dtype}, expected ({h}, {w}, 3)")
        if self._proc is None or self._proc.stdin is None:
            raise ValueError(f"{self.path.name} is already closed")
        if any(self._pad):
            pad_h, pad_w = self._pad
            frame = cv2.copyMakeBorder(frame, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
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
