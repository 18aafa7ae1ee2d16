"""The daemon in-process: discovery order, results, failures, recovery, status."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.interfacer.fake_processor import FakeProcessor, expected

from neuropose.config import Settings
from neuropose.datadir.lock import ExclusiveLock, LockHeldError
from neuropose.datadir.status import read_status, write_aggregate_status
from neuropose.errors import InvalidDocumentError, ResourceError
from neuropose.interfacer.interfacer import Interfacer
from neuropose.io import TEMP_FILE_PATTERN, load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry


def run_once(settings: Settings, processor: FakeProcessor | None = None) -> Interfacer:
    daemon = Interfacer(settings, lambda: processor or FakeProcessor(), once=True)
    daemon.run()
    return daemon


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]


def test_completes_jobs_with_ground_truth_results(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    job_dir = add_job("walk1", frames=(12, 7))
    daemon = run_once(make_settings())
    assert daemon.summary.completed == ["walk1"]
    results = load_model(data_dir / "out" / "walk1" / "results.json", JobResults)
    assert [v.video for v in results.videos] == ["v0.mp4", "v1.mp4"]
    for v in results.videos:
        np.testing.assert_array_equal(v.poses3d, expected(job_dir / v.video))
    entry = read_status(data_dir).jobs["walk1"]
    assert entry.state is JobState.COMPLETED
    assert entry.attempts == 1
    assert [h.outcome for h in entry.history] == [JobState.COMPLETED]
    assert (entry.frames_done, entry.frames_expected) == (19, 19)
    assert [(v.name, v.frames_done, v.state) for v in entry.videos] == [
        ("v0.mp4", 12, JobState.COMPLETED),
        ("v1.mp4", 7, JobState.COMPLETED),
    ]
    assert entry.results_path == "out/walk1/results.json"
    assert not (data_dir / "out" / "walk1" / "partial").exists()
    assert job_dir.is_dir()  # inputs are kept
    assert temp_files(data_dir) == []
    # A second run does not process the completed job again.
    again = run_once(make_settings())
    assert again.summary.completed == []


def test_jobs_are_processed_oldest_arrival_first(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    # Names sort opposite to arrival; arrival = directory ctime.
    for name in ("c_first", "b_second", "a_third"):
        add_job(name, frames=(2,))
        os.utime(data_dir / "in" / name)  # bump ctime in arrival order
    order = run_once(make_settings()).summary.completed
    assert order == ["c_first", "b_second", "a_third"]


def test_bad_job_fails_with_typed_error_and_is_quarantined(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    bad = add_job("bad", frames=(3,))
    (bad / "v0.mp4").write_bytes(b"BAD" + bytes(200))
    empty = data_dir / "in" / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no video here")
    add_job("good", frames=(4,))
    daemon = run_once(make_settings())
    assert daemon.summary.completed == ["good"]
    assert sorted(daemon.summary.failed) == ["bad", "empty"]
    jobs = read_status(data_dir).jobs
    assert jobs["bad"].error == "FakeUndecodableError: v0.mp4: cannot decode (starts with BAD)"
    assert jobs["empty"].error is not None
    assert jobs["empty"].error.startswith("NoVideosError: job 'empty' has no video files")
    assert (data_dir / "failed" / "bad" / "v0.mp4").is_file()
    assert (data_dir / "failed" / "empty" / "notes.txt").is_file()
    assert not (data_dir / "in" / "bad").exists()
    assert jobs["bad"].history[-1].outcome is JobState.FAILED


def test_partial_and_marker_rules(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    copying = add_job("copying", frames=(3,))
    (copying / "v1.mp4.part").write_bytes(b"x" * 10)
    add_job(".staging-like", frames=(3,))
    add_job("ready", frames=(3,))
    (data_dir / "in" / "ready" / "READY").touch()
    add_job("unmarked", frames=(3,))
    daemon = run_once(make_settings(require_ready_marker=True))
    assert daemon.summary.completed == ["ready"]
    jobs = read_status(data_dir).jobs
    assert jobs["copying"].state is JobState.QUEUED
    assert jobs["unmarked"].state is JobState.QUEUED
    assert ".staging-like" not in jobs


def test_settle_time_delays_recent_jobs(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("fresh", frames=(3,))
    assert run_once(make_settings(settle_seconds=60)).summary.completed == []
    old = 1_000_000_000
    for p in (data_dir / "in" / "fresh").iterdir():
        os.utime(p, (old, old))
    os.utime(data_dir / "in" / "fresh", (old, old))
    assert run_once(make_settings(settle_seconds=60)).summary.completed == ["fresh"]


def test_crash_recovery_resumes_from_checkpoint_with_attempt_plus_one(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    job_dir = add_job("crashy", frames=(12, 7))
    # Simulate a daemon (pid 999999) that died mid-video after a checkpoint at frame 5.
    from tests.interfacer.fake_processor import FakeCheckpoint, frame_sums

    partial = data_dir / "out" / "crashy" / "partial"
    partial.mkdir(parents=True)
    sums = frame_sums(job_dir / "v0.mp4")
    size = (job_dir / "v0.mp4").stat().st_size
    (partial / "v0.mp4.ckpt.json").write_text(
        FakeCheckpoint(input_size=size, next_frame=5, sums=sums[:5]).model_dump_json()
    )
    (partial / ".v0.mp4.ckpt.json.0123456789abcdef.tmp").write_text("{half")
    crashed = JobStatusEntry(
        job_id="crashy",
        state=JobState.PROCESSING,
        attempts=1,
        history=(AttemptRecord(attempt=1, started_at="2026-01-01T00:00:00Z", pid=999999),),
        last_update="2026-01-01T00:00:01Z",
    )
    write_aggregate_status(data_dir, {"crashy": crashed})

    seen: list[int] = []

    class Recording(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            seen.append(kw["resume"].next_frame if kw["resume"] is not None else 0)
            return super().process_video(path, **kw)

    run_once(make_settings(), Recording())
    assert seen == [5, 0]  # v0 resumed at frame 5, v1 from its start
    entry = read_status(data_dir).jobs["crashy"]
    assert entry.state is JobState.COMPLETED
    assert entry.attempts == 2
    assert [h.outcome for h in entry.history] == [None, JobState.COMPLETED]
    assert entry.history[0].error == "daemon stopped"
    results = load_model(data_dir / "out" / "crashy" / "results.json", JobResults)
    np.testing.assert_array_equal(results.videos[0].poses3d, expected(job_dir / "v0.mp4"))
    assert temp_files(data_dir) == []


def test_poison_job_is_quarantined_after_max_attempts(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("poison", frames=(3,))
    history = tuple(
        AttemptRecord(attempt=i, started_at="2026-01-01T00:00:00Z", pid=1000 + i) for i in (1, 2)
    )
    write_aggregate_status(
        data_dir,
        {
            "poison": JobStatusEntry(
                job_id="poison",
                state=JobState.PROCESSING,
                attempts=2,
                history=history,
                last_update="2026-01-01T00:00:00Z",
            )
        },
    )
    daemon = run_once(make_settings(max_attempts=2))
    assert daemon.summary.failed == ["poison"]
    entry = read_status(data_dir).jobs["poison"]
    assert entry.state is JobState.FAILED
    assert entry.error is not None
    assert entry.error.startswith("PoisonJobError: job 'poison' stopped the daemon 2 times")
    assert (data_dir / "failed" / "poison").is_dir()
    assert entry.attempts == 2


def test_corrupt_status_refuses_to_start_and_changes_nothing(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("a", frames=(3,))
    (data_dir / "out").mkdir()
    (data_dir / "status.json").write_text('{"jobs": {"a": ')
    with pytest.raises(InvalidDocumentError, match=r"refusing to start: .*status.json: not valid"):
        run_once(make_settings())
    assert (data_dir / "status.json").read_text() == '{"jobs": {"a": '
    assert not (data_dir / "out" / "a").exists()


def test_second_daemon_is_refused_naming_the_holder(
    data_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    with (
        ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"),
        pytest.raises(LockHeldError, match=rf"held by pid {os.getpid()} on .*neuropose watch"),
    ):
        run_once(make_settings())


def test_results_write_enospc_fails_job_consistently(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_job("full", frames=(6,))
    add_job("next", frames=(2,))
    os.utime(data_dir / "in" / "next")
    import neuropose.interfacer.jobrun as mod

    real = mod.write_model_atomic

    def enospc(path, model, **kw):  # type: ignore[no-untyped-def]
        if Path(path).name == "results.json" and Path(path).parent.name == "full":
            raise OSError(28, "No space left on device", str(path))
        return real(path, model, **kw)

    monkeypatch.setattr(mod, "write_model_atomic", enospc)
    daemon = run_once(make_settings())
    assert daemon.summary.failed == ["full"]
    assert daemon.summary.completed == ["next"]
    entry = read_status(data_dir).jobs["full"]
    assert entry.error is not None
    assert entry.error.startswith("OSError: [Errno 28] No space left on device")
    assert not (data_dir / "out" / "full" / "results.json").exists()
    assert (data_dir / "failed" / "full").is_dir()
    assert temp_files(data_dir) == []


def test_status_write_eacces_stops_daemon_with_status_intact(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_job("job", frames=(6,))
    import neuropose.datadir.status as status_mod

    real = status_mod.write_model_atomic
    calls = {"n": 0}

    def eacces(path, model, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 3:  # queued + processing writes succeed, later ones fail
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, model, **kw)

    monkeypatch.setattr(status_mod, "write_model_atomic", eacces)
    with pytest.raises(ResourceError, match=r"cannot write job status .*Permission denied"):
        run_once(make_settings())
    monkeypatch.setattr(status_mod, "write_model_atomic", real)
    entry = read_status(data_dir).jobs["job"]  # still parses
    assert entry.state is JobState.PROCESSING
    assert temp_files(data_dir) == []
    # Permissions fixed: the restart treats it as a crash and completes it.
    daemon = run_once(make_settings())
    assert daemon.summary.completed == ["job"]
    assert read_status(data_dir).jobs["job"].attempts == 2


def test_job_deleted_while_processing_fails_without_partial_output(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("doomed", frames=(10, 10))
    add_job("after", frames=(2,))
    os.utime(data_dir / "in" / "after")

    class Deleting(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            result = super().process_video(path, **kw)
            if path.parent.name == "doomed":
                shutil.rmtree(path.parent)
            return result

    daemon = run_once(make_settings(), Deleting())
    assert daemon.summary.failed == ["doomed"]
    assert daemon.summary.completed == ["after"]
    entry = read_status(data_dir).jobs["doomed"]
    assert entry.error is not None
    assert entry.error.startswith("JobVanishedError: in/doomed was removed")
    assert not (data_dir / "out" / "doomed" / "results.json").exists()
    assert not (data_dir / "failed" / "doomed").exists()


def test_heartbeat_writes_only_the_live_file(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("slow", frames=(8,))
    snapshots: list[dict[str, object]] = []
    agg = data_dir / "status.json"

    class Watching(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            before = agg.stat().st_mtime_ns
            result = super().process_video(path, **kw)
            snapshots.append(json.loads((data_dir / "out" / "slow" / "status.json").read_text()))
            assert agg.stat().st_mtime_ns == before  # no aggregate rewrite mid-video
            return result

    daemon = Interfacer(make_settings(), lambda: Watching(cost_s=0.05), once=True, heartbeat_s=0.1)
    daemon.run()
    live = snapshots[0]
    assert live["state"] == "processing"
    assert live["current_video"] == "v0.mp4"
    assert live["frames_expected"] == 8
    assert live["fps"] is not None and 5 < live["fps"] < 25  # 0.05 s per frame
    assert read_status(data_dir).jobs["slow"].state is JobState.COMPLETED


def test_retry_reuses_finished_videos_of_a_failed_job(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    from tests.interfacer.fake_processor import write_fake_video

    from neuropose.datadir.operations import retry_job

    job = add_job("half", frames=(9, 4))
    (job / "v1.mp4").write_bytes(b"BAD" + bytes(300))
    run_once(make_settings())
    partial = data_dir / "out" / "half" / "partial" / "v0.mp4.pred.json"
    envelope = load_model(partial, JobResults)  # versioned envelope around one video
    assert (envelope.schema_version, envelope.videos[0].num_frames) == (
        JobResults.SCHEMA_VERSION,
        9,
    )
    write_fake_video(data_dir / "failed" / "half" / "v1.mp4", 4, seed=5)
    retry_job(data_dir, "half")
    processed: list[str] = []

    class Recording(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            processed.append(path.name)
            return super().process_video(path, **kw)

    run_once(make_settings(), Recording())
    assert processed == ["v1.mp4"]  # v0 came from its finished partial result
    results = load_model(data_dir / "out" / "half" / "results.json", JobResults)
    np.testing.assert_array_equal(
        results.videos[0].poses3d, expected(data_dir / "in" / "half" / "v0.mp4")
    )
    np.testing.assert_array_equal(
        results.videos[1].poses3d, expected(data_dir / "in" / "half" / "v1.mp4")
    )


def test_changed_input_discards_its_stale_partial_result(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    from tests.interfacer.fake_processor import write_fake_video

    from neuropose.datadir.operations import retry_job

    job = add_job("edit", frames=(6, 3))
    (job / "v1.mp4").write_bytes(b"BAD" + bytes(300))
    run_once(make_settings())
    # The operator replaces BOTH files before retrying: v0's old result must not be reused.
    write_fake_video(data_dir / "failed" / "edit" / "v0.mp4", 8, seed=9)
    write_fake_video(data_dir / "failed" / "edit" / "v1.mp4", 3, seed=10)
    retry_job(data_dir, "edit")
    run_once(make_settings())
    results = load_model(data_dir / "out" / "edit" / "results.json", JobResults)
    assert results.videos[0].num_frames == 8
    np.testing.assert_array_equal(
        results.videos[0].poses3d, expected(data_dir / "in" / "edit" / "v0.mp4")
    )


def test_start_checks_refuse_a_nearly_full_disk(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import neuropose.interfacer.doctor as doctor

    add_job("a", frames=(2,))
    monkeypatch.setattr(
        doctor.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**12, 10**12, 10**6)
    )
    with pytest.raises(ResourceError, match=r"free disk: 0.00 GiB free on .*need 0.50 GiB"):
        run_once(make_settings())
    assert not (data_dir / "out" / "a").exists()


def test_failed_job_that_cannot_be_quarantined_is_not_retried_in_a_loop(
    data_dir: Path,
    make_settings: Callable[..., Settings],
    add_job: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import neuropose.interfacer.jobrun as mod

    bad = add_job("stuck", frames=(3,))
    (bad / "v0.mp4").write_bytes(b"BAD" + bytes(100))
    add_job("fine", frames=(2,))
    os.utime(data_dir / "in" / "fine")
    real_rename = os.rename

    def no_rename_to_failed(src, dst):  # type: ignore[no-untyped-def]
        if "failed" in Path(dst).parts:
            raise PermissionError(13, "Permission denied", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(mod.os, "rename", no_rename_to_failed)
    calls: list[str] = []

    class Counting(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            calls.append(path.parent.name)
            return super().process_video(path, **kw)

    daemon = run_once(make_settings(), Counting())
    assert calls == ["stuck", "fine"]
    assert daemon.summary.failed == ["stuck"]
    assert read_status(data_dir).jobs["stuck"].state is JobState.FAILED
    assert (data_dir / "in" / "stuck").is_dir()


def test_signal_handlers_are_installed_only_while_running(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    import signal

    add_job("a", frames=(2,))
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    during: dict[int, object] = {}

    class Peeking(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            during.update({s: signal.getsignal(s) for s in before})
            return super().process_video(path, **kw)

    run_once(make_settings(), Peeking())
    assert all(during[s] is not before[s] for s in before)  # the daemon's own handlers
    assert {s: signal.getsignal(s) for s in before} == before  # restored on exit


def test_leftover_checkpoints_of_a_completed_job_are_removed_at_start(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("done", frames=(3,))
    run_once(make_settings())
    # As if the daemon was killed while deleting the job's checkpoints.
    leftover = data_dir / "out" / "done" / "partial"
    leftover.mkdir()
    (leftover / "v0.mp4.ckpt.json").write_text("{}")
    run_once(make_settings())
    assert not leftover.exists()
    assert (data_dir / "out" / "done" / "results.json").is_file()


def test_crash_after_results_before_completed_is_recorded_without_reprocessing(
    data_dir: Path, make_settings: Callable[..., Settings], add_job: Callable[..., Path]
) -> None:
    add_job("almost", frames=(4,))
    run_once(make_settings())
    results_before = (data_dir / "out" / "almost" / "results.json").read_bytes()
    # Rewind the status to "processing, attempt 2 without outcome" as if the
    # daemon died right after writing results.json.
    done = read_status(data_dir).jobs["almost"]
    crashed = done.model_copy(
        update={
            "state": JobState.PROCESSING,
            "attempts": 2,
            "history": (
                *done.history,
                AttemptRecord(attempt=2, started_at="2026-01-01T00:00:00Z", pid=999999),
            ),
        }
    )
    (data_dir / "out" / "almost" / "status.json").unlink()
    write_aggregate_status(data_dir, {"almost": crashed})
    calls: list[str] = []

    class Counting(FakeProcessor):
        def process_video(self, path, **kw):  # type: ignore[no-untyped-def,override]
            calls.append(path.name)
            return super().process_video(path, **kw)

    run_once(make_settings(), Counting())
    assert calls == []
    entry = read_status(data_dir).jobs["almost"]
    assert entry.state is JobState.COMPLETED
    assert entry.attempts == 2
    assert [h.outcome for h in entry.history] == [JobState.COMPLETED, JobState.COMPLETED]
    assert (data_dir / "out" / "almost" / "results.json").read_bytes() == results_before
