"""A job's files over a real loopback socket: byte ranges, HEAD, confinement, types.

Ground truth: ``out/walk-03/visualize/cam01.overlay.mp4`` holds
:data:`VIDEO` (100,000 bytes whose value at offset i is ``i * 7 % 251``), so
every answer's bytes are checked against a slice of it.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.monitor.statusdata import PNG_BYTES, sample_jobs, write_job_outputs, write_status

VIDEO = bytes(i * 7 % 251 for i in range(100_000))
SIZE = len(VIDEO)
URL = "/jobs/walk-03/visualize/cam01.overlay.mp4"


@pytest.fixture
def job(data_dir: Path) -> Path:
    write_status(data_dir, sample_jobs())
    job_dir = write_job_outputs(data_dir, "walk-03", ("cam01.mp4",))
    (job_dir / "visualize" / "cam01.overlay.mp4").write_bytes(VIDEO)
    return job_dir


@pytest.fixture
def conn(job: Path, server: Callable[..., Any]) -> Iterator[http.client.HTTPConnection]:
    parts = urlsplit(server(job.parent.parent).url)
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    yield c
    c.close()


def _req(
    conn: http.client.HTTPConnection, path: str, method: str = "GET", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_whole_file(conn: http.client.HTTPConnection) -> None:
    code, h, body = _req(conn, URL)
    assert code == 200 and body == VIDEO
    assert h["content-type"] == "video/mp4" and h["accept-ranges"] == "bytes"
    assert int(h["content-length"]) == SIZE and "content-range" not in h
    assert "content-disposition" not in h  # shown inline by the player
    assert "media-src 'self'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["etag"].startswith('"')


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-1999", 1000, 2000),
        ("bytes=99999-99999", 99_999, 100_000),
        ("bytes=90000-", 90_000, 100_000),  # open-ended (what players send to seek)
        ("bytes=0-", 0, 100_000),
        ("bytes=-500", 99_500, 100_000),  # suffix: the last 500 bytes
        ("bytes=-250000", 0, 100_000),  # a suffix longer than the file is the whole file
        ("bytes=99990-200000", 99_990, 100_000),  # an end past the file is clamped
        ("BYTES = 10 - 19", 10, 20),  # unit case and spaces are tolerated
    ],
)
def test_single_ranges(conn: http.client.HTTPConnection, spec: str, start: int, stop: int) -> None:
    code, h, body = _req(conn, URL, Range=spec)
    assert code == 206
    assert body == VIDEO[start:stop]
    assert int(h["content-length"]) == stop - start
    assert h["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert h["content-type"] == "video/mp4"


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("bytes=0-1,5-6", "multiple ranges"),
        ("bytes=0-99,-100", "multiple ranges"),
        ("bytes=100000-", "starts at byte 100000"),
        ("bytes=200000-300000", "starts at byte 200000"),
        ("bytes=500-100", "end before start"),
        ("bytes=-0", "0 bytes"),
        ("bytes=abc", "malformed"),
        ("bytes=-", "malformed"),
    ],
)
def test_unsatisfiable_ranges_are_416(
    conn: http.client.HTTPConnection, spec: str, reason: str
) -> None:
    code, h, body = _req(conn, URL, Range=spec)
    assert code == 416
    assert h["content-range"] == f"bytes */{SIZE}"
    data = json.loads(body)
    assert reason in data["error"] and data["size"] == SIZE
    assert _req(conn, URL, Range="bytes=0-9")[2] == VIDEO[:10]  # the connection still works


def test_other_units_are_ignored(conn: http.client.HTTPConnection) -> None:
    code, h, body = _req(conn, URL, Range="items=0-5")
    assert code == 200 and body == VIDEO and "content-range" not in h


def test_head_whole_and_range(conn: http.client.HTTPConnection) -> None:
    code, h, body = _req(conn, URL, method="HEAD")
    assert code == 200 and body == b"" and int(h["content-length"]) == SIZE
    assert h["accept-ranges"] == "bytes"
    code, h, body = _req(conn, URL, method="HEAD", Range="bytes=-100")
    assert code == 206 and body == b"" and int(h["content-length"]) == 100
    assert h["content-range"] == f"bytes 99900-99999/{SIZE}"
    # Keep-alive survives HEADs: the next GET on the same connection gets its bytes.
    assert _req(conn, URL, Range="bytes=5-9")[2] == VIDEO[5:10]


def test_if_range(conn: http.client.HTTPConnection, job: Path) -> None:
    _, h, _ = _req(conn, URL, method="HEAD")
    code, _, body = _req(conn, URL, Range="bytes=0-9", If_Range=h["etag"])
    assert code == 206 and body == VIDEO[:10]
    code, _, body = _req(conn, URL, Range="bytes=0-9", If_Range=h["last-modified"])
    assert code == 206
    # The file was replaced since the client's copy: the whole new file, 200.
    new = b"N" * 1234
    tmp = job / "visualize" / ".new.tmp"
    tmp.write_bytes(new)
    os.replace(tmp, job / "visualize" / "cam01.overlay.mp4")
    code, h2, body = _req(conn, URL, Range="bytes=0-9", If_Range=h["etag"])
    assert code == 200 and body == new and h2["etag"] != h["etag"]


def test_many_seeks_on_one_connection(conn: http.client.HTTPConnection) -> None:
    for start in range(0, SIZE, 9_999):
        code, _, body = _req(conn, URL, Range=f"bytes={start}-")
        assert code == 206 and body == VIDEO[start:]


def test_downloads_have_type_and_attachment(conn: http.client.HTTPConnection, job: Path) -> None:
    code, h, body = _req(conn, "/jobs/walk-03/results.json")
    assert code == 200 and body == (job / "results.json").read_bytes()
    assert h["content-type"] == "application/json"
    assert h["content-disposition"].startswith('attachment; filename="results.json"')
    code, h, body = _req(conn, "/jobs/walk-03/visualize/cam01.preview.png")
    assert code == 200 and body == PNG_BYTES and h["content-type"] == "image/png"
    (job / "export").mkdir()
    (job / "export" / "cam01.trc").write_text("PathFileType\t4\n", "utf-8")
    (job / "export" / "cam01 ü.csv").write_text("t,x\n0,1\n", "utf-8")
    (job / "gait.report.json").write_text('{"ok": 1}', "utf-8")
    (job / "gait.report.steps.csv").write_text("a\n1\n", "utf-8")
    code, h, body = _req(conn, "/jobs/walk-03/export/cam01.trc")
    assert code == 200 and body == b"PathFileType\t4\n"
    assert h["content-type"] == "text/plain; charset=utf-8"
    code, h, _ = _req(conn, "/jobs/walk-03/export/cam01%20%C3%BC.csv")
    assert code == 200 and h["content-type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''cam01%20%C3%BC.csv" in h["content-disposition"]
    assert 'filename="cam01 _.csv"' in h["content-disposition"]
    assert _req(conn, "/jobs/walk-03/gait.report.json")[0:3:2] == (200, b'{"ok": 1}')
    assert _req(conn, "/jobs/walk-03/gait.report.steps.csv")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/walk-03/status.json",  # the job root serves results and reports only
        "/jobs/walk-03/visualize/..%2Fresults.json",
        "/jobs/walk-03/visualize/..",
        "/jobs/walk-03/visualize/%2E%2E%2F%2E%2E%2Fstatus.json",
        "/jobs/walk-03/visualize/.hidden.mp4",
        "/jobs/walk-03/visualize/notes.exe",
        "/jobs/walk-03/visualize/nothing.mp4",
        "/jobs/walk-03/visualize/folder.mp4",  # a directory
        "/jobs/walk-03/visualize/escape.json",  # symlink to a file outside the job
        "/jobs/walk-03/visualize/other.png",  # symlink into another job
        "/jobs/walk-03/partial/cam01.json",  # not a served folder
        "/jobs/walk-03/visualize/a/b.png",
        "/jobs/walk-04/results.json",  # job without results
        "/jobs/linked/results.json",  # job folder is a symlink out of out/
    ],
)
def test_nothing_else_is_reachable(
    conn: http.client.HTTPConnection, job: Path, path: str, tmp_path: Path
) -> None:
    data_dir = job.parent.parent
    vis = job / "visualize"
    (vis / "folder.mp4").mkdir()
    (vis / "notes.exe").write_bytes(b"MZ")
    (vis / ".hidden.mp4").write_bytes(b"x")
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": 1}', "utf-8")
    (vis / "escape.json").symlink_to(secret)
    other = write_job_outputs(data_dir, "walk-01", ("cam01.mp4",))
    (vis / "other.png").symlink_to(other / "visualize" / "cam01.preview.png")
    (job / "partial").mkdir()
    (job / "partial" / "cam01.json").write_text("{}", "utf-8")
    outside = tmp_path / "outside-job"
    (outside).mkdir()
    (outside / "results.json").write_text("{}", "utf-8")
    jobs = sample_jobs()
    from tests.monitor.statusdata import make_entry

    from neuropose.schemas import JobState

    jobs["linked"] = make_entry("linked", JobState.COMPLETED)
    write_status(data_dir, jobs)
    (data_dir / "out" / "linked").symlink_to(outside)
    code, _, body = _req(conn, path)
    assert code == 404, (path, body[:200])
    assert b"secret" not in body and b"PNG" not in body


def test_symlink_inside_the_job_is_served(conn: http.client.HTTPConnection, job: Path) -> None:
    (job / "visualize" / "alias.png").symlink_to("cam01.preview.png")
    code, _, body = _req(conn, "/jobs/walk-03/visualize/alias.png")
    assert code == 200 and body == PNG_BYTES


def test_token_applies_to_files(job: Path, server: Callable[..., Any]) -> None:
    srv = server(job.parent.parent, token="s3cret")
    parts = urlsplit(srv.url)
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        assert _req(c, URL, Range="bytes=0-9")[0] == 401
        code, _, body = _req(c, URL + "?token=s3cret", Range="bytes=0-9")
        assert code == 206 and body == VIDEO[:10]
        code, _, body = _req(c, URL, Range="bytes=0-9", Authorization="Bearer s3cret")
        assert code == 206 and body == VIDEO[:10]
    finally:
        c.close()
