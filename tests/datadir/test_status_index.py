"""The status index status.db: compact status.json, pages, rebuild, crash windows."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.datadir.status_checks import assert_status_consistent, index_rows, per_job_files

from neuropose.datadir import DataDir
from neuropose.datadir.index import StatusIndex, StatusIndexError, close_connections
from neuropose.datadir.operations import plan_prune, plan_reset, retry_job
from neuropose.datadir.status import (
    RECENT_JOBS,
    forget_jobs,
    query_jobs,
    read_job_status,
    read_status,
    restore_jobs,
    sync_index,
    write_aggregate_status,
    write_job_status,
)
from neuropose.errors import FutureSchemaError
from neuropose.io import load_model
from neuropose.schemas.status import JobState, JobStatusEntry, StatusFile

FINISHED = RECENT_JOBS + 30


def _when(i: int) -> str:
    return f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000Z"


def _entry(i: int, state: JobState = JobState.COMPLETED) -> JobStatusEntry:
    return JobStatusEntry(
        job_id=f"job{i:04d}",
        state=state,
        last_update=_when(i),
        finished_at=_when(i) if state in (JobState.COMPLETED, JobState.FAILED) else None,
        frames_done=i,
    )


def _populate(d: Path) -> list[JobStatusEntry]:
    """FINISHED finished jobs (every 10th failed), then 2 queued and 1 processing; the
    daemon's writes (index built first, as on the daemon's start)."""
    sync_index(d)
    entries = [
        _entry(i, JobState.FAILED if i % 10 == 0 else JobState.COMPLETED) for i in range(FINISHED)
    ]
    entries += [_entry(FINISHED, JobState.QUEUED), _entry(FINISHED + 1, JobState.QUEUED)]
    entries.append(_entry(FINISHED + 2, JobState.PROCESSING))
    for e in entries:
        write_job_status(d, e)
    write_aggregate_status(d, daemon_pid=4242)
    return entries


def test_status_json_lists_unfinished_and_recent_jobs_and_counts_all(tmp_path: Path) -> None:
    entries = _populate(tmp_path)
    doc = load_model(tmp_path / "status.json", StatusFile)
    assert doc.schema_version == 2 and doc.daemon_pid == 4242
    failed = sum(1 for i in range(FINISHED) if i % 10 == 0)
    assert doc.counts == {
        JobState.QUEUED: 2,
        JobState.PROCESSING: 1,
        JobState.COMPLETED: FINISHED - failed,
        JobState.FAILED: failed,
        JobState.INTERRUPTED: 0,
    }
    assert doc.total == len(entries) == FINISHED + 3
    # The 3 unfinished jobs were written last, so they are among the RECENT_JOBS newest.
    assert sorted(doc.jobs) == sorted(e.job_id for e in entries[-RECENT_JOBS:])
    assert "job0000" not in doc.jobs
    assert_status_consistent(tmp_path, settled=True)

    status = read_status(tmp_path)
    assert status.state_counts() == doc.counts and set(status.jobs) == set(doc.jobs)
    old = read_job_status(tmp_path, "job0000")
    assert old is not None and old.state is JobState.FAILED and old.frames_done == 0


def test_unfinished_jobs_stay_listed_however_old(tmp_path: Path) -> None:
    sync_index(tmp_path)
    write_job_status(tmp_path, _entry(0, JobState.INTERRUPTED))
    for i in range(1, FINISHED):
        write_job_status(tmp_path, _entry(i))
    doc = write_aggregate_status(tmp_path)
    assert "job0000" in doc.jobs and len(doc.jobs) == RECENT_JOBS + 1


def test_query_jobs_pages_by_recency_and_state(tmp_path: Path) -> None:
    _populate(tmp_path)
    total, page = query_jobs(tmp_path, limit=3)
    assert total == FINISHED + 3
    assert [e.job_id for e in page] == [f"job{FINISHED + k:04d}" for k in (2, 1, 0)]
    total, page = query_jobs(tmp_path, states=[JobState.FAILED], limit=2, offset=1)
    failed = [f"job{i:04d}" for i in range(FINISHED) if i % 10 == 0]
    assert total == len(failed)
    assert [e.job_id for e in page] == failed[::-1][1:3]
    total, every = query_jobs(tmp_path, limit=None)
    assert len(every) == total == FINISHED + 3


def test_files_only_data_dir_is_read_then_indexed(tmp_path: Path) -> None:
    # A data directory from before the index: a v1 status.json listing every job.
    entries = [_entry(i) for i in range(FINISHED)]
    v1 = StatusFile(updated_at=_when(0), jobs={e.job_id: e for e in entries})
    raw = v1.model_dump(mode="json")
    raw.update(schema_version=1)
    del raw["counts"], raw["seq"]
    import json

    (tmp_path / "status.json").write_text(json.dumps(raw))
    write_job_status(tmp_path, _entry(FINISHED, JobState.QUEUED))  # only a per-job file
    assert len(read_status(tmp_path).jobs) == FINISHED + 1  # everything, from the files
    assert not DataDir(tmp_path).status_index.exists()

    status = sync_index(tmp_path)
    assert status.total == FINISHED + 1 and len(status.jobs) == RECENT_JOBS
    assert set(index_rows(tmp_path)) == {e.job_id for e in entries} | {f"job{FINISHED:04d}"}
    # The newest by last_update count as the most recent.
    assert f"job{FINISHED:04d}" in status.jobs and "job0000" not in status.jobs


def test_commit_before_the_per_job_file_is_seen_and_repaired(tmp_path: Path) -> None:
    _populate(tmp_path)
    # A kill between the index commit and the per-job file's rename.
    done = _entry(FINISHED + 2, JobState.COMPLETED).model_copy(update={"last_update": _when(9999)})
    with StatusIndex.open(DataDir(tmp_path).status_index, write=True) as index:
        index.put([done])
    assert read_status(tmp_path).jobs[done.job_id].state is JobState.COMPLETED
    assert read_job_status(tmp_path, done.job_id) == done
    assert_status_consistent(tmp_path, settled=False)
    sync_index(tmp_path)
    assert per_job_files(tmp_path)[done.job_id] == done
    assert_status_consistent(tmp_path, settled=True)


def test_per_job_files_the_index_lacks_are_added(tmp_path: Path) -> None:
    _populate(tmp_path)
    # Files written without the index (an index deleted by hand while a daemon ran), and
    # a heartbeat file newer than its row.
    stray = _entry(FINISHED + 10, JobState.QUEUED)
    beat = _entry(FINISHED + 2, JobState.PROCESSING).model_copy(
        update={"frames_done": 777, "last_update": _when(9000)}
    )
    for e in (stray, beat):
        path = DataDir(tmp_path).job(e.job_id).status
        path.parent.mkdir(exist_ok=True)
        path.write_text(e.model_dump_json())
    sync_index(tmp_path)
    rows = index_rows(tmp_path)
    assert rows[stray.job_id] == stray and rows[beat.job_id].frames_done == 777
    assert_status_consistent(tmp_path, settled=True)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "deleted"])
def test_damaged_index_is_an_error_for_readers_and_rebuilt_by_the_daemon(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    entries = _populate(tmp_path)
    close_connections()  # what follows runs as a new process would: opening the file anew
    db = DataDir(tmp_path).status_index
    for p in DataDir(tmp_path).status_index_files[1:]:
        if p.exists():
            p.unlink()
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        with open(db, "r+b") as f:
            f.truncate(os.path.getsize(db) // 2)
    else:
        db.unlink()
    if damage != "deleted":
        with pytest.raises(StatusIndexError) as err:
            read_status(tmp_path)
        assert str(db) in err.value.message and "neuropose watch" in (err.value.hint or "")
        res = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from neuropose.cli import main; sys.exit(main())",
                "status",
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": REPO_PYTHONPATH, "HOME": str(tmp_path)},
            timeout=120,
        )
        assert res.returncode == 2, res.stderr
        assert "status.db" in res.stderr and "Traceback" not in res.stderr
    else:  # without an index the files are read: nothing is missing
        assert read_status(tmp_path).total == len(entries)
    status = sync_index(tmp_path)
    assert status.total == len(entries)  # rebuilt from the per-job files, never empty
    assert {e.job_id: e for e in entries} == index_rows(tmp_path)
    assert_status_consistent(tmp_path, settled=True)
    if damage != "deleted":
        assert "rebuilding it from the per-job status files" in caplog.text


def test_index_from_a_newer_neuropose_is_refused(tmp_path: Path) -> None:
    _populate(tmp_path)
    conn = sqlite3.connect(DataDir(tmp_path).status_index)
    conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(FutureSchemaError, match="status index schema version 99"):
        read_status(tmp_path)


def test_forget_restore_prune_retry_reset_keep_the_index_true(tmp_path: Path) -> None:
    entries = _populate(tmp_path)
    removed = forget_jobs(tmp_path, ["job0001", "job0002", "nope"])
    assert [e.job_id for e in removed] == ["job0001", "job0002"]
    assert read_status(tmp_path).total == len(entries) - 2
    assert read_job_status(tmp_path, "job0002") is not None  # its per-job file is still there
    restore_jobs(tmp_path, removed)
    assert read_status(tmp_path).total == len(entries)
    assert_status_consistent(tmp_path, settled=True)

    # retry of a failed job older than the listed ones keeps its history.
    failed_dir = DataDir(tmp_path).job("job0000").failed
    failed_dir.mkdir(parents=True)
    entry = retry_job(tmp_path, "job0000")
    assert entry is not None and entry.state is JobState.QUEUED and entry.frames_done == 0
    assert read_status(tmp_path).jobs["job0000"].state is JobState.QUEUED

    plan = plan_prune(tmp_path, 0, dry_run=False)
    finished = [e.job_id for e in entries if e.state in (JobState.COMPLETED, JobState.FAILED)]
    assert sorted(plan.jobs) == sorted(set(finished) - {"job0000"})
    assert read_status(tmp_path).total == 4
    assert_status_consistent(tmp_path, settled=True)

    plan_reset(tmp_path, yes=True)
    assert not [p for p in DataDir(tmp_path).status_index_files if p.exists()]


def test_index_behind_status_json_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A power cut loses the last commits of the index (its log is not fsync'd per
    # commit) but not the fsync'd per-job files and status.json written after them.
    entries = _populate(tmp_path)
    conn = sqlite3.connect(DataDir(tmp_path).status_index)
    conn.execute("DELETE FROM jobs WHERE job_id = ?", (entries[-1].job_id,))
    conn.execute("UPDATE meta SET value = 1 WHERE key = 'seq'")
    conn.commit()
    conn.close()
    sync_index(tmp_path)
    assert "is behind the" in caplog.text
    assert index_rows(tmp_path) == {e.job_id: e for e in entries}
    assert_status_consistent(tmp_path, settled=True)


def test_ingest_force_forgets_an_old_job_in_the_index(
    tmp_path: Path,
) -> None:
    from neuropose.ingest import ingest_paths

    d = tmp_path / "data"
    d.mkdir()
    entries = _populate(d)
    for sub in ("in", "failed"):
        (d / sub).mkdir(exist_ok=True)
    old = "job0001"  # completed, older than the jobs status.json lists
    assert old not in read_status(d).jobs
    src = tmp_path / "src"
    src.mkdir()
    (src / f"{old}.mp4").write_bytes(b"new video")
    report = ingest_paths([src / f"{old}.mp4"], d, force=True)
    assert report.jobs[0].previous_state == "completed"  # found in the index
    assert read_job_status(d, old) is None  # forgotten: the daemon queues the new inputs
    assert read_status(d).total == len(entries) - 1
    assert_status_consistent(d, settled=True)
