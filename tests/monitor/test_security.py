"""Bind and token rules, Host-header checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import sample_jobs, write_status

from neuropose.monitor import MonitorConfigError, MonitorServer, check_bind, is_loopback

Get = Callable[..., tuple[int, dict[str, str], bytes]]
TOKEN = "s3cret-token-0123456789"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", ""])
def test_non_loopback_bind_without_token_is_refused(data_dir: Path, host: str) -> None:
    with pytest.raises(MonitorConfigError, match="refusing to serve on non-loopback address"):
        MonitorServer(data_dir, host, 0)
    with pytest.raises(MonitorConfigError, match="NEUROPOSE_MONITOR_TOKEN"):
        check_bind(host, None)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.53"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)  # no error


def test_blank_token_is_rejected() -> None:
    with pytest.raises(MonitorConfigError, match="monitor_token is empty"):
        check_bind("0.0.0.0", "   ")


def test_non_loopback_with_token_serves_and_requires_it(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    write_status(data_dir, sample_jobs())
    srv = server(data_dir, host="0.0.0.0", token=TOKEN)
    port = srv.server_address[1]
    base = f"http://127.0.0.1:{port}/"
    for path in ("", "status.json", "health", "metrics", "jobs/walk-01"):
        code, headers, body = http_get(base + path)
        assert code == 401, path
        assert headers["www-authenticate"].startswith("Bearer")
        assert b"walk-01" not in body
        code, _, _ = http_get(base + path, headers={"Authorization": "Bearer wrong"})
        assert code == 401
        code, _, _ = http_get(base + path + "?token=" + TOKEN[:-1])
        assert code == 401
        code, _, _ = http_get(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert code == 200, path
        code, _, _ = http_get(base + path + "?token=" + TOKEN)
        assert code == 200, path
    # With a token, any Host header is fine (the token is the protection).
    code, _, _ = http_get(
        base + "health",
        headers={"Authorization": f"Bearer {TOKEN}", "Host": "lab-pc.example.org:8765"},
    )
    assert code == 200


def test_query_token_is_kept_in_links(
    data_dir: Path, server: Callable[..., Any], http_get: Get
) -> None:
    write_status(data_dir, sample_jobs())
    srv = server(data_dir, token=TOKEN)
    code, _, body = http_get(srv.url + "?token=" + TOKEN)
    assert code == 200
    assert f'href="/jobs/walk-01?token={TOKEN}"'.encode() in body
    code, _, body = http_get(srv.url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert code == 200 and b'href="/jobs/walk-01"' in body


@pytest.mark.parametrize(
    ("host_header", "status"),
    [
        ("localhost:8765", 200),
        ("127.0.0.1:9000", 200),
        ("[::1]:8765", 200),
        ("LOCALHOST", 200),
        ("attacker.example:8765", 421),
        ("127.0.0.1.nip.io", 421),
    ],
)
def test_host_header_guard_without_token(
    data_dir: Path, server: Callable[..., Any], http_get: Get, host_header: str, status: int
) -> None:
    write_status(data_dir, sample_jobs())
    srv = server(data_dir)
    code, _, body = http_get(srv.url + "status.json", headers={"Host": host_header})
    assert code == status
    if status == 421:
        assert "is not served" in json.loads(body)["error"]
        assert b"walk-01" not in body
