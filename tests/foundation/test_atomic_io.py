"""Atomic writes survive SIGKILL and a full disk; loaders name file and field.

The crash test forks a real writer process per iteration. The target holds
version ``n`` (a JSON object whose ``payload`` is ``n`` repeated, plus its
length), the child writes version ``n + 1`` with
:func:`neuropose.io.write_json_atomic`, and the parent SIGKILLs it after a
random delay drawn around the measured duration of one write, so kills land
before, during and after the rename. After every kill the target must parse
as exactly version ``n`` or ``n + 1``.
"""

from __future__ import annotations

import errno
import json
import os
import random
import select
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from neuropose.errors import InvalidDocumentError, ResourceError
from neuropose.io import (
    TEMP_FILE_PATTERN,
    DiskFullError,
    atomic_write,
    load_json,
    load_model,
    remove_stale_temp_files,
    write_json_atomic,
    write_model_atomic,
)
from neuropose.schemas import StatusFile

PAYLOAD_ITEMS = 12_000  # about 70 kB of JSON, so a write takes a measurable time


def _doc(n: int) -> dict[str, Any]:
    return {"version": n, "payload": [n] * PAYLOAD_ITEMS, "length": PAYLOAD_ITEMS}


def _check(path: Path) -> int:
    """Parse ``path`` and return its version, asserting the document is whole."""
    data = json.loads(path.read_bytes())
    assert data["length"] == len(data["payload"]) == PAYLOAD_ITEMS
    assert set(data["payload"]) == {data["version"]}
    return int(data["version"])


