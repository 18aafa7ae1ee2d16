"""Synthetic media with known ground truth for estimator tests.

* ``make_video(path, values, fps=30, size=(64, 48))`` writes an MPEG-4 Part 2
  ``.mp4`` with cv2.VideoWriter whose frame ``i`` is uniformly grey
  ``values[i]``; its true timestamps are ``i / fps``.
* ``make_blob_video(path, scenes, fps=10, size=(160, 120))`` writes white
  rectangles on black: ``scenes[i]`` is a list of ``(x, y, w, h)`` boxes for
  frame ``i`` (the ``blobs`` mode of :class:`tests.fakes.FakeModel` returns
  exactly those boxes, up to codec blur at the edges).
* ``ffmpeg``: path of an ffmpeg executable (PATH or the imageio-ffmpeg wheel);
  tests needing it skip with a reason when neither exists.
* ``decoded_means(path)``: mean pixel value of every frame as OpenCV decodes
  it, computed independently of the estimator (for ordering checks).
* An autouse check that no ``neuropose-*`` thread outlives a test.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

VideoFactory = Callable[..., Path]


def _write(path: Path, frames: Iterator[np.ndarray], fps: float, size: tuple[int, int]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened(), f"cv2.VideoWriter cannot write {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def make_video() -> VideoFactory:
    def factory(
        path: Path, values: Sequence[int], fps: float = 30.0, size: tuple[int, int] = (64, 48)
    ) -> Path:
        w, h = size
        return _write(path, (np.full((h, w, 3), v, np.uint8) for v in values), fps, size)

    return factory


@pytest.fixture
def make_blob_video() -> VideoFactory:
    def factory(
        path: Path,
        scenes: Sequence[Sequence[tuple[int, int, int, int]]],
        fps: float = 10.0,
        size: tuple[int, int] = (160, 120),
    ) -> Path:
        w, h = size

        def frames() -> Iterator[np.ndarray]:
            for boxes in scenes:
                img = np.zeros((h, w, 3), np.uint8)
                for x, y, bw, bh in boxes:
                    img[y : y + bh, x : x + bw] = 255
                yield img

        return _write(path, frames(), fps, size)

    return factory


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        try:
            import imageio_ffmpeg

            exe = imageio_ffmpeg.get_ffmpeg_exe()
        except (ImportError, RuntimeError):
            pytest.skip("no ffmpeg executable (install ffmpeg or the imageio-ffmpeg package)")
    return exe


def run_ffmpeg(ffmpeg: str, *args: str) -> None:
    """Run ffmpeg quietly; fail the test with its stderr on error."""
    proc = subprocess.run(
        [ffmpeg, "-v", "error", "-y", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def decoded_means(path: Path) -> np.ndarray:
    """Mean pixel value of each frame as OpenCV decodes ``path`` (RGB order irrelevant)."""
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(float(frame.mean(dtype=np.float64)))
    cap.release()
    return np.asarray(out)


@pytest.fixture(autouse=True)
def _no_leaked_estimator_threads() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        alive = [t.name for t in threading.enumerate() if t.name.startswith("neuropose-")]
        if not alive:
            return
        time.sleep(0.02)
    pytest.fail(f"estimator threads still running after the test: {alive}")
