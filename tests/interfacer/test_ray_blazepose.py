"""Real BlazePose through the Ray executor: the same results as the local executor.

Two actors on this machine load the cached model: the pool is one user of the
model (the daemon holds its use lock), not two competing ones.

Every array (poses, landmarks, boxes, tracks, timestamps) and every
provenance field but the creation time are equal, byte for byte in
``results.json``; only ``created_at`` and the stage timings differ.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from neuropose.config import load_settings
from neuropose.interfacer import Interfacer, build_executor

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def _videos(data_dir: Path, media: Path, cache: Path, **flags: Any) -> list[dict[str, Any]]:
    job = data_dir / "in" / "walk"
    job.mkdir(parents=True)
    shutil.copy(media / "lab_single_person" / "cam01.mp4", job / "cam01.mp4")
    settings = load_settings(
        None,
        {"data_dir": data_dir, "settle_seconds": 0.0, "poll_interval_s": 0.05,
         "render_after_job": False, "model_cache_dir": cache, "num_threads": 2,
         "checkpoint_every_frames": 40, **flags},
        environ={},
    ).settings  # fmt: skip
    daemon = Interfacer(settings, lambda: build_executor(settings, "blazepose-full"), once=True)
    assert daemon.run().completed == ["walk"]
    videos: list[dict[str, Any]] = json.loads(
        (data_dir / "out" / "walk" / "results.json").read_text()
    )["videos"]
    return videos


def test_blazepose_on_ray_equals_local(
    tmp_path: Path, shared_media: Path, blazepose_weights: Path
) -> None:
    local = _videos(tmp_path / "local", shared_media, blazepose_weights)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # two actors: two slots
    try:
        remote = _videos(
            tmp_path / "ray", shared_media, blazepose_weights,
            executor="ray", ray_workers=2, ray_cpus_per_worker=1.0,
        )  # fmt: skip
    finally:
        ray.shutdown()
    (a,), (b,) = local, remote
    assert a["metadata"]["decoded_frame_count"] == 100
    for doc in (a, b):
        doc.pop("metrics", None)  # stage timings
        doc["provenance"].pop("created_at")
    assert a == b
