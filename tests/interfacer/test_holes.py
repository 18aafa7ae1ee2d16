"""Issue 13 #5: a missing data directory, quality reports after a full disk,
one cause and one hint for a full disk, a clean SIGTERM that is not an error."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.interfacer.conftest import FAKE_SPEC
from tests.interfacer.fake_processor import FakeProcessor
from tests.interfacer.test_signals_subprocess import frames_done, start_watch, wait_for

import neuropose.io as io_mod
from neuropose.cli import main
from neuropose.config import Settings
from neuropose.datadir import DataDir
from neuropose.datadir.status import read_status
from neuropose.errors import Interrupted, ResourceError
from neuropose.interfacer import Interfacer
from neuropose.interfacer.doctor import run_start_checks
from neuropose.io import TEMP_FILE_PATTERN
from neuropose.schemas.status import JobState

# ----------------------------------------------------- missing data directory


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "walk1", "--json"],
        ["retry", "walk1"],
        ["prune", "--older-than", "1"],
        ["reset", "--yes"],
        ["doctor"],
        ["serve", "--port", "0"],
    ],
    ids=lambda a: a[0] + ("-json" if "--json" in a else ""),
)
def test_a_missing_data_dir_is_exit_2_with_a_hint(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "tyop" / "data"
    assert main([*args, "--data-dir", str(missing)]) == 2
    captured = capsys.readouterr()
    assert f"error: data directory {missing} does not exist (from --data-dir)" in captured.err
    assert "hint: check the path; `neuropose watch` creates a new data directory" in captured.err
    assert "no jobs" not in captured.out
    assert "Traceback" not in captured.err
    assert not (tmp_path / "tyop").exists()  # nothing was created


def test_a_missing_data_dir_names_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEUROPOSE_DATA_DIR", str(tmp_path / "nope"))
    assert main(["status"]) == 2
    assert "does not exist (from NEUROPOSE_DATA_DIR)" in capsys.readouterr().err


def test_watch_creates_a_new_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEUROPOSE_SETTLE_SECONDS", "0")
    new = tmp_path / "new"
    assert main(["watch", "--once", "--data-dir", str(new), "--model", FAKE_SPEC]) == 0
    made = {p.name for p in new.iterdir()} - {"status.db-wal", "status.db-shm"}  # SQLite's
    assert sorted(made) == ["failed", "in", "neuropose.lock", "out", "status.db"]
    assert main(["status", "--data-dir", str(new)]) == 0
    assert f"no jobs in {new}" in capsys.readouterr().out


# ------------------------------------------------ quality reports, full disk


@pytest.fixture
def reports_disk(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """While ``full`` is true, every atomic write into a ``visualize/`` folder fails ENOSPC."""
    state = {"full": True}
    real = io_mod.atomic_write

    @contextlib.contextmanager
    def atomic_write(path: Path | str, **kw: int) -> Iterator[object]:
        if state["full"] and Path(path).parent.name == "visualize":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        with real(path, **kw) as handle:
            yield handle

    monkeypatch.setattr(io_mod, "atomic_write", atomic_write)
    return state


def _reports(data_dir: Path, job: str) -> list[str]:
    folder = data_dir / "out" / job / "visualize"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_reports_lost_to_a_full_disk_are_written_by_the_next_start(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    reports_disk: dict[str, bool],
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_job("walk", frames=(6, 4))
    daemon = Interfacer(make_settings(), FakeProcessor, once=True)
    daemon.run()
    assert daemon.summary.completed == ["walk"]  # the job itself is complete
    assert read_status(data_dir).jobs["walk"].state is JobState.COMPLETED
    assert _reports(data_dir, "walk") == []
    assert "quality report not written" in caplog.text
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]

    reports_disk["full"] = False  # space is back; the daemon restarts
    calls: list[str] = []

    class Counting(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            calls.append(path.name)
            return super().process_video(path, **kw)

    again = Interfacer(make_settings(), Counting, once=True)
    again.run()
    assert calls == []  # nothing processed again
    assert _reports(data_dir, "walk") == [
        "v0.quality.html",
        "v0.quality.json",
        "v1.quality.html",
        "v1.quality.json",
    ]
    report = json.loads((data_dir / "out" / "walk" / "visualize" / "v1.quality.json").read_text())
    assert (report["video"], report["n_frames"]) == ("v1.mp4", 4)
    assert again.reports.pending == []


def test_a_running_daemon_retries_the_reports_once_space_is_back(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    reports_disk: dict[str, bool],
) -> None:
    add_job("walk", frames=(5,))
    daemon = Interfacer(make_settings(), FakeProcessor)  # not --once: runs until stopped
    daemon.reports.retry_after_s = 0.1
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            daemon.run()
        except BaseException as exc:  # DaemonStopped when the test stops it
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_for(lambda: daemon.summary.completed == ["walk"], what="job completed")
        wait_for(lambda: daemon.reports.pending == ["walk"], what="report owed")
        assert _reports(data_dir, "walk") == []
        reports_disk["full"] = False
        wait_for(lambda: daemon.reports.pending == [], what="reports written")
        assert _reports(data_dir, "walk") == ["v0.quality.html", "v0.quality.json"]
    finally:
        daemon.stop.event.set()
        thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], Interrupted)


# ---------------------------------------------- full disk: one cause, one hint


def test_status_write_on_a_full_disk_says_one_cause_and_one_hint(
    data_dir: Path,
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real atomic write fails in fsync with ENOSPC (a DiskFullError from neuropose.io)."""
    import neuropose.datadir.status as status_mod

    monkeypatch.setenv("NEUROPOSE_SETTLE_SECONDS", "0")
    add_job("walk", frames=(6,))
    real = status_mod.write_model_atomic
    calls = {"n": 0}

    def fsync_enospc(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def write(path, model, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] <= 3:  # queued + processing succeed, then the disk is full
            return real(path, model, **kw)
        with monkeypatch.context() as m:
            m.setattr(io_mod.os, "fsync", fsync_enospc)
            return real(path, model, **kw)

    monkeypatch.setattr(status_mod, "write_model_atomic", write)
    code = main(["watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_SPEC])
    err = capsys.readouterr().err
    assert code == 4
    assert f"error: cannot write job status in {data_dir}" in err
    assert "no space left on device; stopping so that status stays true" in err
    assert err.count("hint:") == 1
    assert "permission" not in err.lower()
    assert err.count("free space") == 1
    assert "then restart `neuropose watch`; the job resumes from its last checkpoint" in err
    assert read_status(data_dir).jobs["walk"].state is JobState.PROCESSING


def test_start_checks_on_a_full_disk_give_one_hint(
    data_dir: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuropose.interfacer.doctor as doctor

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(
        doctor.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**12, 10**12, 0)
    )
    monkeypatch.setattr(doctor.tempfile, "NamedTemporaryFile", full)
    with pytest.raises(ResourceError) as info:
        run_start_checks(make_settings())
    assert "No space left on device" in info.value.message
    assert info.value.hint == "free disk space or point data_dir at a larger filesystem"


# --------------------------------------------------- SIGTERM is not an error


def test_a_clean_sigterm_is_not_reported_as_an_error(
    data_dir: Path, add_job: Callable[..., Path], daemon_env: dict[str, str]
) -> None:
    add_job("long", frames=(40,))
    proc = start_watch(data_dir, daemon_env, FAKE_PROC_COST_S="0.02")
    wait_for(lambda: frames_done(data_dir, "long") >= 6, what="6 frames processed")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    lines = err.splitlines()
    assert any(line.startswith("stopped by SIGTERM; interrupted jobs resume") for line in lines)
    assert not [line for line in lines if line.startswith("error")]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records and not [r for r in records if r["level"] in ("error", "critical")]
    assert read_status(data_dir).jobs["long"].state is JobState.INTERRUPTED
    assert os.path.isfile(data_dir / "out" / "long" / "partial" / "v0.mp4.ckpt.json")


def test_owed_reports_are_retried_on_schedule_one_job_at_a_time(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    reports_disk: dict[str, bool],
) -> None:
    from neuropose.interfacer.reports import QualityReports

    for job in ("a", "b"):
        add_job(job, frames=(3,))
    Interfacer(make_settings(), FakeProcessor, once=True).run()
    assert _reports(data_dir, "a") == _reports(data_dir, "b") == []
    now = [1000.0]
    reports = QualityReports(DataDir(data_dir), retry_after_s=60, clock=lambda: now[0])
    assert reports.find_missing(read_status(data_dir).jobs.values()) == ["a", "b"]
    assert reports.write_next() is True  # job a: the disk is still full
    assert reports.write_next() is True  # job b: likewise
    assert reports.write_next() is False  # nothing due before 60 s have passed
    reports_disk["full"] = False
    now[0] += 59.0
    assert reports.write_next() is False
    now[0] += 1.0
    assert reports.write_next() is True and reports.pending == ["b"]  # one job per call
    assert _reports(data_dir, "a") == ["v0.quality.html", "v0.quality.json"]
    assert reports.write_next() is True and reports.pending == []
    assert reports.write_next() is False


def test_a_full_disk_at_start_names_one_cause_and_one_hint(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing the lock's holder record fails with ENOSPC (a disk filled to the last byte)."""
    import neuropose.datadir.lock as lock_mod

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lock_mod.os, "pwrite", pwrite)
    code = main(["watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_SPEC])
    err = capsys.readouterr().err
    assert code == 4
    assert f"error: cannot start on {data_dir}: no space left on device" in err
    assert err.count("hint:") == 1
    assert f"hint: free space on the filesystem holding {data_dir}, then start" in err