def _fork_writer(path: Path, n: int) -> tuple[int, int]:
    """Fork a child that signals readiness on a pipe, then writes version ``n``."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read_fd)
            os.write(write_fd, b"x")
            write_json_atomic(path, _doc(n))
            time.sleep(60)  # wait to be killed, like a daemon that goes on working
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def _run_and_kill(path: Path, n: int, delay_s: float | None) -> None:
    pid, read_fd = _fork_writer(path, n)
    try:
        ready, _, _ = select.select([read_fd], [], [], 30)
        assert ready, "writer process did not start within 30 s"
        assert os.read(read_fd, 1) == b"x"
        if delay_s is None:  # calibration: wait until the new version is visible
            deadline = time.monotonic() + 10
            while _check(path) != n:
                assert time.monotonic() < deadline, "writer never finished"
        else:
            time.sleep(delay_s)
    finally:
        os.close(read_fd)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="uses fork and SIGKILL")
def test_sigkill_at_random_moments_never_leaves_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    write_json_atomic(path, _doc(0))
    # Calibrate: how long does one complete write take here (median of 5)?
    durations = []
    for _ in range(5):
        t0 = time.perf_counter()
        write_json_atomic(path, _doc(1))
        durations.append(time.perf_counter() - t0)
    write_s = sorted(durations)[2]
    _run_and_kill(path, 1, None)  # a writer that completes before the kill
    version = 1
    rng = random.Random(20261122)
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    iterations = 0

    # At least 200 kills (250 when the machine is quick); more (up to 25 s) until
    # kills have landed before the temp file existed, mid-write (temp file left
    # behind) and after the rename.
    def more() -> bool:
        elapsed = time.monotonic() - started
        if iterations < 200 or (iterations < 250 and elapsed < 10):
            return True
        return len(outcomes) < 3 and elapsed < 25

    while more():
        iterations += 1
        _run_and_kill(path, version + 1, rng.uniform(0.0, 2.5 * write_s))
        seen = _check(path)
        assert seen in (version, version + 1), f"saw version {seen}, expected {version}(+1)"
        temps = [p for p in tmp_path.iterdir() if TEMP_FILE_PATTERN.match(p.name)]
        assert len(temps) <= 1
        if seen == version + 1:
            outcomes["new"] += 1
        else:
            outcomes["old, temp file left" if temps else "old, no temp file"] += 1
        version = seen
        removed = remove_stale_temp_files(tmp_path)
        assert sorted(p.name for p in removed) == sorted(p.name for p in temps)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json"]
    elapsed = time.monotonic() - started
    assert len(outcomes) == 3, f"kills did not cover every phase of a write: {dict(outcomes)}"
    print(
        f"\n{iterations} SIGKILLs in {elapsed:.1f}s (one write {write_s * 1000:.1f} ms): "
        f"{dict(outcomes)}"
    )


# --- failures inside one process -------------------------------------------------------


def _temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".")]


def test_enospc_at_fsync_leaves_target_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "status.json"
    write_json_atomic(path, {"v": 1})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match="no space left on device") as info:
        write_json_atomic(path, {"v": 2})
    monkeypatch.undo()
    assert str(path) in str(info.value) and "previous version" in str(info.value)
    assert isinstance(info.value, ResourceError) and info.value.exit_code == 4
    assert isinstance(info.value, OSError)  # existing `except OSError` code keeps working
    assert json.loads(path.read_text()) == {"v": 1}
    assert _temp_files(tmp_path) == []


class _FullDiskFile:
    """A file wrapper whose writes fail with ENOSPC after ``budget`` bytes."""

    def __init__(self, real: Any, budget: int) -> None:
        self._real = real
        self._budget = budget

    def write(self, data: bytes) -> int:
        if len(data) > self._budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget -= len(data)
        return int(self._real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FullDiskFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def test_enospc_during_write_leaves_target_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "results.json"
    write_json_atomic(path, {"v": 1})
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullDiskFile(real_fdopen(fd, mode), 10))
    with pytest.raises(DiskFullError):
        write_json_atomic(path, {"v": 2, "big": "x" * 1000})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"v": 1}
    assert _temp_files(tmp_path) == []


def test_exception_in_body_leaves_target_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(path) as handle:
        handle.write(b"new-partial")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert _temp_files(tmp_path) == []


def test_other_os_errors_are_not_reported_as_disk_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="I/O error") as info:
        write_json_atomic(tmp_path / "x.json", {})
    assert not isinstance(info.value, DiskFullError)


def test_write_creates_file_with_trailing_newline_and_no_nan(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": [1, 2]})
    assert path.read_text(encoding="utf-8").endswith("\n")
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json_atomic(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": [1, 2]}


def test_remove_stale_temp_files_only_removes_temp_names(tmp_path: Path) -> None:
    keep = [".hidden", "results.json", ".results.json.tmp", ".results.json.abc.tmp"]
    stale = [".results.json.0123456789abcdef.tmp", ".status.json.fedcba9876543210.tmp"]
    for name in keep + stale:
        (tmp_path / name).write_text("x")
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
    assert remove_stale_temp_files(tmp_path / "missing") == []


# --- loader errors --------------------------------------------------------------------------


def test_load_names_file_and_first_invalid_field(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    path.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "updated_at": "2026-01-01T00:00:00Z",
                "jobs": {
                    "j1": {"job_id": "j1", "state": "queued", "last_update": "t", "frames_done": -5}
                },
            }
        )
    )
    with pytest.raises(InvalidDocumentError, match=r"field 'jobs\.j1\.frames_done'") as info:
        load_model(path, StatusFile)
    assert str(info.value).startswith(f"{path}: ")
    assert "-5" in str(info.value)
    assert info.value.exit_code == 2


def test_load_missing_required_field(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    path.write_text('{"schema_version": 1}')
    with pytest.raises(
        InvalidDocumentError, match=r"status\.json: field 'updated_at': Field required"
    ):
        load_model(path, StatusFile)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"schema_version": 1, "updated_', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
    ids=["truncated", "empty", "binary"],
)
def test_corrupt_file_is_an_error_never_empty(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "status.json"
    path.write_bytes(content)
    with pytest.raises(InvalidDocumentError, match=message) as info:
        load_model(path, StatusFile)
    assert str(path) in str(info.value)
    assert "hint:" in str(info.value)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidDocumentError, match=r"nope\.json: file not found"):
        load_json(tmp_path / "nope.json")


def test_write_model_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    doc = StatusFile(updated_at="2026-01-01T00:00:00Z", daemon_pid=7)
    write_model_atomic(tmp_path / "s.json", doc)
    assert load_model(tmp_path / "s.json", StatusFile) == doc
    assert _temp_files(tmp_path) == []


def test_remove_stale_temp_files_can_spare_recent_ones(tmp_path: Path) -> None:
    old = tmp_path / ".results.json.0123456789abcdef.tmp"
    fresh = tmp_path / ".results.json.fedcba9876543210.tmp"
    for p in (old, fresh):
        p.write_text("x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_stale_temp_files(tmp_path, min_age_s=600) == [old]
    assert fresh.exists()


@pytest.mark.parametrize(
    "name",
    ["a" * 250 + ".json", "é" * 125 + ".json", "患" * 83 + ".mp4"],
    ids=["ascii-255", "utf8-2byte-255", "utf8-3byte-253"],
)
def test_atomic_write_accepts_names_up_to_the_filesystem_limit(tmp_path: Path, name: str) -> None:
    assert 253 <= len(name.encode()) <= 255
    target = tmp_path / name
    with atomic_write(target) as f:
        f.write(b"{}")
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left behind
