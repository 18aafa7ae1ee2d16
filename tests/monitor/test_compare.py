"""``/compare`` and ``/compare.json`` over a real socket: one angle across jobs.

Ground truth: ``build_knee_predictions`` (left knee flexion
``30 + 20 sin(2π · 1 Hz · t)`` degrees, right knee straight, 90 frames at
30 fps) as both job ``pre`` and job ``post``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.monitor.statusdata import HOSTILE, make_entry, write_status
from tests.visualize.synth import build_knee_predictions

from neuropose.io import write_model_atomic
from neuropose.schemas import JobResults, JobState

Get = Callable[..., tuple[int, dict[str, str], bytes]]


@pytest.fixture
def base(data_dir: Path, server: Callable[..., Any]) -> str:
    vp, _ = build_knee_predictions()
    jobs = {}
    for job in ("pre", "post", HOSTILE):
        jobs[job] = make_entry(job, JobState.COMPLETED)
    jobs["queued"] = make_entry("queued", JobState.QUEUED)
    write_status(data_dir, jobs)
    for job in ("pre", "post"):
        (data_dir / "out" / job).mkdir()
        write_model_atomic(
            data_dir / "out" / job / "results.json",
            JobResults(job_id=job, created_at="2026-11-29T18:00:00Z", neuropose_version="0",
                       videos=(vp.model_copy(update={"video": f"{job}.mp4"}),)),
        )  # fmt: skip
    return str(server(data_dir).url)


def test_compare_json_has_the_known_angles(base: str, http_get: Get) -> None:
    code, headers, body = http_get(base + "compare.json?angle=left_knee_flexion&jobs=pre,post")
    assert code == 200 and headers["content-type"] == "application/json; charset=utf-8"
    data = json.loads(body)
    assert data["angle"] == "left_knee_flexion" and data["unit"] == "deg"
    assert [(s["job"], s["video"]) for s in data["series"]] == [
        ("pre", "pre.mp4"),
        ("post", "post.mp4"),
    ]
    _, truth = build_knee_predictions()
    for s in data["series"]:
        assert s["t"][0] == 0.0 and s["t"][30] == pytest.approx(1.0)
        assert np.allclose(np.array(s["deg"], float), truth, atol=0.5)
    right = json.loads(http_get(base + "compare.json?angle=right_knee_flexion&jobs=pre")[2])
    assert np.allclose(np.array(right["series"][0]["deg"], float), 0.0, atol=0.5)  # straight


def test_compare_errors(base: str, http_get: Get) -> None:
    code, _, body = http_get(base + "compare.json?angle=nose_wiggle&jobs=pre")
    assert code == 400 and "unknown angle 'nose_wiggle'" in json.loads(body)["error"]
    assert "left_knee_flexion" in json.loads(body)["angles"]
    data = json.loads(http_get(base + "compare.json?jobs=queued&jobs=nope&jobs=pre")[2])
    assert data["angle"] == "left_knee_flexion"  # the default
    assert [s["job"] for s in data["series"]] == ["pre"]
    assert data["errors"] == ["queued: no results yet", "nope: no such job in the status file"]
    many = "&".join(f"jobs=j{i}" for i in range(20))
    assert len(json.loads(http_get(base + "compare.json?" + many)[2])["jobs"]) == 8


def test_compare_page_draws_one_line_per_job(base: str, http_get: Get) -> None:
    code, headers, body = http_get(base + "compare?angle=left_knee_flexion&jobs=pre&jobs=post")
    page = body.decode()
    assert code == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert page.count('<polyline data-series="0"') == 1
    assert page.count('<polyline data-series="1"') == 1
    assert "<script>" in page and page.count("<script") == 1  # only the monitor's own script
    # Links add and remove jobs; the hostile job name is text, percent-encoded in links.
    assert 'href="/compare?angle=left_knee_flexion&amp;jobs=pre">remove</a> post' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "jobs=%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E" in page
