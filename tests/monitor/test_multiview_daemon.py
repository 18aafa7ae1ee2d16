"""The daemon processes, triangulates and renders a multi-view job; its page shows the cameras.

In-process daemon (:class:`Interfacer`, ``once``) whose processor returns each
view's projections of the walking body through the *true* rig
(``tests/visualize/mvtrial.py``), while the job folder's calibration
(``rig.json``) has ``cam3`` turned by 6 degrees. The render step runs after
the job, as in production (``render_after_job`` on by default).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.multiview.mvjob_helpers import view, write_rig_json
from tests.visualize.mvtrial import FPS, SIZE, TRUE_RIG, TRUTH, WRONG, WRONG_RIG, write_videos

from neuropose.config import load_settings
from neuropose.datadir.layout import DataDir
from neuropose.datadir.status import read_status
from neuropose.interfacer.interfacer import Interfacer
from neuropose.io import load_model, sha256_file
from neuropose.multiview.synthetic import project_views
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.schemas.base import FrozenModel
from neuropose.schemas.render import RenderRecord
from neuropose.schemas.status import JobState

pytestmark = pytest.mark.slow

JOB = "trial"
PX = project_views(TRUTH, TRUE_RIG.cameras, noise_px=0.5, rng=np.random.default_rng(3))


class _Checkpoint(FrozenModel):
    done: int = 0


class _ViewProcessor:
    """Predictions of ``camK.mp4`` = the true camera K's projections, provenance = the file."""

    checkpoint_model = _Checkpoint

    def expected_frames(self, path: Path) -> int | None:
        return PX.shape[1]

    def process_video(
        self, path: Path, *, progress: Callable[[int, int | None], None], **_: Any
    ) -> VideoPredictions:
        k = int(path.stem.removeprefix("cam")) - 1
        progress(PX.shape[1], PX.shape[1])
        vp = view(path.name, PX[k], SIZE, fps=FPS)
        prov = vp.provenance.model_copy(
            update={"input_sha256": sha256_file(path), "input_name": path.name}
        )
        return vp.model_copy(update={"provenance": prov})


def test_daemon_renders_a_multiview_job_and_its_page_shows_the_cameras(
    tmp_path: Path, server: Callable[..., Any], http_get: Callable[..., Any]
) -> None:
    layout = DataDir(tmp_path / "data")
    job_in = layout.job(JOB).input
    write_videos(job_in)
    write_rig_json(WRONG_RIG, job_in / "rig.json")
    (job_in / "READY").touch()
    settings = load_settings(
        None,
        {"data_dir": layout.root, "settle_seconds": 0.0, "poll_interval_s": 0.05},
        environ={},
    ).settings
    Interfacer(settings, _ViewProcessor, once=True).run()

    entry = read_status(layout.root).jobs[JOB]
    assert entry.state is JobState.COMPLETED, entry.error
    assert any(WRONG in w for w in entry.warnings)
    record = load_model(layout.job(JOB).render_record, RenderRecord)
    assert record.state == "done", record.error
    names = {f"cam{i}.reprojection.{x}" for i in (1, 2, 3, 4) for x in ("mp4", "png")}
    assert names | {"world3d.mp4", "world3d.png"} <= set(record.files)
    assert not any("not found" in n for n in record.notes)  # drawn on the original frames

    results = load_model(layout.job(JOB).results, JobResults)
    tri = results.triangulation
    assert tri is not None
    srv = server(layout.root)
    status, _, body = http_get(f"{srv.url}/jobs/{JOB}")
    html = body.decode()
    assert status == 200 and 'id="multiview"' in html
    for link in tri.views:
        row = html[html.index(f'<tr data-camera="{link.camera}"') :].split("</tr>", 1)[0]
        assert f'data-col="median px">{link.median_reprojection_px:.1f}<' in row
        assert ("data-suspect" in row) == (link.camera == WRONG)
        assert f'src="/jobs/{JOB}/visualize/{link.camera}.reprojection.mp4"' in html
    assert f'src="/jobs/{JOB}/visualize/world3d.mp4"' in html
