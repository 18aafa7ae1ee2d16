"""The daemon lock: one holder at a time, named when refused, freed by SIGKILL.

The holder is a real subprocess (``_HOLDER`` below) that takes the lock with
purpose ``"test holder"``, prints ``locked`` and sleeps until killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuropose.datadir.lock import ExclusiveLock, LockHeldError, LockInfo, probe_lock
from neuropose.errors import BusyError

REPO_ROOT = Path(__file__).resolve().parents[2]

_HOLDER = """
import sys, time
from neuropose.datadir.lock import ExclusiveLock
with ExclusiveLock(sys.argv[1], purpose="test holder"):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    path = tmp_path / "neuropose.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc, path
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_second_holder_is_refused_with_holder_info(
    holder: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = holder
    with pytest.raises(
        LockHeldError, match=rf"held by pid {proc.pid} on .* \(test holder\)"
    ) as info:
        ExclusiveLock(path, purpose="second", wait_s=0.2).acquire()
    assert isinstance(info.value, BusyError) and info.value.exit_code == 3
    assert "only one daemon may run per data directory" in str(info.value)


def test_probe_sees_the_holder_without_taking_the_lock(
    holder: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = holder
    info = probe_lock(path)
    assert info.held
    assert info.holder is not None and info.holder["pid"] == proc.pid
    assert info.holder["purpose"] == "test holder"
    assert f"pid {proc.pid}" in info.describe()
    assert probe_lock(path).held  # probing twice changes nothing


def test_sigkilled_holder_releases_the_lock(holder: tuple[subprocess.Popen[str], Path]) -> None:
    proc, path = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    # The file still names the dead holder, but the kernel released the flock.
    assert json.loads(path.read_text())["pid"] == proc.pid
    assert probe_lock(path).held is False
    with ExclusiveLock(path, purpose="successor", wait_s=0.2) as lock:
        assert lock.held
        recorded = json.loads(path.read_text())
        assert recorded["pid"] == os.getpid() and recorded["purpose"] == "successor"
        assert probe_lock(path).held


def test_release_frees_and_empties_the_file(tmp_path: Path) -> None:
    path = tmp_path / "neuropose.lock"
    assert probe_lock(path).held is False  # no file yet
    lock = ExclusiveLock(path, purpose="one")
    with lock:
        assert probe_lock(path).held
    assert not lock.held
    assert path.read_text() == ""
    # Released and emptied: nobody holds it and no stale holder is reported.
    assert probe_lock(path) == LockInfo(held=False, holder=None)
    lock.release()  # idempotent
    with ExclusiveLock(path, purpose="two"):
        pass


def test_in_process_second_lock_is_also_refused(tmp_path: Path) -> None:
    path = tmp_path / "neuropose.lock"
    with ExclusiveLock(path, purpose="first"), pytest.raises(LockHeldError, match=r"\(first\)"):
        ExclusiveLock(path, purpose="second", wait_s=0.1).acquire()


def test_concurrent_probing_never_makes_acquire_fail(tmp_path: Path) -> None:
    """probe_lock takes a shared lock for an instant; ExclusiveLock retries past it."""
    import threading

    path = tmp_path / "neuropose.lock"
    path.touch()
    stop = threading.Event()
    probes = 0

    def probe_forever() -> None:
        nonlocal probes
        while not stop.is_set():
            probe_lock(path)
            probes += 1

    prober = threading.Thread(target=probe_forever)
    prober.start()
    try:
        for _ in range(100):
            with ExclusiveLock(path, purpose="daemon", wait_s=1.0):
                pass
    finally:
        stop.set()
        prober.join()
    assert probes > 100


def test_lock_file_removed_on_release_is_recreated_by_the_next_holder(tmp_path: Path) -> None:
    """``on_release`` may delete the file and its folder (ingest's staging lock); the next
    holder recreates both, locks the new inode and is named in it."""
    path = tmp_path / "area" / "ingest.lock"

    def unlink(lock: ExclusiveLock) -> None:
        lock.path.unlink()
        lock.path.parent.rmdir()

    first = ExclusiveLock(path, purpose="first", make_parent=True, on_release=unlink).acquire()
    stale_fd = os.open(path, os.O_RDONLY)  # a waiter that opened the old inode
    try:
        first.release()
        assert not path.parent.exists()
        second = ExclusiveLock(path, purpose="second", make_parent=True, wait_s=0.2).acquire()
        try:
            assert path.exists() and os.stat(path).st_ino != os.fstat(stale_fd).st_ino
            assert probe_lock(path).holder is not None
            assert probe_lock(path).holder["purpose"] == "second"  # type: ignore[index]
            third = ExclusiveLock(path, purpose="third", make_parent=True, wait_s=0.1)
            assert third.try_acquire() is False
        finally:
            second.release()
    finally:
        os.close(stale_fd)


def test_a_failed_holder_record_gives_the_lock_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while recording the holder: the error surfaces and the lock is free again."""
    import errno

    import neuropose.datadir.lock as lock_mod

    path = tmp_path / "neuropose.lock"
    real_pwrite = os.pwrite

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lock_mod.os, "pwrite", full)
    with pytest.raises(OSError) as info:
        ExclusiveLock(path, wait_s=0).acquire()
    assert info.value.errno == errno.ENOSPC
    monkeypatch.setattr(lock_mod.os, "pwrite", real_pwrite)
    # Before the fix the first attempt's descriptor kept the flock: a second
    # process (here: a second lock object) was refused until this one exited.
    probe = ExclusiveLock(path, wait_s=0)
    assert probe.try_acquire() is True
    probe.release()
