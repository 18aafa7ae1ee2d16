"""``neuropose serve`` as a real process: URL printed, signals, refusals, exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.monitor.statusdata import sample_jobs, write_status

LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env.update(extra)
    return env


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_url(proc: subprocess.Popen[str]) -> tuple[str, list[str]]:
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        m = re.match(r"Serving on (http://\S+/)$", line.strip())
        if m:
            return m.group(1), lines
    proc.kill()
    raise AssertionError(f"no URL printed; stdout={lines} stderr={proc.communicate()[1]}")


@pytest.fixture
def served(
    tmp_path: Path, data_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    write_status(data_dir, sample_jobs())
    proc = _spawn(["serve", "--port", "0", "--data-dir", str(data_dir)], _env(tmp_path))
    try:
        url, lines = _wait_for_url(proc)
        yield proc, url, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_url_answers_and_stops_cleanly_on_signal(
    served: tuple[subprocess.Popen[str], str, list[str]], data_dir: Path, sig: int
) -> None:
    proc, url, lines = served
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
    assert lines[0] == f"NeuroPose monitor for {data_dir}"
    with urllib.request.urlopen(url + "status.json", timeout=10) as resp:
        assert resp.status == 200
        assert len(json.loads(resp.read())["jobs"]) == 5
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert f"Monitor stopped (signal {int(sig)})." in out
    assert "Traceback" not in err
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "health", timeout=2)


def test_serve_refuses_public_bind_without_token(tmp_path: Path, data_dir: Path) -> None:
    proc = _spawn(
        ["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(data_dir)], _env(tmp_path)
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "error: refusing to serve on non-loopback address '0.0.0.0' without a token" in err
    assert "NEUROPOSE_MONITOR_TOKEN" in err and "Traceback" not in err
    assert "Serving on" not in out


def test_serve_public_bind_with_env_token(tmp_path: Path, data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    token = "tok-" + "x" * 30
    proc = _spawn(
        ["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(data_dir)],
        _env(tmp_path, NEUROPOSE_MONITOR_TOKEN=token),
    )
    try:
        url, lines = _wait_for_url(proc)
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        assert url == f"http://0.0.0.0:{port}/"
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/health", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10)
        assert info.value.code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert token not in out + err + "\n".join(lines)
    assert proc.returncode == 0


def test_serve_port_in_use_exits_3(tmp_path: Path, data_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        proc = _spawn(["serve", "--port", str(port), "--data-dir", str(data_dir)], _env(tmp_path))
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert f"cannot serve on 127.0.0.1:{port}: the port is already in use" in err
    assert "Traceback" not in err


def test_serve_invalid_port_is_a_config_error(tmp_path: Path, data_dir: Path) -> None:
    proc = _spawn(["serve", "--port", "70000", "--data-dir", str(data_dir)], _env(tmp_path))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "monitor_port" in err and "70000" in err
