"""read_status: the merged view of status.json and per-job live files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from neuropose.datadir.status import (
    aggregate_status_path,
    current_status_path,
    job_status_path,
    migrate_layout,
    read_status,
    write_aggregate_status,
    write_job_status,
)
from neuropose.errors import InvalidDocumentError
from neuropose.schemas.status import JobState, JobStatusEntry


def _entry(job: str, state: JobState, when: str, frames: int = 0) -> JobStatusEntry:
    return JobStatusEntry(job_id=job, state=state, last_update=when, frames_done=frames)


def test_fresh_data_dir_is_empty(tmp_path: Path) -> None:
    assert read_status(tmp_path).jobs == {}
    (tmp_path / "out").mkdir()
    assert read_status(tmp_path).jobs == {}


def test_live_file_newer_than_aggregate_wins(tmp_path: Path) -> None:
    old = _entry("a", JobState.QUEUED, "2026-01-01T00:00:00.000000Z")
    done = _entry("b", JobState.COMPLETED, "2026-01-01T00:00:01.000000Z")
    write_aggregate_status(tmp_path, {"a": old, "b": done})
    live = _entry("a", JobState.PROCESSING, "2026-01-01T00:00:05.000000Z", frames=42)
    write_job_status(tmp_path, live)
    status = read_status(tmp_path)
    assert status.jobs["a"].state is JobState.PROCESSING
    assert status.jobs["a"].frames_done == 42
    assert status.jobs["b"].state is JobState.COMPLETED


def test_older_live_file_does_not_override_aggregate(tmp_path: Path) -> None:
    write_job_status(tmp_path, _entry("a", JobState.PROCESSING, "2026-01-01T00:00:00.000000Z"))
    write_aggregate_status(
        tmp_path, {"a": _entry("a", JobState.FAILED, "2026-01-01T00:01:00.000000Z")}
    )
    assert read_status(tmp_path).jobs["a"].state is JobState.FAILED


def test_live_files_without_aggregate_are_read(tmp_path: Path) -> None:
    # A crash after the first per-job write but before the first aggregate write.
    write_job_status(tmp_path, _entry("x", JobState.PROCESSING, "2026-01-01T00:00:00.000000Z"))
    assert list(read_status(tmp_path).jobs) == ["x"]


def test_corrupt_aggregate_is_an_error_not_empty(tmp_path: Path) -> None:
    write_aggregate_status(tmp_path, {"a": _entry("a", JobState.QUEUED, "2026-01-01T00:00:00Z")})
    aggregate_status_path(tmp_path).write_text('{"updated_at": "x", "jobs": {', "utf-8")
    expected = re.escape(f"{aggregate_status_path(tmp_path)}: not valid JSON")
    with pytest.raises(InvalidDocumentError, match=expected):
        read_status(tmp_path)


def test_invalid_field_in_live_file_is_named(tmp_path: Path) -> None:
    write_job_status(tmp_path, _entry("a", JobState.QUEUED, "2026-01-01T00:00:00Z"))
    path = job_status_path(tmp_path, "a")
    path.write_text(path.read_text().replace('"queued"', '"exploded"'), "utf-8")
    with pytest.raises(InvalidDocumentError, match=r"a/status.json: field 'state'"):
        read_status(tmp_path)


def test_live_file_in_wrong_job_directory_is_rejected(tmp_path: Path) -> None:
    write_job_status(tmp_path, _entry("a", JobState.QUEUED, "2026-01-01T00:00:00Z"))
    (tmp_path / "out" / "a").rename(tmp_path / "out" / "b")
    with pytest.raises(InvalidDocumentError, match=r"'a' but the file is in job directory 'b'"):
        read_status(tmp_path)


def test_dot_directories_and_other_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "out" / ".scratch").mkdir(parents=True)
    (tmp_path / "out" / ".scratch" / "status.json").write_text("garbage")
    (tmp_path / "out" / "notes.txt").write_text("hello")
    assert read_status(tmp_path).jobs == {}


def _legacy(tmp_path: Path, jobs: dict[str, JobStatusEntry]) -> Path:
    """An old-layout data directory: the aggregate at out/status.json."""
    write_aggregate_status(tmp_path, jobs)
    legacy = tmp_path / "out" / "status.json"
    legacy.parent.mkdir(exist_ok=True)
    os.rename(tmp_path / "status.json", legacy)
    return legacy


def test_readers_understand_the_old_layout_until_it_is_migrated(tmp_path: Path) -> None:
    from neuropose.monitor.cache import MonitorCache
    from neuropose.monitor.snapshot import take_snapshot

    done = _entry("a", JobState.COMPLETED, "2026-01-01T00:00:00.000000Z")
    legacy = _legacy(tmp_path, {"a": done})
    assert current_status_path(tmp_path) == legacy
    assert read_status(tmp_path).jobs == {"a": done}
    snap = take_snapshot(tmp_path, stale_after_s=60)
    assert snap.error is None and snap.status is not None and list(snap.status.jobs) == ["a"]
    cached = MonitorCache(tmp_path, stale_after_s=60, ttl_s=0)
    first = cached.get().status
    assert first is not None and first.jobs == {"a": done}
    assert migrate_layout(tmp_path) is True
    assert cached.get().status is first  # the moved file is the same file: not re-parsed
    write_aggregate_status(tmp_path, {})
    assert cached.get().status.jobs == {}  # type: ignore[union-attr]  # follows the new one
    assert current_status_path(tmp_path) == tmp_path / "status.json"
    assert read_status(tmp_path).jobs == {} and not legacy.exists()


def test_first_aggregate_write_moves_the_old_file(tmp_path: Path) -> None:
    a = _entry("a", JobState.COMPLETED, "2026-01-01T00:00:00.000000Z")
    b = _entry("b", JobState.QUEUED, "2026-01-01T00:00:01.000000Z")
    legacy = _legacy(tmp_path, {"a": a})
    write_aggregate_status(tmp_path, {**read_status(tmp_path).jobs, "b": b})
    assert not legacy.exists()
    assert read_status(tmp_path).jobs == {"a": a, "b": b}


def test_migration_refuses_when_both_files_exist(tmp_path: Path) -> None:
    legacy = _legacy(tmp_path, {})
    (tmp_path / "status.json").write_text(legacy.read_text())
    with pytest.raises(InvalidDocumentError, match="old-layout status file exists beside"):
        migrate_layout(tmp_path)
    assert legacy.is_file() and (tmp_path / "status.json").is_file()
