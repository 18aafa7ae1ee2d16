"""The lab folder (cam01, cam02, Calib.qca.txt) ingested as a job and run by the daemon.

Real BlazePose model, in-process daemon. Ranges hold the per-camera figures
written in docs/multiview.md (same trial as tests/multiview/test_real_media.py,
here with the daemon's defaults: no residual-offset search).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neuropose.config import Settings, load_settings
from neuropose.datadir.status import read_status
from neuropose.estimator import Estimator
from neuropose.ingest import ingest_paths
from neuropose.interfacer.interfacer import Interfacer
from neuropose.io import load_model, sha256_file
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.schemas.checkpoint import VideoCheckpoint
from neuropose.schemas.status import JobState

pytestmark = [pytest.mark.slow, pytest.mark.media]


class _BlazePose:
    """The daemon's processor protocol over the session's shared BlazePose instance."""

    checkpoint_model = VideoCheckpoint

    def __init__(self, model: Any) -> None:
        self.model = model
        self.estimator = Estimator(model, Settings())

    def expected_frames(self, path: Path) -> int | None:
        return None

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        self.model.reset()
        result: VideoPredictions = self.estimator.process_video(path, **kwargs)
        return result


def test_lab_folder_becomes_a_triangulated_job(
    shared_media: Path, blazepose_model: Any, tmp_path: Path
) -> None:
    lab = shared_media / "lab_single_person"
    data = tmp_path / "data"
    [job] = ingest_paths([lab], data).jobs
    assert (job.name, job.calibration) == ("lab_single_person", "Calib.qca.txt")
    settings = load_settings(
        None, {"data_dir": data, "settle_seconds": 0.0, "poll_interval_s": 0.05}, environ={}
    ).settings
    Interfacer(settings, lambda: _BlazePose(blazepose_model), once=True).run()
    entry = read_status(data).jobs["lab_single_person"]
    assert entry.state is JobState.COMPLETED, entry.error
    cams = {c.camera: c for c in entry.cameras}
    assert sorted(cams) == ["cam01", "cam02"]
    for cam in cams.values():  # BlazePose's 2D noise at 1080x1920: a few px
        assert cam.median_reprojection_px is not None and 2 < cam.median_reprojection_px < 7
    assert cams["cam01"].swaps <= 3 and 20 <= cams["cam02"].swaps <= 45
    results = load_model(data / entry.results_path, JobResults)
    tri = results.triangulation
    assert tri is not None and tri.rig.source_sha256 == sha256_file(lab / "Calib.qca.txt")
    assert [v.video for v in results.videos] == ["cam01.mp4", "cam02.mp4"]
    print(
        "lab job:",
        {c.camera: (round(c.median_reprojection_px or 0, 2), c.swaps) for c in entry.cameras},
        "warnings:",
        entry.warnings,
        "bone CV:",
        {k: round(v, 3) for k, v in tri.bone_length_cv.items() if v is not None},
    )
