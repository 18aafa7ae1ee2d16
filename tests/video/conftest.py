"""Synthetic media with known ground truth for the video package's tests.

* ``grey_clip(path, values, fps=20, size=(32, 24))`` writes a Motion-JPEG
  ``.avi`` whose frame ``i`` is uniformly grey ``values[i]`` (MJPEG keeps a
  flat grey within ±2); its true timestamps are ``i / fps``.
* ``decode_all(path)``: every frame as plain OpenCV decodes it (BGR),
  independent of the package under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

ClipFactory = Callable[..., Path]


@pytest.fixture
def grey_clip() -> ClipFactory:
    def factory(
        path: Path, values: Sequence[int], fps: float = 20.0, size: tuple[int, int] = (32, 24)
    ) -> Path:
        w, h = size
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
        assert writer.isOpened(), f"cv2.VideoWriter cannot write {path}"
        for v in values:
            writer.write(np.full((h, w, 3), v, np.uint8))
        writer.release()
        return path

    return factory


def decode_all(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` as ``cv2.VideoCapture`` decodes it (BGR)."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames
