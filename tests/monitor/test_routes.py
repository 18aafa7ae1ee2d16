"""Every route over a real loopback socket, including bad status files."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import (
    HOSTILE,
    PNG_BYTES,
    make_entry,
    sample_jobs,
    write_job_outputs,
    write_status,
)

Get = Callable[..., tuple[int, dict[str, str], bytes]]


def _security_headers(headers: dict[str, str]) -> None:
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"


@pytest.fixture
def base(data_dir: Path, server: Callable[..., Any]) -> str:
    jobs = sample_jobs()
    from neuropose.schemas import JobState

    jobs[HOSTILE] = make_entry(HOSTILE, JobState.QUEUED)
    write_status(data_dir, jobs)
    write_job_outputs(data_dir, "walk-03", ("cam01.mp4", "cam02.mp4"), quality={"ok": True})
    return str(server(data_dir).url)


@pytest.mark.parametrize(
    ("path", "status", "ctype"),
    [
        ("", 200, "text/html; charset=utf-8"),
        ("jobs/walk-01", 200, "text/html; charset=utf-8"),
        ("jobs/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", 200, "text/html; charset=utf-8"),
        ("status.json", 200, "application/json; charset=utf-8"),
        ("status.json?job=walk-04", 200, "application/json; charset=utf-8"),
        ("status.json?job=nope", 404, "application/json; charset=utf-8"),
        ("health", 200, "application/json; charset=utf-8"),
        ("metrics", 200, "text/plain; version=0.0.4; charset=utf-8"),
        ("jobs/walk-03/preview/1", 200, "image/png"),
        ("jobs/walk-03/preview/2", 404, "application/json; charset=utf-8"),
        ("jobs/walk-01/preview/0", 404, "application/json; charset=utf-8"),
        ("jobs/walk-03/preview/-1", 404, "text/html; charset=utf-8"),
        ("jobs/nope", 404, "text/html; charset=utf-8"),
        ("jobs/..%2F..%2Fetc%2Fpasswd", 404, "text/html; charset=utf-8"),
        ("jobs/walk-03/results.json", 404, "text/html; charset=utf-8"),
        ("out/status.json", 404, "text/html; charset=utf-8"),
        ("static/", 404, "text/html; charset=utf-8"),
        ("jobs/", 404, "text/html; charset=utf-8"),
        ("favicon.ico", 404, "text/html; charset=utf-8"),
        ("jobs/%ff%fe", 404, "text/html; charset=utf-8"),
    ],
)
def test_routes(base: str, http_get: Get, path: str, status: int, ctype: str) -> None:
    code, headers, body = http_get(base + path)
    assert code == status
    assert headers["content-type"] == ctype
    assert int(headers["content-length"]) == len(body)
    _security_headers(headers)


def test_status_json_contents(base: str, http_get: Get) -> None:
    code, _, body = http_get(base + "status.json")
    data = json.loads(body)
    assert code == 200 and data["status_available"] is True
    assert data["counts"] == {
        "processing": 1,
        "queued": 2,
        "interrupted": 1,
        "failed": 1,
        "completed": 1,
    }
    assert data["daemon"]["running"] is False
    names = [j["name"] for j in data["jobs"]]
    assert names[0] == "walk-01" and HOSTILE in names
    code, _, body = http_get(base + "status.json?job=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert code == 200 and json.loads(body)["job"]["name"] == HOSTILE
    code, _, body = http_get(base + "status.json?job=nope")
    assert code == 404 and json.loads(body) == {"error": "unknown job", "job": "nope"}


def test_preview_bytes_and_head(base: str, http_get: Get) -> None:
    code, _, body = http_get(base + "jobs/walk-03/preview/0")
    assert code == 200 and body == PNG_BYTES
    code, headers, body = http_get(base + "jobs/walk-03/preview/0", method="HEAD")
    assert code == 200 and body == b"" and int(headers["content-length"]) == len(PNG_BYTES)
    code, headers, body = http_get(base, method="HEAD")
    assert code == 200 and body == b"" and int(headers["content-length"]) > 1000


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(base: str, http_get: Get, method: str) -> None:
    code, headers, body = http_get(base + "status.json", method=method)
    assert code == 405 and headers["allow"] == "GET, HEAD"
    assert json.loads(body)["error"] == "method not allowed"
    assert http_get(base + "health")[0] == 200  # still serving


def test_health_reports_daemon_lock(
    data_dir: Path, server: Callable[..., Any], http_get: Get, daemon_lock: Any
) -> None:
    write_status(data_dir, {})
    code, _, body = http_get(server(data_dir).url + "health")
    data = json.loads(body)
    assert code == 200 and data["ok"] is True and data["status_available"] is True
    assert data["daemon"]["running"] is True and isinstance(data["daemon"]["pid"], int)


BAD_STATUS = {
    "missing": None,
    "empty": "",
    "half-written": '{"schema_version": 1, "updated_at": "2026-11-22T03:00:00Z", "jobs": {"a',
    "not-an-object": "[1, 2, 3]",
    "schema-invalid": '{"schema_version": 1, "updated_at": "x", "jobs": {"a": {"state": "zzz"}}}',
    "future": '{"schema_version": 7, "updated_at": "x", "jobs": {}}',
    "binary": b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("kind", list(BAD_STATUS))
def test_bad_status_file_gives_503_and_server_keeps_serving(
    data_dir: Path, server: Callable[..., Any], http_get: Get, kind: str
) -> None:
    content = BAD_STATUS[kind]
    path = data_dir / "status.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, "utf-8")
    base = server(data_dir).url
    for route, ctype in (
        ("", "text/html"),
        ("jobs/walk-01", "text/html"),
        ("status.json", "application/json"),
        ("status.json?job=walk-01", "application/json"),
    ):
        code, headers, body = http_get(base + route)
        assert code == 503, route
        assert headers["content-type"].startswith(ctype)
        _security_headers(headers)
        if ctype == "application/json":
            data = json.loads(body)
            assert data["status_available"] is False and data["error"]
        else:
            assert b"Job status unavailable" in body
    code, _, body = http_get(base + "health")
    assert code == 200 and json.loads(body)["status_available"] is False
    code, _, body = http_get(base + "metrics")
    assert code == 200 and b"neuropose_status_readable 0" in body
    # Recovery: once the daemon writes a valid file, the same server shows it.
    write_status(data_dir, sample_jobs())
    code, _, body = http_get(base + "status.json")
    assert code == 200 and len(json.loads(body)["jobs"]) == 5


def test_malformed_requests_get_an_answer(base: str) -> None:
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(raw)
            reply = s.recv(4096)
        assert reply.startswith(b"HTTP/1."), raw[:20]
        status = int(reply.split()[1])
        assert status in {400, 405, 414, 501}
        assert b"X-Content-Type-Options: nosniff" in reply


def test_keep_alive_serves_several_requests_on_one_connection(base: str) -> None:
    import http.client

    host, port = base.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        for path in ("/health", "/status.json", "/"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
    finally:
        conn.close()


def test_daemon_running_without_status_file_is_the_empty_state(
    data_dir: Path, server: Callable[..., Any], http_get: Get, daemon_lock: Any
) -> None:
    base = server(data_dir).url
    code, _, body = http_get(base)
    assert code == 200 and b"No jobs yet." in body
    code, _, body = http_get(base + "status.json")
    assert code == 200 and json.loads(body)["jobs"] == []


def test_live_per_job_status_files_are_shown(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    """The daemon's heartbeats rewrite only out/<job>/status.json; the monitor shows them."""
    from neuropose.datadir.status import write_job_status

    jobs = sample_jobs()
    write_status(data_dir, jobs)
    base = server(data_dir).url
    code, _, body = http_get(base + "status.json?job=walk-01")
    assert json.loads(body)["job"]["frames_done"] == 250
    later = make_entry(
        "walk-01", jobs["walk-01"].state, age_s=0, frames_done=900, frames_expected=1000, fps=30.0
    )
    write_job_status(data_dir, later)
    code, _, body = http_get(base + "status.json?job=walk-01")
    job = json.loads(body)["job"]
    assert code == 200 and job["frames_done"] == 900 and job["display"]["percent"] == "90%"
    # A corrupt live file is an unavailable status, not a silently older one.
    (data_dir / "out" / "walk-01" / "status.json").write_text("{", "utf-8")
    code, _, body = http_get(base + "status.json")
    assert code == 503 and "walk-01" in json.loads(body)["error"]


def test_requests_are_logged_at_debug_level(base: str, http_get: Get) -> None:
    import logging

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    log = logging.getLogger("neuropose.monitor.server")
    handler, old_level = Collect(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        http_get(base + "health")
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    assert handler.records and all(r.levelno == logging.DEBUG for r in handler.records)
    assert any('"GET /health HTTP/1.1" 200' in r.getMessage() for r in handler.records)
