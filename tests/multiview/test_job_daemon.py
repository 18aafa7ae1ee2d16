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
from tests.multiview.mvjob_helpers import view, write_rig_json, write_video

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
        self.intrinsics: dict[str, Any] = {}

    def expected_frames(self, path: Path) -> int | None:
        return F

    def process_video(
        self, path: Path, *, progress: Callable[[int, int | None], None], **kw: Any
    ) -> VideoPredictions:
        self.processed.append(path.name)
        self.intrinsics[path.name] = kw.get("intrinsics")
        if path.name == self.fail:
            raise RuntimeError(f"{path.name}: cannot decode")
        progress(F, F)
        k = 2 if path.stem == "side" else int(path.stem.removeprefix("cam")) - 1
        return view(path.name, PX[k], SIZE)


def _run(
    tmp_path: Path,
    processor: _ViewProcessor,
    videos=("cam1.mp4", "cam2.mp4", "cam3.mp4"),
    real_videos: bool = False,
):
    data = tmp_path / "data"
    job = data / "in" / "trial"
    job.mkdir(parents=True)
    for v in videos:
        if real_videos:  # decodable, of the calibrated size
            write_video(job / v, size=SIZE, n=2)
        else:
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


def test_each_view_is_estimated_with_its_calibrated_camera(tmp_path: Path) -> None:
    """The daemon hands the estimator each view's K from the job's calibration, not the FOV."""
    processor = _ViewProcessor()
    _, entry = _run(tmp_path, processor, real_videos=True)
    assert entry.state is JobState.COMPLETED
    for k, cam in enumerate(RIG.cameras, start=1):
        got = processor.intrinsics[f"cam{k}.mp4"]
        assert got is not None and got.source == f"calibration:rig.json:cam{k}"
        assert (got.fx, got.fy, got.cx, got.cy) == tuple(
            float(x) for x in (cam.K[0, 0], cam.K[1, 1], cam.K[0, 2], cam.K[1, 2])
        )


def test_an_undecodable_view_gets_no_camera_and_reports_its_own_error(tmp_path: Path) -> None:
    processor = _ViewProcessor()
    _run(tmp_path, processor)  # the videos are not decodable: no K, the processor decides
    assert processor.intrinsics == dict.fromkeys(["cam1.mp4", "cam2.mp4", "cam3.mp4"])
