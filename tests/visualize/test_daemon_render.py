"""The daemon renders after each job; a killed overlay writer never fails the job.

``neuropose watch --once`` runs the real estimator with the deterministic
FakeModel (``python:tests.fakes:make_model``) on the synthetic 640x480,
30-frame clip, so the predictions' SHA-256 is the clip's and the overlay can
be drawn. The dashboard is a real :class:`~neuropose.monitor.MonitorServer`.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.monitor.conftest import _http_get
from tests.visualize.synth import N, fps_and_count

from neuropose.datadir.layout import DataDir
from neuropose.io import load_model
from neuropose.monitor import MonitorServer
from neuropose.schemas import JobState, StatusFile
from neuropose.schemas.render import RenderRecord

pytestmark = pytest.mark.slow

JOB = "walk"
LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"


@pytest.fixture
def data_dir(tmp_path: Path, unique_video: Path) -> DataDir:
    d = DataDir(tmp_path / "data")
    d.job(JOB).input.mkdir(parents=True)
    (d.job(JOB).input / "clip.mp4").write_bytes(unique_video.read_bytes())
    return d


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    base.update(
        PYTHONPATH=REPO_PYTHONPATH,
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        NEUROPOSE_SETTLE_SECONDS="0",
        NEUROPOSE_POLL_INTERVAL_S="0.05",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], env=base, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def _watch(tmp_path: Path, d: DataDir, **env: str) -> subprocess.CompletedProcess[str]:
    return _run(
        tmp_path, "watch", "--once", "--data-dir", str(d.root),
        "--model", "python:tests.fakes:make_model", **env,
    )  # fmt: skip


@pytest.fixture
def dashboard(data_dir: DataDir) -> Iterator[str]:
    """The monitor of ``data_dir`` on a free loopback port; yields its URL."""
    data_dir.root.mkdir(parents=True, exist_ok=True)
    srv = MonitorServer(data_dir.root, port=0, cache_ttl_s=0.0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv.url
    srv.shutdown()
    srv.server_close()
    t.join(5)


def _killed_ffmpeg(tmp_path: Path) -> Path:
    exe = tmp_path / "ffmpeg-killed"
    exe.write_text("#!/bin/sh\nkill -9 $$\n", "utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_daemon_renders_and_a_killed_writer_leaves_the_job_completed(
    tmp_path: Path, data_dir: DataDir, dashboard: str
) -> None:
    d = data_dir
    done = _watch(tmp_path, d, IMAGEIO_FFMPEG_EXE=str(_killed_ffmpeg(tmp_path)))
    assert done.returncode == 0, done.stderr
    status = load_model(d.status, StatusFile)
    assert status.jobs[JOB].state is JobState.COMPLETED
    record = load_model(d.job(JOB).render_record, RenderRecord)
    assert record.state == "failed" and record.error is not None and "ffmpeg" in record.error
    assert "visuals not rendered" in done.stderr and "Traceback" not in done.stderr

    # The dashboard shows the job completed, the failure and the fix.
    url = dashboard
    code, _, body = _http_get(url + f"jobs/{JOB}")
    page = body.decode()
    assert code == 200 and 'data-render="failed"' in page
    assert 'class="badge badge-completed"' in page
    assert f"neuropose retry --render-only {JOB}" in page
    assert _http_get(url + f"jobs/{JOB}/results.json")[0] == 200

    # A second daemon run does not retry the failed render by itself.
    again = _watch(tmp_path, d, IMAGEIO_FFMPEG_EXE=str(_killed_ffmpeg(tmp_path)))
    assert again.returncode == 0 and "visuals not rendered" not in again.stderr

    fixed = _run(tmp_path, "retry", JOB, "--render-only", "--data-dir", str(d.root))
    assert fixed.returncode == 0, fixed.stderr
    assert load_model(d.job(JOB).render_record, RenderRecord).state == "done"
    assert fps_and_count(d.job(JOB).visualize / "clip.overlay.mp4") == (30.0, N)
    code, _, body = _http_get(url + f"jobs/{JOB}")
    assert 'data-render="failed"' not in body.decode()
    assert f'src="/jobs/{JOB}/visualize/clip.overlay.mp4"' in body.decode()
    code, headers, chunk = _http_get(
        url + f"jobs/{JOB}/visualize/clip.overlay.mp4", {"Range": "bytes=-100"}
    )
    assert code == 206 and len(chunk) == 100 and headers["content-type"] == "video/mp4"
    assert load_model(d.status, StatusFile).jobs[JOB].state is JobState.COMPLETED


def test_daemon_render_is_on_by_default_and_can_be_turned_off(
    tmp_path: Path, data_dir: DataDir
) -> None:
    off = _watch(tmp_path, data_dir, NEUROPOSE_RENDER_AFTER_JOB="false")
    assert off.returncode == 0, off.stderr
    assert not data_dir.job(JOB).render_record.exists()
    assert not (data_dir.job(JOB).visualize / "clip.overlay.mp4").exists()
    # Turned on later: the next start renders the job that completed without visuals.
    on = _watch(tmp_path, data_dir)
    assert on.returncode == 0, on.stderr
    record = load_model(data_dir.job(JOB).render_record, RenderRecord)
    assert record.state == "done"
    assert {"clip.overlay.mp4", "clip.3d.mp4", "clip.preview.png"} <= set(record.files)
