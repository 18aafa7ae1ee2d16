"""``/workers`` and ``/workers.json``: the Ray pool table the daemon writes (workers.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.monitor.statusdata import sample_jobs, write_status

from neuropose.interfacer.workerboard import WorkerBoard

Get = Callable[..., tuple[int, dict[str, str], bytes]]


def _pool(data_dir: Path) -> None:
    """Two workers as the daemon leaves them: one busy on walk-01, one idle with totals."""
    board = WorkerBoard(data_dir / "workers.json", address="10.0.0.5:6379", transfer="bytes")
    board.add(0, "aa01")
    board.add(1, "bb02")
    board.ready(0, node="10.0.0.7", pid=4101)
    board.ready(1, node="10.0.0.8", pid=4202)
    board.busy(0, job="walk-01", video="cam<1>.mp4")
    board.progress(0, frames_done=90, frames_run=60, elapsed_s=2.0)
    board.busy(1, job="walk-02", video="cam01.mp4")
    board.done(1, frames_run=300, elapsed_s=10.0)
    board.write(force=True)


def test_workers_json_and_page(data_dir: Path, server: Callable[..., Any], http_get: Get) -> None:
    write_status(data_dir, sample_jobs())
    _pool(data_dir)
    base = str(server(data_dir).url)

    status, headers, body = http_get(base + "workers.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert (doc["address"], doc["transfer"], doc["busy"]) == ("10.0.0.5:6379", "bytes", 1)
    w0, w1 = doc["workers"]
    assert (w0["node"], w0["pid"], w0["state"], w0["job"], w0["video"]) == (
        "10.0.0.7", 4101, "busy", "walk-01", "cam<1>.mp4",
    )  # fmt: skip
    assert w0["frames_done"] == 90 and w0["fps"] == 30.0
    assert 0 <= w0["heartbeat_age_s"] < 60
    assert (w1["state"], w1["videos_done"], w1["frames_total"]) == ("idle", 1, 300)
    assert w1["throughput_fps"] == 30.0

    status, headers, body = http_get(base + "workers")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = body.decode()
    assert "10.0.0.7" in html and "walk-01 / cam&lt;1&gt;.mp4" in html and "<1>" not in html
    assert "2 workers on 10.0.0.5:6379, 1 busy" in html

    status, _, body = http_get(base)  # the dashboard links the pool
    assert status == 200 and '<a href="/workers">Ray workers</a>' in body.decode()


def test_no_pool_is_404_and_a_corrupt_file_503(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    write_status(data_dir, sample_jobs())
    base = str(server(data_dir).url)
    status, _, body = http_get(base)
    assert status == 200 and b"/workers" not in body  # no pool, no link
    status, _, body = http_get(base + "workers.json")
    assert status == 404 and "local executor" in json.loads(body)["error"]
    status, _, body = http_get(base + "workers")
    assert status == 404 and b"local executor" in body
    (data_dir / "workers.json").write_text('{"schema_version": 1, "address": 3')
    status, _, body = http_get(base + "workers.json")
    assert status == 503 and "workers.json unreadable" in json.loads(body)["error"]


def test_the_dashboard_links_live_sessions_only_when_there_are_some(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    write_status(data_dir, sample_jobs())
    (data_dir / "live" / ".tmp-session").mkdir(parents=True)  # reserved names do not count
    status, _, body = http_get(str(server(data_dir).url))
    assert status == 200 and b'href="/live"' not in body
    (data_dir / "live" / "s1").mkdir()
    status, _, body = http_get(str(server(data_dir).url))
    assert status == 200 and '<a href="/live">live sessions</a>' in body.decode()
