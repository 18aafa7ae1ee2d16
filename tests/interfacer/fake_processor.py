"""A tiny deterministic :class:`~neuropose.interfacer.VideoProcessor` for daemon tests.

Input format ("fake video")
---------------------------
Any file with a video extension. Frame ``i`` is bytes ``[64 i, 64 i + 64)``
of the file, so a file of ``64 * n`` bytes has ``n`` frames (a trailing
partial frame is ignored). A file starting with ``b"BAD"`` is undecodable.

Output (ground truth)
---------------------
One detection per frame, track 0; ``poses3d[i] = [[s, i, 1], [s, i, 2],
[s, i, 3]]`` where ``s`` is the byte sum of frame ``i``. :func:`expected`
computes the same arrays from the file, for assertions.

Behaviour
---------
* calls ``progress(frames_done, n)`` after every frame and sleeps
  ``FAKE_PROC_COST_S`` seconds per frame (environment variable);
* emits a :class:`FakeCheckpoint` every ``checkpoint_every_frames`` frames;
* on ``stop_event``: emits a checkpoint and raises :class:`FakeInterrupted`;
* ``resume`` continues exactly at ``checkpoint.next_frame``.

Use in a subprocess: ``neuropose watch --model
python:tests.interfacer.fake_processor:make_processor`` with ``PYTHONPATH``
set to the repository root.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from neuropose.errors import InputError, Interrupted
from neuropose.schemas import (
    CameraIntrinsics,
    Provenance,
    Skeleton,
    VideoMetadata,
    VideoPredictions,
)

FRAME_BYTES = 64
SKELETON = Skeleton(name="fake_3", joints=("root", "head", "foot"), edges=((0, 1), (0, 2)))


class FakeCheckpoint(BaseModel):
    input_size: int
    next_frame: int
    sums: list[int]


class FakeInterrupted(Interrupted):
    """Stopped on request after a checkpoint."""


class FakeUndecodableError(InputError):
    """The fake video starts with BAD."""


def frame_sums(path: Path) -> list[int]:
    data = path.read_bytes()
    n = len(data) // FRAME_BYTES
    return [sum(data[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]) for i in range(n)]


def expected(path: Path) -> np.ndarray:
    """Ground-truth ``poses3d`` (F, 3, 3) of a fake video."""
    sums = frame_sums(path)
    return _poses(sums)


def _poses(sums: list[int]) -> np.ndarray:
    n = len(sums)
    poses = np.zeros((n, 3, 3), np.float32)
    for i, s in enumerate(sums):
        poses[i] = [[s, i, 1], [s, i, 2], [s, i, 3]]
    return poses


class FakeProcessor:
    checkpoint_model = FakeCheckpoint

    def __init__(self, cost_s: float = 0.0) -> None:
        self.cost_s = cost_s

    def expected_frames(self, path: Path) -> int | None:
        return path.stat().st_size // FRAME_BYTES

    def process_video(
        self,
        path: Path,
        *,
        progress: Callable[[int, int | None], None],
        stop_event: threading.Event,
        checkpoint_every_frames: int,
        on_checkpoint: Callable[[Any], None],
        resume: Any | None,
    ) -> VideoPredictions:
        data = path.read_bytes()
        if data.startswith(b"BAD"):
            raise FakeUndecodableError(f"{path.name}: cannot decode (starts with BAD)")
        n = len(data) // FRAME_BYTES
        sums: list[int] = []
        start = 0
        if resume is not None:
            assert resume.input_size == len(data), "checkpoint of another input"
            sums = list(resume.sums)
            start = resume.next_frame
        for i in range(start, n):
            if stop_event.is_set():
                on_checkpoint(FakeCheckpoint(input_size=len(data), next_frame=i, sums=sums))
                raise FakeInterrupted(f"stopped at frame {i} of {path.name}")
            if self.cost_s:
                time.sleep(self.cost_s)
            sums.append(sum(data[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]))
            progress(i + 1, n)
            if (i + 1) % checkpoint_every_frames == 0 and i + 1 < n:
                on_checkpoint(FakeCheckpoint(input_size=len(data), next_frame=i + 1, sums=sums))
        poses = _poses(sums)
        return VideoPredictions(
            video=path.name,
            skeleton=SKELETON,
            metadata=VideoMetadata(
                width=64, height=64, decoded_frame_count=n, duration_s=n / 30, fps_reported=30.0
            ),
            provenance=Provenance(
                model_name="fake-processor",
                model_sha256="0" * 64,
                root_relative=False,
                intrinsics=CameraIntrinsics.from_fov(64, 64, 55.0),
                input_sha256="0" * 64,
                input_name=path.name,
                created_at="2026-01-01T00:00:00Z",
            ),
            frame_index=np.arange(n, dtype=np.int32),
            timestamp_s=np.arange(n) / 30.0,
            det_frame=np.arange(n, dtype=np.int32),
            track_id=np.zeros(n, np.int32),
            boxes=np.tile(np.array([[0, 0, 10, 10, 1]], np.float32), (n, 1)),
            poses3d=poses,
            poses2d=poses[:, :, :2].copy(),
        )


def make_processor(settings: Any = None) -> FakeProcessor:
    return FakeProcessor(cost_s=float(os.environ.get("FAKE_PROC_COST_S") or 0.0))


def write_fake_video(path: Path, frames: int, seed: int = 0) -> Path:
    """Write a fake video of ``frames`` frames with deterministic content."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rng.integers(0, 256, frames * FRAME_BYTES, dtype=np.uint8).tobytes())
    return path
