"""The job page and ``neuropose status`` of a multi-view trial with one wrong calibration.

Ground truth (``tests/visualize/mvtrial.py``): four virtual cameras, ``cam3``'s
calibration turned by 6 degrees. The trial's results, status entry (as the
daemon writes it: :func:`camera_summaries`) and visuals are made here; the page
is fetched over HTTP from a real :class:`MonitorServer`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.monitor.mvpage import JOB, make_trial_data_dir
from tests.visualize.mvtrial import WRONG

from neuropose.schemas import JobResults

LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, JobResults]:
    return make_trial_data_dir(tmp_path_factory.mktemp("mvpage"))


def _row(html: str, camera: str) -> str:
    m = re.search(rf'<tr data-camera="{camera}"[^>]*>(.*?)</tr>', html, re.S)
    assert m is not None, camera
    return m.group(0)


def _cell(row: str, column: str) -> str:
    m = re.search(rf'data-col="{column}">([^<]*)<', row)
    assert m is not None, column
    return unescape(m.group(1))


def test_job_page_lists_each_camera_and_flags_the_wrong_one(
    trial_dir, server: Callable[..., Any], http_get: Callable[..., Any]
) -> None:  # type: ignore[no-untyped-def]
    data, results = trial_dir
    tri = results.triangulation
    srv = server(data)
    status, headers, body = http_get(f"{srv.url}/jobs/{JOB}")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = body.decode()
    assert 'id="multiview"' in html
    for v, link in enumerate(tri.views):
        row = _row(html, link.camera)
        err = np.asarray(tri.reprojection_px)[..., v]
        # the figures are the results' own (median) and the stored errors' 95th percentile
        assert _cell(row, "median px") == f"{link.median_reprojection_px:.1f}"
        assert _cell(row, "p95 px") == f"{np.percentile(err[np.isfinite(err)], 95):.1f}"
        assert _cell(row, "swaps") == str(link.swaps)
        used = int(np.any(np.asarray(tri.used)[..., v], axis=1).sum())
        assert _cell(row, "frames used") == f"{used} / {tri.points_mm.shape[0]}"
        assert _cell(row, "offset").startswith(f"{link.offset_frames:+d}")
        assert ("data-suspect" in row) == (link.camera == WRONG)
        assert ("flagged" in row) == (link.camera == WRONG)
    wrong = float(_cell(_row(html, WRONG), "median px"))
    others = [float(_cell(_row(html, c), "median px")) for c in ("cam1", "cam2", "cam4")]
    assert wrong > 20 * max(others)
    # the warning naming the camera, on the card and in the verdict
    [warning] = tri.warnings
    assert warning.startswith(f"camera {WRONG} disagrees")
    card = unescape(html[html.index('id="multiview"') : html.index('id="cameras"')])
    assert f'camera-warning">{warning}</div>' in card
    verdict = re.search(r'id="verdict" data-verdict="([^"]+)"', html)
    assert verdict is not None and verdict.group(1) in ("caution", "not usable")
    section = html[
        html.index('id="verdict"') : html.index("</section>", html.index('id="verdict"'))
    ]
    assert f"camera {WRONG} disagrees" in unescape(section)
    # the progress table pairs every video with its camera
    progress = html[html.index('id="videos"') :]
    for link in tri.views:
        assert re.search(
            rf'<tr data-video="{link.video}"[^>]*><td>{link.video}</td><td>{link.camera}</td>',
            progress,
        )


def test_job_page_plays_the_reprojection_checks_and_the_world_view(
    trial_dir, server: Callable[..., Any], http_get: Callable[..., Any]
) -> None:  # type: ignore[no-untyped-def]
    data, _ = trial_dir
    srv = server(data)
    html = http_get(f"{srv.url}/jobs/{JOB}")[2].decode()
    srcs = re.findall(
        r'<figure class="(?:reprojection|world3d)"[^>]*><video [^>]*src="([^"]+)"', html
    )
    want = [f"/jobs/{JOB}/visualize/cam{i}.reprojection.mp4" for i in (1, 2, 3, 4)]
    assert srcs == [*want, f"/jobs/{JOB}/visualize/world3d.mp4"]
    for src in srcs:
        status, headers, body = http_get(f"{srv.url}{src}")
        assert status == 200 and headers["content-type"] == "video/mp4" and len(body) > 1000
    posters = re.findall(r'poster="([^"]+reprojection\.png)"', html)
    assert len(posters) == 4
    assert http_get(f"{srv.url}{posters[2]}")[0] == 200


def test_status_names_the_wrong_camera(trial_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    data, results = trial_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(PYTHONPATH=REPO_PYTHONPATH, XDG_DATA_HOME=str(tmp_path / "xdg"))
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH, "status", JOB, "--data-dir", str(data)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    tri = results.triangulation
    for link in tri.views:
        flag = " !" if link.camera == WRONG else ""
        assert (
            f"  {link.camera}{flag} ({link.video}): median reprojection "
            f"{link.median_reprojection_px:.1f} px, swaps {link.swaps}, "
            f"offset {link.offset_frames:+d}"
        ) in out.splitlines()
    assert f"warning: camera {WRONG} disagrees with the others" in out
