"""The daemon triangulates a multi-view job once every view has predictions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.config import load_settings
from neuropose.datadir.status import read_status, write_aggregate_status
from neuropose.interfacer.interfacer import Interfacer
from neuropose.io import load_model
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.schemas.base import FrozenModel
from neuropose.schemas.status import JobState
from tests.multiview.mvjob_helpers import view, write_rig_json

F = 30
RIG = ring_rig(3)
SIZE = (1080, 1920)
TRUTH = walking_motion(F)
PX = project_views(TRUTH, RIG.cameras, noise_px=1.0)


class _Checkpoint(FrozenModel):
    done: int = 0


class _ViewProcessor:
    """Predictions of ``camK*.mp4`` = the virtual camera K's projections of the walk."""

    checkpoint_model = _Checkpoint

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.processed: list[str] = []

    def expected_frames(self, path: Path) -> int | None:
        return F

    def process_video(
        self, path: Path, *, progress: Callable[[int, int | None], None], **_: Any
    ) -> VideoPredictions:
        self.processed.append(path.name)
        if path.name == self.fail:
            raise RuntimeError(f"{path.name}: cannot decode")
        progress(F, F)
        k = 2 if path.stem == "side" else int(path.stem.removeprefix("cam")) - 1
        return view(path.name, PX[k], SIZE)


def _run(tmp_path: Path, processor: _ViewProcessor, videos=("cam1.mp4", "cam2.mp4", "cam3.mp4")):
    data = tmp_path / "data"
    job = data / "in" / "trial"
    job.mkdir(parents=True)
    for v in videos:
        (job / v).write_bytes(b"frames of " + v.encode())
    write_rig_json(RIG, job / "rig.json")
    (job / "READY").touch()
    settings = load_settings(
        None,
        {"data_dir": data, "settle_seconds": 0.0, "poll_interval_s": 0.05},
        environ={},
    ).settings
    Interfacer(settings, lambda: processor, once=True).run()
    return data, read_status(data).jobs["trial"]


def test_results_carry_the_triangulation_and_status_the_cameras(tmp_path: Path) -> None:
    data, entry = _run(tmp_path, _ViewProcessor())
    assert entry.state is JobState.COMPLETED
    results = load_model(data / entry.results_path, JobResults)
    assert [v.video for v in results.videos] == ["cam1.mp4", "cam2.mp4", "cam3.mp4"]
    tri = results.triangulation
    assert tri is not None and [v.camera for v in tri.views] == ["cam1", "cam2", "cam3"]
    assert np.nanmedian(np.linalg.norm(tri.points() - TRUTH, axis=-1)) < 4.0
    assert tri.rig.source_name == "rig.json"
    assert [c.camera for c in entry.cameras] == ["cam1", "cam2", "cam3"]
    assert all(0 < (c.median_reprojection_px or 99) < 2 for c in entry.cameras)
    assert entry.warnings == ()


def test_a_failed_view_fails_the_trial(tmp_path: Path) -> None:
    data, entry = _run(tmp_path, _ViewProcessor(fail="cam2.mp4"))
    assert entry.state is JobState.FAILED
    assert "cam2.mp4: cannot decode" in (entry.error or "")
    assert not list(data.rglob("results.json"))


def test_an_unpaired_view_fails_the_trial_before_any_view_runs(tmp_path: Path) -> None:
    processor = _ViewProcessor()
    data, entry = _run(tmp_path, processor, videos=("cam1.mp4", "cam2.mp4", "side.mp4"))
    assert entry.state is JobState.FAILED
    assert "video side.mp4: cannot tell which camera filmed it" in (entry.error or "")
    assert processor.processed == []
    assert not list(data.rglob("results.json"))


def test_a_restart_that_finds_results_json_restores_the_camera_figures(tmp_path: Path) -> None:
    data, first = _run(tmp_path, _ViewProcessor())
    assert first.state is JobState.COMPLETED and first.cameras
    # a crash after results.json was written, before "completed" was recorded
    (data / "out" / "trial" / "status.json").unlink(missing_ok=True)
    crashed = first.model_copy(update={"state": JobState.PROCESSING, "cameras": ()})
    write_aggregate_status(data, {"trial": crashed})
    processor = _ViewProcessor()
    settings = load_settings(
        None, {"data_dir": data, "settle_seconds": 0.0, "poll_interval_s": 0.05}, environ={}
    ).settings
    Interfacer(settings, lambda: processor, once=True).run()
    again = read_status(data).jobs["trial"]
    assert again.state is JobState.COMPLETED and processor.processed == []
    assert again.cameras == first.cameras
