"""A data directory holding a completed multi-view job whose ``cam3`` calibration is wrong.

Used by the multi-view job page tests (HTTP and headless Chromium). The job
``trial``: results of ``tests/visualize/mvtrial.py``'s four-camera trial,
its status entry as the daemon writes it (:func:`camera_summaries`, warnings,
per-video progress) and its visuals (reprojection checks, world view) drawn
on the original videos.
"""

from __future__ import annotations

from pathlib import Path

from tests.monitor.statusdata import make_entry, write_status
from tests.visualize.mvtrial import F, build_trial, write_trial, write_videos

from neuropose.datadir.status import write_job_status
from neuropose.multiview.job import camera_summaries
from neuropose.schemas import JobResults, JobState
from neuropose.schemas.status import VideoProgress
from neuropose.visualize.pipeline import VisualizeOptions, visualize_results

JOB = "trial"


def make_trial_data_dir(root: Path) -> tuple[Path, JobResults]:
    """``root/data`` with the job ``trial`` completed and rendered; returns it and the results."""
    data = root / "data"
    (data / "in").mkdir(parents=True)
    results = build_trial(write_videos(root / "media"))
    path = write_trial(data / "out" / JOB, results)
    tri = results.triangulation
    assert tri is not None
    videos = tuple(
        VideoProgress(name=v.video, state=JobState.COMPLETED, frames_done=F, frames_expected=F)
        for v in results.videos
    )
    entry = make_entry(
        JOB,
        JobState.COMPLETED,
        cameras=camera_summaries(tri),
        warnings=tri.warnings,
        results_path=f"out/{JOB}/results.json",
        videos=videos,
    )
    write_status(data, {JOB: entry})
    write_job_status(data, entry)
    visualize_results(
        path, options=VisualizeOptions(reprojection=True, view3d=True, video=root / "media")
    )
    return data, results
