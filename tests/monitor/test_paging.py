"""The monitor beyond the listed jobs: counts of every job, pages, old jobs by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from neuropose.datadir.status import (
    RECENT_JOBS,
    sync_index,
    write_aggregate_status,
    write_job_status,
)
from neuropose.monitor import MonitorServer
from neuropose.schemas.status import JobState, JobStatusEntry

N = RECENT_JOBS + 40


def _when(i: int) -> str:
    return f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000Z"


@pytest.fixture
def big(data_dir: Path) -> Path:
    """N jobs (every 7th failed, the last one queued) as the daemon records them."""
    sync_index(data_dir)
    for i in range(N):
        state = JobState.FAILED if i % 7 == 0 else JobState.COMPLETED
        if i == N - 1:
            state = JobState.QUEUED
        write_job_status(
            data_dir,
            JobStatusEntry(job_id=f"job{i:04d}", state=state, last_update=_when(i), frames_done=i),
        )
    write_aggregate_status(data_dir)
    return data_dir


Get = Callable[..., tuple[int, dict[str, str], bytes]]


def _json(http_get: Get, url: str) -> tuple[int, Any]:
    status, _, body = http_get(url)
    return status, json.loads(body)


def test_counts_are_of_every_job_and_the_table_lists_recent_ones(
    big: Path, server: Callable[..., MonitorServer], http_get: Get
) -> None:
    srv = server(big)
    status, doc = _json(http_get, srv.url + "status.json")
    failed = sum(1 for i in range(N - 1) if i % 7 == 0)
    assert status == 200
    assert doc["counts"] == {
        "processing": 0,
        "queued": 1,
        "interrupted": 0,
        "failed": failed,
        "completed": N - 1 - failed,
    }
    assert doc["total_jobs"] == N and doc["listed_jobs"] == RECENT_JOBS == len(doc["jobs"])
    status, _, page = http_get(srv.url)
    text = page.decode()
    assert status == 200 and f"{RECENT_JOBS} of {N} jobs listed" in text
    assert "job0000" not in text and f"job{N - 1:04d}" in text
    _, _, metrics = http_get(srv.url + "metrics")
    assert f'neuropose_jobs{{state="failed"}} {failed}' in metrics.decode()


def test_pages_reach_every_job_most_recent_first(
    big: Path, server: Callable[..., MonitorServer], http_get: Get
) -> None:
    srv = server(big)
    status, doc = _json(http_get, srv.url + "status.json?limit=3&offset=2")
    assert status == 200 and doc["total"] == N and (doc["limit"], doc["offset"]) == (3, 2)
    assert [j["name"] for j in doc["jobs"]] == [f"job{N - k:04d}" for k in (3, 4, 5)]
    failed = [f"job{i:04d}" for i in range(N - 1) if i % 7 == 0]
    status, doc = _json(http_get, srv.url + "status.json?state=failed&limit=1000")
    assert status == 200 and [j["name"] for j in doc["jobs"]] == failed[::-1]
    assert doc["jobs"][-1]["frames_done"] == 0 and doc["jobs"][-1]["display"]["state"] == "failed"
    status, doc = _json(http_get, srv.url + f"status.json?limit=50&offset={N}")
    assert status == 200 and doc["jobs"] == [] and doc["total"] == N


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=abc",
        "offset=1e9",
        "offset=" + "9" * 5000,
        "state=done",
        "limit=%EF%BC%91",
    ],
)
def test_bad_page_parameters_are_400_naming_the_parameter(
    big: Path, server: Callable[..., MonitorServer], http_get: Get, query: str
) -> None:
    srv = server(big)
    status, doc = _json(http_get, srv.url + "status.json?" + query)
    assert status == 400
    assert query.split("=")[0] in doc["error"]


def test_a_job_older_than_the_listed_ones_has_its_page_and_json(
    big: Path, server: Callable[..., MonitorServer], http_get: Get
) -> None:
    srv = server(big)
    status, _, page = http_get(srv.url + "jobs/job0000")
    assert status == 200 and "job0000" in page.decode()
    status, doc = _json(http_get, srv.url + "status.json?job=job0000")
    assert status == 200 and doc["job"]["state"] == "failed"
    for missing in ("jobs/nope", "jobs/..%2F..%2Fetc"):
        status, _, _ = http_get(srv.url + missing)
        assert status == 404
    status, _ = _json(http_get, srv.url + "status.json?job=..%2Fstatus.json")
    assert status == 404


def test_damaged_index_answers_503_and_health_200(
    big: Path, server: Callable[..., MonitorServer], http_get: Get
) -> None:
    srv = server(big)
    for p in (big / "status.db-wal", big / "status.db-shm"):
        p.unlink(missing_ok=True)
    (big / "status.db").write_bytes(b"not a database" * 500)
    status, doc = _json(http_get, srv.url + "status.json")
    assert status == 503 and "status.db" in doc["error"]
    status, doc = _json(http_get, srv.url + "status.json?limit=5")
    assert status == 503 and "status.db" in doc["error"]
    status, _, _ = http_get(srv.url + "health")
    assert status == 200
