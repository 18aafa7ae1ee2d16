"""The lab trial (cam01 + cam02, Calib.qca.txt) from ``process --calibration`` to the job page.

Real BlazePose; skips without ``../shared``. ``neuropose process
--calibration`` makes the trial, ``neuropose visualize`` draws the
reprojection checks and the world view on the original frames, and the
dashboard's job page shows each camera's median reprojection exactly as the
results store it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from neuropose.cli import main
from neuropose.datadir.status import write_aggregate_status, write_job_status
from neuropose.io import load_model
from neuropose.multiview.job import camera_summaries
from neuropose.schemas import JobResults, JobState, JobStatusEntry

pytestmark = [pytest.mark.slow, pytest.mark.media]


def test_lab_trial_visualized_and_on_the_job_page(
    shared_media: Path,
    blazepose_model: Any,
    model_cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: Callable[..., Any],
    http_get: Callable[..., Any],
) -> None:
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(model_cache_dir))
    lab = shared_media / "lab_single_person"
    data = tmp_path / "data"
    out = data / "out" / "lab"
    out.mkdir(parents=True)
    (data / "in").mkdir()
    trial = out / "results.json"
    argv = ["-q", "process", "--calibration", str(lab / "Calib.qca.txt")]
    argv += [str(lab / "cam01.mp4"), str(lab / "cam02.mp4"), "-m", "blazepose-full"]
    assert main([*argv, "--max-persons", "1", "-o", str(trial)]) == 0
    capsys.readouterr()
    assert main(["visualize", str(trial), "--video", str(lab), "--reprojection", "--3d"]) == 0
    printed = capsys.readouterr().out
    results = load_model(trial, JobResults)
    tri = results.triangulation
    assert tri is not None
    vis = out / "visualize"
    for cam in ("cam01", "cam02"):
        img = cv2.imread(str(vis / f"{cam}.reprojection.png"))
        assert img is not None and img.shape == (1920, 1080, 3)
        # the original frames are behind the drawing (not the grey canvas)
        assert img[960:, :].std() > 20
        cap = cv2.VideoCapture(str(vis / f"{cam}.reprojection.mp4"))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 100
        cap.release()
    assert cv2.imread(str(vis / "world3d.png")) is not None
    assert (vis / "world3d.mp4").stat().st_size > 10_000
    for link in tri.views:
        assert (
            f"  {link.camera} ({link.video}): median {link.median_reprojection_px:.1f} px"
            in printed
        )

    # the job page, as the daemon would record the job
    now = "2026-11-29T20:00:00Z"
    entry = JobStatusEntry(
        job_id="lab", state=JobState.COMPLETED, last_update=now, queued_at=now,
        results_path="out/lab/results.json", cameras=camera_summaries(tri),
        warnings=tri.warnings,
    )  # fmt: skip
    write_job_status(data, entry)
    write_aggregate_status(data, {"lab": entry})
    srv = server(data)
    status, _, body = http_get(f"{srv.url}/jobs/lab")
    html = body.decode()
    assert status == 200
    for link in tri.views:
        row = html[html.index(f'<tr data-camera="{link.camera}"') :].split("</tr>", 1)[0]
        shown = re.search(r'data-col="median px">([^<]+)<', row)
        assert shown is not None
        assert shown.group(1) == f"{link.median_reprojection_px:.1f}"
        assert 2 < float(shown.group(1)) < 7  # BlazePose's 2D noise at 1080x1920
        assert f'src="/jobs/lab/visualize/{link.camera}.reprojection.mp4"' in html
    # cam02's swapped frames are counted on the page as in the results
    cam02 = html[html.index('<tr data-camera="cam02"') :].split("</tr>", 1)[0]
    assert f'data-col="swaps">{tri.views[1].swaps}<' in cam02 and tri.views[1].swaps >= 15
    assert np.isfinite(tri.points_mm[..., 0]).mean() > 0.8
    shutil.rmtree(vis)  # 1080x1920 videos: do not keep them in the temp folder
