"""Fixtures of the visualize tests (data and ground truth: see ``synth.py``).

* ``unique_video``: 640x480, 30 fps, 30-frame H.264 MP4 filled with ``UNIQUE_BGR``.
* ``make_results``: writes predictions as ``<tmp>/data/out/<job>/results.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.visualize.synth import FPS, UNIQUE_BGR, H, N, W

from neuropose.schemas import JobResults, VideoPredictions
from neuropose.video.writer import VideoWriter


@pytest.fixture
def unique_video(tmp_path: Path) -> Path:
    path = tmp_path / "media" / "clip.mp4"
    path.parent.mkdir()
    with VideoWriter(path, (W, H), FPS, crf=10) as w:
        for _ in range(N):
            w.write(np.full((H, W, 3), UNIQUE_BGR, np.uint8))
    return path


@pytest.fixture
def make_results(tmp_path: Path) -> Callable[..., Path]:
    """Write a results.json in ``<tmp>/data/out/job1/`` and return its path."""

    def make(vp: VideoPredictions, job: str = "job1") -> Path:
        from neuropose.io import write_model_atomic

        out = tmp_path / "data" / "out" / job
        out.mkdir(parents=True, exist_ok=True)
        path = out / "results.json"
        write_model_atomic(
            path,
            JobResults(
                job_id=job, created_at="2026-01-01T00:00:00Z", neuropose_version="0.1.0",
                videos=(vp,),
            ),
        )  # fmt: skip
        return path

    return make
