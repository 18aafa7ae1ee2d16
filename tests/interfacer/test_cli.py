"""Operator commands as a user runs them: output, exit codes, files on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.interfacer.conftest import FAKE_SPEC
from tests.interfacer.fake_processor import write_fake_video

from neuropose.cli import main
from neuropose.datadir.lock import ExclusiveLock
from neuropose.datadir.status import read_status, write_aggregate_status
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry


@pytest.fixture(autouse=True)
def fast_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "NEUROPOSE_SETTLE_SECONDS": "0",
        "NEUROPOSE_POLL_INTERVAL_S": "0.05",
        "NEUROPOSE_CHECKPOINT_EVERY_FRAMES": "5",
    }.items():
        monkeypatch.setenv(key, value)


def watch_once(data_dir: Path) -> int:
    return main(["watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_SPEC])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_watch_once_then_status_table_and_json(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    add_job("walk", frames=(6, 4))
    bad = add_job("broken", frames=(3,))
    (bad / "v0.mp4").write_bytes(b"BAD" + bytes(100))
    assert watch_once(data_dir) == 1
    captured = capsys.readouterr()
    assert "completed 1, failed 1, interrupted 0" in captured.out
    assert "error: 1 job(s) failed: broken" in captured.err

    assert main(["status", "--data-dir", str(data_dir)]) == 0
    table = capsys.readouterr().out
    assert "walk" in table and "completed" in table and "10/10" in table
    assert "broken" in table and "FakeUndecodableError" in table

    assert main(["status", "walk", "--json", "--data-dir", str(data_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["jobs"]) == ["walk"]
    assert doc["jobs"]["walk"]["state"] == "completed"
    assert doc["jobs"]["walk"]["frames_done"] == 10

    assert main(["status", "nope", "--data-dir", str(data_dir)]) == 2
    assert "no job 'nope'" in capsys.readouterr().err


def test_empty_data_dir_status(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--data-dir", str(data_dir)]) == 0
    assert "no jobs in" in capsys.readouterr().out


def test_corrupt_status_json_refuses_to_start_with_recovery_hint(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    add_job("a", frames=(2,))
    (data_dir / "out").mkdir()
    (data_dir / "status.json").write_text("{not json")
    before = snapshot(data_dir)
    assert watch_once(data_dir) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and "status.json: not valid JSON" in err
    assert "neuropose reset --yes" in err
    assert "Traceback" not in err
    after = snapshot(data_dir)
    after.pop("neuropose.lock", None)
    before.pop("neuropose.lock", None)
    assert after == before
    # The documented recovery: reset, then the job is processed again.
    assert main(["reset", "--yes", "--data-dir", str(data_dir)]) == 0
    assert watch_once(data_dir) == 0
    assert read_status(data_dir).jobs["a"].state is JobState.COMPLETED


def test_retry_round_trip_keeps_history(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = add_job("fixme", frames=(4,))
    (bad / "v0.mp4").write_bytes(b"BAD" + bytes(300))
    assert watch_once(data_dir) == 1
    assert (data_dir / "failed" / "fixme").is_dir()
    # The operator replaces the broken file, then retries.
    write_fake_video(data_dir / "failed" / "fixme" / "v0.mp4", 4)
    capsys.readouterr()
    assert main(["retry", "fixme", "--data-dir", str(data_dir)]) == 0
    assert "queued (attempts so far: 1)" in capsys.readouterr().out
    assert (data_dir / "in" / "fixme" / "v0.mp4").is_file()
    entry = read_status(data_dir).jobs["fixme"]
    assert entry.state is JobState.QUEUED
    assert [h.outcome for h in entry.history] == [JobState.FAILED]
    assert watch_once(data_dir) == 0
    entry = read_status(data_dir).jobs["fixme"]
    assert entry.state is JobState.COMPLETED
    assert entry.attempts == 2
    assert [h.outcome for h in entry.history] == [JobState.FAILED, JobState.COMPLETED]
    assert entry.error is None
    # Retrying a job that is not failed is a usage error.
    assert main(["retry", "fixme", "--data-dir", str(data_dir)]) == 2
    assert "no failed job 'fixme'" in capsys.readouterr().err


def test_retry_while_daemon_runs_lets_the_daemon_requeue(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = add_job("later", frames=(3,))
    (bad / "v0.mp4").write_bytes(b"BAD" + bytes(300))
    assert watch_once(data_dir) == 1
    write_fake_video(data_dir / "failed" / "later" / "v0.mp4", 3)
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"):
        assert main(["retry", "later", "--data-dir", str(data_dir)]) == 0
        assert "the running daemon will queue it" in capsys.readouterr().out
        assert read_status(data_dir).jobs["later"].state is JobState.FAILED
    assert watch_once(data_dir) == 0
    entry = read_status(data_dir).jobs["later"]
    assert entry.state is JobState.COMPLETED
    assert [h.outcome for h in entry.history] == [JobState.FAILED, JobState.COMPLETED]


def _finished(job: str, state: JobState, finished_at: str) -> JobStatusEntry:
    return JobStatusEntry(
        job_id=job,
        state=state,
        attempts=1,
        history=(
            AttemptRecord(
                attempt=1, started_at=finished_at, finished_at=finished_at, outcome=state
            ),
        ),
        finished_at=finished_at,
        last_update=finished_at,
    )


def test_prune_dry_run_changes_nothing_then_prunes_old_jobs(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    add_job("recent", frames=(2,))
    assert watch_once(data_dir) == 0
    jobs = dict(read_status(data_dir).jobs)
    old_job = data_dir / "in" / "ancient"
    write_fake_video(old_job / "v0.mp4", 2)
    (data_dir / "out" / "ancient").mkdir(parents=True)
    (data_dir / "out" / "ancient" / "results.json").write_text("{}")
    jobs["ancient"] = _finished("ancient", JobState.COMPLETED, "2020-01-01T00:00:00Z")
    jobs["oldfail"] = _finished("oldfail", JobState.FAILED, "2020-01-01T00:00:00Z")
    write_aggregate_status(data_dir, jobs)
    capsys.readouterr()
    before = snapshot(data_dir)
    assert main(["prune", "--older-than", "30", "--dry-run", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "would forget 2 job(s)" in out and "ancient" in out and "oldfail" in out
    assert snapshot(data_dir) == before
    assert main(["prune", "--older-than", "30", "--data-dir", str(data_dir)]) == 0
    assert "forgot 2 job(s)" in capsys.readouterr().out
    assert sorted(read_status(data_dir).jobs) == ["recent"]
    assert (data_dir / "out" / "ancient" / "results.json").is_file()  # results kept
    # A pruned completed job is not processed again.
    assert watch_once(data_dir) == 0
    assert "ancient" not in read_status(data_dir).jobs


def test_prune_refuses_while_daemon_runs(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_aggregate_status(
        data_dir, {"x": _finished("x", JobState.COMPLETED, "2020-01-01T00:00:00Z")}
    )
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"):
        assert main(["prune", "--older-than", "1", "--data-dir", str(data_dir)]) == 3
    assert "neuropose watch" in capsys.readouterr().err
    assert "x" in read_status(data_dir).jobs


def test_reset_is_a_dry_run_unless_yes(
    data_dir: Path, add_job: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    add_job("done", frames=(2,))
    assert watch_once(data_dir) == 0
    capsys.readouterr()
    before = snapshot(data_dir)
    assert main(["reset", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "would delete 3 path(s)" in out and "\n  status.json\n" in out
    assert "\n  status.db\n" in out
    assert "dry run: nothing changed" in out
    assert snapshot(data_dir) == before
    assert main(["reset", "--yes", "--data-dir", str(data_dir)]) == 0
    assert not (data_dir / "status.json").exists()
    assert (data_dir / "out" / "done" / "results.json").is_file()
    assert (data_dir / "in" / "done" / "v0.mp4").is_file()
    assert read_status(data_dir).jobs == {}


def test_doctor_checklist_and_exit_codes(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor", "--data-dir", str(data_dir), "--model", FAKE_SPEC]) == 0
    out = capsys.readouterr().out
    for name in ("directories writable", "one filesystem", "free disk", "daemon lock"):
        assert f"ok   {name}" in out
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(tmp_path / "empty-cache"))
    assert main(["doctor", "--data-dir", str(data_dir), "--model", "blazepose-full"]) == 1
    captured = capsys.readouterr()
    assert "FAIL model cached" in captured.out
    assert "1 check(s) failed: model cached" in captured.err


def test_watch_without_cached_model_exits_4_and_leaves_jobs_queued(
    data_dir: Path,
    tmp_path: Path,
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_job("waiting", frames=(2,))
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(tmp_path / "empty-cache"))
    code = main(["watch", "--once", "--data-dir", str(data_dir), "--model", "blazepose-full"])
    assert code == 4
    err = capsys.readouterr().err
    assert "model 'blazepose-full' is not in the cache" in err
    assert "neuropose models fetch blazepose-full" in err
    entry = read_status(data_dir).jobs["waiting"]
    assert entry.state is JobState.QUEUED and entry.attempts == 0
    assert (data_dir / "in" / "waiting").is_dir()


def test_status_flags_processing_jobs_without_a_daemon(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuropose.timefmt import utc_now

    now = utc_now()
    crashed = JobStatusEntry(
        job_id="orphan",
        state=JobState.PROCESSING,
        attempts=1,
        history=(AttemptRecord(attempt=1, started_at=now, pid=999999),),
        last_update=now,
    )
    write_aggregate_status(data_dir, {"orphan": crashed})
    assert main(["status", "--data-dir", str(data_dir)]) == 0
    assert "orphan: no daemon is running; it resumes from its last checkpoint" in (
        capsys.readouterr().out
    )
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"):
        assert main(["status", "--data-dir", str(data_dir)]) == 0
        out = capsys.readouterr().out
    assert "processing" in out and "no daemon" not in out and "no heartbeat" not in out
