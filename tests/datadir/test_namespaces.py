"""Job names never collide with the daemon's own files; old data directories migrate.

Real subprocesses throughout: ``neuropose ingest DIR`` then ``neuropose watch
--once`` with the fake processor (``tests/interfacer/fake_processor.py``,
ground truth from ``fake_processor.expected``). The names below are exactly
those of the daemon's files and folders; before the namespaces were split,
``status.json.mp4`` became job ``status.json``, took the place of
``out/status.json`` and stopped every later daemon start.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tests.interfacer.conftest import FAKE_SPEC, daemon_env, neuropose_cmd
from tests.interfacer.fake_processor import expected, write_fake_video

from neuropose.datadir import DataDir, read_status, write_aggregate_status
from neuropose.io import load_model
from neuropose.schemas import JobResults, JobState, JobStatusEntry
from neuropose.timefmt import utc_now

__all__ = ["daemon_env"]  # the fixture, imported for this module

#: Video names equal to the daemon's files and folders (each becomes that job name).
DAEMON_NAMES = (
    "status.json",
    "results.json",
    "partial",
    "neuropose.lock",
    "failed",
    "in",
    "out",
    "visualize",
    "READY",
    "ingest.lock",
)


def _run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        neuropose_cmd(*args), env=env, capture_output=True, text=True, timeout=timeout
    )


def _watch_once(env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return _run(env, "watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_SPEC)


def _assert_results_match(data_dir: Path, job: str, source: Path) -> None:
    results = load_model(DataDir(data_dir).job(job).results, JobResults)
    assert [v.video for v in results.videos] == [source.name]
    np.testing.assert_array_equal(results.videos[0].poses3d[:, 0], expected(source)[:, 0])


@pytest.mark.slow
def test_daemon_file_names_as_videos_are_processed_like_any_job(
    tmp_path: Path, daemon_env: dict[str, str]
) -> None:
    src = tmp_path / "src"
    sources = {
        name: write_fake_video(src / f"{name}.mp4", 4 + i, seed=i)
        for i, name in enumerate(("ok", *DAEMON_NAMES))
    }
    write_fake_video(src / ".staging.mp4", 3, seed=99)  # a hidden file: skipped, reported
    data_dir = tmp_path / "data"

    ingest = _run(daemon_env, "ingest", str(src), "--data-dir", str(data_dir), "--json")
    assert ingest.returncode == 0, ingest.stderr
    report = json.loads(ingest.stdout)
    assert sorted(j["name"] for j in report["jobs"]) == sorted(sources)
    assert [(Path(s["member"]).name, s["reason"]) for s in report["skipped"]] == [
        (".staging.mp4", "hidden file or macOS metadata")
    ]

    first = _watch_once(daemon_env, data_dir)
    assert first.returncode == 0, first.stderr
    status = read_status(data_dir)
    assert {j: e.state for j, e in status.jobs.items()} == dict.fromkeys(
        sources, JobState.COMPLETED
    )
    for job, source in sources.items():
        _assert_results_match(data_dir, job, source)
    # The daemon's own files are where they belong and out/ holds only job folders.
    assert (data_dir / "status.json").is_file() and (data_dir / "neuropose.lock").is_file()
    assert sorted(os.listdir(data_dir / "out")) == sorted(sources)

    # The daemon keeps starting, and status/reset/a new ingest keep working.
    again = _watch_once(daemon_env, data_dir)
    assert again.returncode == 0, again.stderr
    shown = _run(daemon_env, "status", "--data-dir", str(data_dir))
    assert shown.returncode == 0, shown.stderr
    for job in ("status.json", "neuropose.lock", "partial"):
        assert job in shown.stdout
    late = write_fake_video(tmp_path / "late" / "later.mp4", 5, seed=7)
    assert _run(daemon_env, "ingest", str(late), "--data-dir", str(data_dir)).returncode == 0
    assert _watch_once(daemon_env, data_dir).returncode == 0
    assert read_status(data_dir).jobs["later"].state is JobState.COMPLETED


def test_ingest_refuses_a_reserved_job_name_with_the_fix(
    tmp_path: Path, daemon_env: dict[str, str]
) -> None:
    video = write_fake_video(tmp_path / "walk.mp4", 4)
    data_dir = tmp_path / "data"
    res = _run(daemon_env, "ingest", str(video), "--data-dir", str(data_dir), "--job", ".staging")
    assert res.returncode == 2
    assert "invalid job name '.staging'" in res.stderr and "not starting with '.'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (data_dir / "in").exists()


def test_discovery_refuses_a_dot_job_folder_and_keeps_running(
    tmp_path: Path, daemon_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    ok = write_fake_video(data_dir / "in" / "ok" / "v.mp4", 6)
    write_fake_video(data_dir / "in" / ".staging" / "v.mp4", 6)
    res = _watch_once(daemon_env, data_dir)
    assert res.returncode == 0, res.stderr
    assert "in/.staging" in res.stderr and "reserved for work in progress" in res.stderr
    assert "rename" in res.stderr
    assert list(read_status(data_dir).jobs) == ["ok"]
    _assert_results_match(data_dir, "ok", ok)
    assert not (data_dir / "out" / ".staging").exists()


def _old_layout(data_dir: Path) -> dict[str, Path]:
    """An old-layout data directory: aggregate at out/status.json, one completed job
    (with results), one queued job whose status says so, one job never seen."""
    sources = {
        "queued_old": write_fake_video(data_dir / "in" / "queued_old" / "a.mp4", 5, seed=1),
        "new_job": write_fake_video(data_dir / "in" / "new_job" / "b.mp4", 7, seed=2),
    }
    now = utc_now()
    done = JobStatusEntry(
        job_id="done_old",
        state=JobState.COMPLETED,
        queued_at=now,
        finished_at=now,
        last_update=now,
        results_path="out/done_old/results.json",
    )
    queued = JobStatusEntry(
        job_id="queued_old", state=JobState.QUEUED, queued_at=now, last_update=now
    )
    # Written with today's writer, then moved to where the old layout kept it.
    write_aggregate_status(data_dir, {"done_old": done, "queued_old": queued})
    (data_dir / "out").mkdir(parents=True, exist_ok=True)
    os.rename(data_dir / "status.json", data_dir / "out" / "status.json")
    (data_dir / "out" / "done_old").mkdir()
    (data_dir / "out" / "done_old" / "results.json").write_text("kept as is")
    return sources


def test_old_layout_is_readable_then_migrated_on_start_and_its_jobs_complete(
    tmp_path: Path, daemon_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    sources = _old_layout(data_dir)
    before = (data_dir / "out" / "status.json").read_bytes()

    # Readers understand the old layout before any daemon ran.
    shown = _run(daemon_env, "status", "--data-dir", str(data_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    assert sorted(json.loads(shown.stdout)["jobs"]) == ["done_old", "queued_old"]
    assert (data_dir / "out" / "status.json").read_bytes() == before  # reading changes nothing

    res = _watch_once(daemon_env, data_dir)
    assert res.returncode == 0, res.stderr
    assert not (data_dir / "out" / "status.json").exists()
    assert (data_dir / "status.json").is_file()
    jobs = read_status(data_dir).jobs
    assert {j: e.state for j, e in jobs.items()} == {
        "done_old": JobState.COMPLETED,
        "queued_old": JobState.COMPLETED,
        "new_job": JobState.COMPLETED,
    }
    assert jobs["queued_old"].queued_at is not None
    for job, source in sources.items():
        _assert_results_match(data_dir, job, source)
    # The completed job was not processed again.
    assert (data_dir / "out" / "done_old" / "results.json").read_text() == "kept as is"


def test_old_and_new_aggregate_together_refuse_to_start_and_change_nothing(
    tmp_path: Path, daemon_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    _old_layout(data_dir)
    write_aggregate_status(data_dir, {})  # migrates the old file first ...
    (data_dir / "out" / "status.json").write_text((data_dir / "status.json").read_text())
    res = _watch_once(daemon_env, data_dir)  # ... so this one is an older NeuroPose's
    assert res.returncode == 2
    assert "refusing to start" in res.stderr and "out/status.json" in res.stderr
    assert "Traceback" not in res.stderr
    assert (data_dir / "out" / "status.json").is_file() and (data_dir / "status.json").is_file()


@pytest.mark.parametrize("legacy", [True, False], ids=["old-layout", "new-layout"])
def test_ingest_force_never_touches_the_daemon_status_file(
    tmp_path: Path, daemon_env: dict[str, str], legacy: bool
) -> None:
    """The old bug: ``ingest --force`` of a video named ``status.json`` deleted the
    aggregate to make room for the job."""
    data_dir = tmp_path / "data"
    _old_layout(data_dir)
    if not legacy:
        assert _watch_once(daemon_env, data_dir).returncode == 0
    video = write_fake_video(tmp_path / "src" / "status.json.mp4", 4)
    res = _run(daemon_env, "ingest", str(video), "--data-dir", str(data_dir), "--force")
    assert res.returncode == 0, res.stderr
    assert (data_dir / "in" / "status.json" / "status.json.mp4").is_file()
    assert _watch_once(daemon_env, data_dir).returncode == 0
    jobs = read_status(data_dir).jobs
    assert jobs["status.json"].state is JobState.COMPLETED
    assert jobs["done_old"].state is JobState.COMPLETED
    _assert_results_match(data_dir, "status.json", video)
