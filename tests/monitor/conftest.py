"""Fixtures of the monitor tests.

* ``data_dir``: an empty data directory (``in/``, ``out/``) in ``tmp_path``.
* Status documents with known values come from ``tests/monitor/statusdata.py``.
* ``server``: a factory starting :class:`MonitorServer` on a free loopback port
  in a thread (stopped at teardown); returns the server.
* ``daemon_lock``: holds the data directory's daemon lock in this process.
* ``http_get``: ``http_get(url, headers=None, method="GET") -> (status, headers, body)``.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from neuropose.datadir.lock import ExclusiveLock
from neuropose.monitor import MonitorServer


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "in").mkdir(parents=True)
    (d / "out").mkdir()
    return d


@pytest.fixture
def daemon_lock(data_dir: Path) -> Iterator[ExclusiveLock]:
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch") as lock:
        yield lock


@pytest.fixture
def server() -> Iterator[Callable[..., MonitorServer]]:
    started: list[tuple[MonitorServer, threading.Thread]] = []

    def start(data_dir: Path, **kw: Any) -> MonitorServer:
        kw.setdefault("cache_ttl_s", 0.0)
        srv = MonitorServer(data_dir, kw.pop("host", "127.0.0.1"), 0, **kw)
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        started.append((srv, t))
        return srv

    yield start
    for srv, t in started:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def _http_get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target or "/", headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


@pytest.fixture
def http_get() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    return _http_get
