"""Hostile files and URLs: never a traceback, never a 500 (issue 13, item 2).

A JSON document nested 200,000 levels deep makes Python's ``json`` raise
``RecursionError``; as the aggregate status, a per-job status, a
``results.json`` or a ``quality.json`` it must be reported as a corrupt file
naming the path. Tested through real subprocesses (``status``, ``watch``,
``serve``) and a real socket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import (
    make_quality,
    sample_jobs,
    write_job_outputs,
    write_status,
)
from tests.monitor.test_cli import _env, _spawn, _wait_for_url

LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"
NESTED = "[" * 200_000 + "]" * 200_000
Get = Callable[..., tuple[int, dict[str, str], bytes]]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _assert_clean_refusal(done: subprocess.CompletedProcess[str], bad: Path) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert f"{bad}: not a NeuroPose document (JSON nested too deeply to read)" in done.stderr
    assert "hint:" in done.stderr


@pytest.mark.parametrize("which", ["aggregate", "per-job"])
def test_status_exits_2_naming_the_nested_file(tmp_path: Path, data_dir: Path, which: str) -> None:
    write_status(data_dir, sample_jobs())
    bad = data_dir / "status.json"
    if which == "per-job":
        bad = data_dir / "out" / "walk-02" / "status.json"
        bad.parent.mkdir()
    bad.write_text(NESTED)
    _assert_clean_refusal(_cli(tmp_path, "status", "--data-dir", str(data_dir)), bad)


def test_watch_refuses_to_start_on_a_nested_aggregate_status(
    tmp_path: Path, data_dir: Path
) -> None:
    bad = data_dir / "status.json"
    bad.write_text(NESTED)
    done = _cli(
        tmp_path, "watch", "--once", "--data-dir", str(data_dir),
        "--model", "python:tests.interfacer.fake_processor:make_processor",
    )  # fmt: skip
    _assert_clean_refusal(done, bad)
    assert "refusing to start" in done.stderr
    assert bad.read_text() == NESTED  # nothing was changed


def test_serve_starts_and_stays_up_with_a_nested_aggregate_status(
    tmp_path: Path, data_dir: Path, http_get: Get
) -> None:
    (data_dir / "status.json").write_text(NESTED)
    proc = _spawn(["serve", "--port", "0", "--data-dir", str(data_dir)], _env(tmp_path))
    try:
        url, _ = _wait_for_url(proc)
        code, _, body = http_get(url + "health")
        health = json.loads(body)
        assert code == 200 and health["ok"] is True and health["status_available"] is False
        assert "nested too deeply" in health["error"]
        for path in ("", "status.json", "jobs/walk-01"):
            code, _, body = http_get(url + path)
            assert code == 503, path
            assert b"status.json: not a NeuroPose document" in body, path
        code, _, body = http_get(url + "metrics")
        assert code == 200 and b"neuropose_status_readable 0" in body
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err


def test_running_monitor_reports_each_nested_file_and_recovers(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    jobs = sample_jobs()
    write_status(data_dir, jobs)
    base = server(data_dir).url
    assert http_get(base)[0] == 200

    # the aggregate status
    aggregate = data_dir / "status.json"
    aggregate.write_text(NESTED)
    assert http_get(base + "health")[0] == 200
    for path in ("", "status.json", "status.json?job=walk-01", "jobs/walk-03"):
        code, _, body = http_get(base + path)
        assert code == 503 and b"nested too deeply" in body, path
    write_status(data_dir, jobs)
    assert http_get(base + "status.json")[0] == 200

    # a per-job live status file
    live = data_dir / "out" / "walk-01" / "status.json"
    live.parent.mkdir()
    live.write_text(NESTED)
    code, _, body = http_get(base + "status.json")
    assert code == 503 and str(live) in json.loads(body)["error"]
    live.unlink()
    assert http_get(base + "status.json")[0] == 200

    # results.json and quality.json of a job: the job page names each bad file
    job_dir = write_job_outputs(
        data_dir, "walk-03", ("cam01.mp4",), quality=make_quality("walk-03", "cam01.mp4")
    )
    code, _, body = http_get(base + "jobs/walk-03")
    assert code == 200 and b"limb segment length CV (worst)" in body
    quality = job_dir / "visualize" / "cam01.quality.json"
    quality.write_text(NESTED)
    code, _, body = http_get(base + "jobs/walk-03")
    assert code == 200 and f"{quality}: not a NeuroPose document".encode() in body
    assert b"Video metadata" in body  # the rest of the page still works
    (job_dir / "results.json").write_text(NESTED)
    code, _, body = http_get(base + "jobs/walk-03")
    assert code == 200
    assert f"results.json could not be read: {job_dir / 'results.json'}: not a".encode() in body
    assert http_get(base + "health")[0] == 200


@pytest.mark.parametrize(
    "index", ["9" * 5000, "1" * 7, "%C2%B2", "%D9%A3", "-1", "0x1", "1%00", "%20"]
)  # fmt: skip
def test_preview_index_is_validated(
    data_dir: Path, server: Callable[..., Any], http_get: Get, index: str
) -> None:
    write_status(data_dir, sample_jobs())
    write_job_outputs(data_dir, "walk-03", ("cam01.mp4",))
    base = server(data_dir).url
    assert http_get(base + "jobs/walk-03/preview/0")[0] == 200
    code, headers, body = http_get(base + "jobs/walk-03/preview/" + index)
    assert code == 404 and headers["content-type"].startswith("text/html")
    assert b"is not a video number" in body or b"no preview" in body
    assert http_get(base + "health")[0] == 200


def test_every_route_answers_odd_query_parameters_without_500(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    write_status(data_dir, sample_jobs())
    base = server(data_dir).url
    odd = ["job=" + "9" * 5000, "job=%00", "job=%ff%fe", "job", "limit=-1&job=walk-01&job=x"]
    for path in ("", "status.json", "health", "metrics", "jobs/walk-01", "jobs/%ff"):
        for query in odd:
            code, _, _ = http_get(f"{base}{path}?{query}")
            assert code in (200, 400, 404), (path, query, code)
    assert os.environ.get("NEUROPOSE_MONITOR_TOKEN") is None
