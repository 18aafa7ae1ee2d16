"""Reviewing a real trial in headless Chromium: verdict, seekable overlay video, plots, downloads.

The job is ``cam01.mp4`` (the lab clip: 1080x1920, 60 fps, 100 frames)
processed by the daemon (``neuropose watch --once``) with the real BlazePose
model, which then renders its visuals (setting ``render_after_job``).
Screenshots go to ``test-artifacts/monitor_review_*.png``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from tests.conftest import REPO_PYTHONPATH

from neuropose.io import load_model
from neuropose.quality import quality_verdict
from neuropose.schemas.quality import QualityReport
from neuropose.schemas.render import RenderRecord

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.media]

JOB = "lab-cam01"

#: Content type expected for each extension of a download (independent of the server's table).
EXPECTED_TYPES = {
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".mp4": "video/mp4",
}


@pytest.fixture(scope="module")
def review_dir(
    tmp_path_factory: pytest.TempPathFactory, shared_media: Path, blazepose_weights: Path
) -> Path:
    """A data directory where the daemon processed ``cam01.mp4`` with the real model and
    rendered its visuals (``neuropose watch --once``, render_after_job on by default)."""
    cam01 = shared_media / "lab_single_person" / "cam01.mp4"
    tmp = tmp_path_factory.mktemp("review")
    data_dir = tmp / "data"
    (data_dir / "in" / JOB).mkdir(parents=True)
    shutil.copyfile(cam01, data_dir / "in" / JOB / "cam01.mp4")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(
        PYTHONPATH=REPO_PYTHONPATH,
        XDG_DATA_HOME=str(tmp / "xdg"),
        NEUROPOSE_MODEL_CACHE_DIR=str(blazepose_weights),
        NEUROPOSE_SETTLE_SECONDS="0",
        NEUROPOSE_NUM_THREADS="2",
    )
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "watch", "--once", "--data-dir", str(data_dir), "--model", "blazepose-full"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return data_dir


def test_clinician_reviews_a_real_trial(
    page: Any,
    review_dir: Path,
    server: Callable[..., Any],
    artifacts_dir: Path,
) -> None:
    record = load_model(review_dir / "out" / JOB / "visualize" / "render.json", RenderRecord)
    assert record.state == "done", record.error
    srv = server(review_dir)
    media: list[tuple[str, int, str | None]] = []  # (path, status, request Range)
    page.on(
        "response",
        lambda r: (
            media.append((urlsplit(r.url).path, r.status, r.request.headers.get("range")))
            if r.url.endswith(".mp4")
            else None
        ),
    )
    page.goto(srv.url + f"jobs/{JOB}")

    # 1. The verdict is the report's: level and reasons.
    report = load_model(
        review_dir / "out" / JOB / "visualize" / "cam01.quality.json", QualityReport
    )
    expected = quality_verdict(report)
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-verdict") == expected.level
    assert [li.inner_text() for li in verdict.locator("li").all()] == list(expected.reasons)
    box = verdict.bounding_box()
    assert box is not None and box["y"] < 200, "the verdict is at the top of the page"

    # 2. The overlay video plays and seeks to 1.0 s through byte ranges.
    video = page.locator("video.overlay")
    page.wait_for_function(
        "() => document.querySelector('video.overlay').readyState >= 1", timeout=20_000
    )
    assert page.evaluate("() => document.querySelector('video.overlay').duration") == (
        pytest.approx(100 / 60, abs=0.05)
    )
    # Chromium marks a video seekable only when its server answers byte ranges.
    seekable = page.evaluate(
        "() => { const v = document.querySelector('video.overlay');"
        " return [v.seekable.length, v.seekable.length ? v.seekable.end(0) : 0]; }"
    )
    assert seekable[0] == 1 and seekable[1] == pytest.approx(100 / 60, abs=0.05)
    page.evaluate("() => { const v = document.querySelector('video.overlay'); v.muted = true; }")
    page.evaluate("() => document.querySelector('video.overlay').play()")
    page.wait_for_function(
        "() => document.querySelector('video.overlay').currentTime > 0.2", timeout=20_000
    )
    page.evaluate("() => document.querySelector('video.overlay').pause()")
    page.screenshot(path=str(artifacts_dir / "monitor_review_job.png"), full_page=True)
    seeked = page.evaluate(
        "() => new Promise((resolve) => { const v = document.querySelector('video.overlay');"
        " v.addEventListener('seeked', () => resolve(v.currentTime), {once: true});"
        " v.currentTime = 1.0; })"
    )
    assert seeked == pytest.approx(1.0, abs=1 / 60)
    page.wait_for_function(
        "() => document.querySelector('video.overlay').readyState >= 2", timeout=20_000
    )
    assert page.evaluate("() => document.querySelector('video.overlay').videoHeight") == 1920
    video.screenshot(path=str(artifacts_dir / "monitor_review_seek_1s.png"))
    overlay = [m for m in media if m[0].endswith("cam01.overlay.mp4")]
    assert overlay, "the player fetched the overlay"
    assert all(status == 206 and rng for _, status, rng in overlay), overlay

    # 3. The 3D view loads; every plot and the poster have pixels.
    page.wait_for_function(
        "() => document.querySelector('video.view3d').readyState >= 1", timeout=20_000
    )
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('main img')).map(i => "
        "i.complete ? i.naturalWidth : (i.scrollIntoView(), -1))"
    )
    if -1 in widths:  # lazy images load once scrolled into view
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('main img')).every("
            "i => i.complete && i.naturalWidth > 0)",
            timeout=20_000,
        )
        widths = page.evaluate(
            "() => Array.from(document.querySelectorAll('main img')).map(i => i.naturalWidth)"
        )
    assert len(widths) == 2 and all(w > 0 for w in widths), widths

    # 4. Every download link returns its file with the right content type.
    hrefs = page.evaluate(
        "() => Array.from(document.querySelectorAll('a[download]')).map(a => a.href)"
    )
    names = {unquote(urlsplit(h).path).rsplit("/", 1)[-1] for h in hrefs}
    assert {"results.json", "cam01.overlay.mp4", "cam01.angles.svg", "cam01.quality.html"} <= names
    for href in sorted(set(hrefs)):
        resp = page.request.get(href)
        path = unquote(urlsplit(href).path)
        ext = Path(path).suffix
        assert resp.status == 200, path
        assert resp.headers["content-type"] == EXPECTED_TYPES[ext], path
        on_disk = review_dir / "out" / JOB / path.split(f"/jobs/{JOB}/", 1)[1]
        assert int(resp.headers["content-length"]) == on_disk.stat().st_size, path
    page.locator("#downloads").screenshot(path=str(artifacts_dir / "monitor_review_downloads.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.console_errors == []  # type: ignore[attr-defined]
