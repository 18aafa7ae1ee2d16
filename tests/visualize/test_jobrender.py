"""The daemon's render step: done, failed (ffmpeg killed), owed after a crash, redone by retry.

Ground truth: the synthetic 640x480, 30-frame clip and its predictions
(``synth.py``) in a data directory as a completed job ``walk``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.visualize.synth import N, build_predictions, fps_and_count, sha256

from neuropose.datadir.layout import DataDir
from neuropose.interfacer.renders import JobRenders, read_render_record
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas import JobResults, JobState, JobStatusEntry, StatusFile
from neuropose.schemas.render import RenderRecord

JOB = "walk"


def _entry(job: str, state: JobState = JobState.COMPLETED) -> JobStatusEntry:
    return JobStatusEntry(
        job_id=job, state=state, last_update="2026-11-29T18:00:00Z", frames_done=N,
        frames_expected=N, results_path=f"out/{job}/results.json",
    )  # fmt: skip


@pytest.fixture
def layout(tmp_path: Path, unique_video: Path) -> DataDir:
    """A data dir where ``walk`` completed: inputs in in/walk/, results in out/walk/."""
    d = DataDir(tmp_path / "data")
    paths = d.job(JOB)
    paths.input.mkdir(parents=True)
    paths.output.mkdir(parents=True)
    (paths.input / "clip.mp4").write_bytes(unique_video.read_bytes())
    vp = build_predictions(input_sha256=sha256(unique_video))
    write_model_atomic(
        paths.results,
        JobResults(job_id=JOB, created_at="2026-11-29T18:00:00Z", neuropose_version="0",
                   videos=(vp,)),
    )  # fmt: skip
    write_model_atomic(
        d.status, StatusFile(updated_at="2026-11-29T18:00:00Z", jobs={JOB: _entry(JOB)})
    )
    return d


@pytest.fixture
def killed_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ffmpeg that is killed (SIGKILL) as soon as it starts."""
    exe = tmp_path / "ffmpeg-killed"
    exe.write_text("#!/bin/sh\nkill -9 $$\n", "utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    return exe


def test_render_writes_every_visual_and_a_done_record(layout: DataDir) -> None:
    record = JobRenders(layout).render(JOB)
    vis = layout.job(JOB).visualize
    assert record.state == "done" and record.error is None
    assert {"clip.overlay.mp4", "clip.3d.mp4", "clip.confidence.png", "clip.preview.png",
            "clip.quality.json"} <= set(record.files)  # fmt: skip
    assert fps_and_count(vis / "clip.overlay.mp4") == (30.0, N)  # found in in/walk/
    assert load_model(layout.job(JOB).render_record, RenderRecord) == record
    assert [p.name for p in vis.iterdir() if p.name.endswith(".tmp")] == []


def test_killed_overlay_writer_is_recorded_and_never_raises(
    layout: DataDir, killed_ffmpeg: Path
) -> None:
    results_before = layout.job(JOB).results.read_bytes()
    record = JobRenders(layout).render(JOB)
    assert record.state == "failed"
    assert record.error is not None and "ffmpeg" in record.error
    assert read_render_record(layout, JOB) == record
    vis = layout.job(JOB).visualize
    assert not (vis / "clip.overlay.mp4").exists()  # no half-written video
    assert [p.name for p in vis.iterdir() if p.name.endswith(".tmp")] == []
    assert layout.job(JOB).results.read_bytes() == results_before


def test_owed_after_a_crash_but_not_after_a_failure(layout: DataDir) -> None:
    renders = JobRenders(layout)
    entries = [_entry(JOB), _entry("queued", JobState.QUEUED)]
    assert renders.find_owed(entries) == [JOB]  # never rendered
    rec = {"job_id": JOB, "started_at": "2026-11-29T18:00:00Z", "neuropose_version": "0"}
    layout.job(JOB).visualize.mkdir()
    write_model_atomic(layout.job(JOB).render_record, RenderRecord(state="rendering", **rec))
    assert JobRenders(layout).find_owed(entries) == [JOB]  # a crash mid-render
    write_model_atomic(layout.job(JOB).render_record, RenderRecord(state="failed", **rec))
    assert JobRenders(layout).find_owed(entries) == []  # retry --render-only redoes it
    layout.job(JOB).render_record.write_text("{corrupt", "utf-8")
    assert JobRenders(layout).find_owed(entries) == [JOB]
    assert renders.render_next() is True and renders.owed == []
    assert read_render_record(layout, JOB) is not None
    assert read_render_record(layout, JOB).state == "done"  # type: ignore[union-attr]
    assert renders.render_next() is False


def _cli(
    layout: DataDir, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         *args, "--data-dir", str(layout.root)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": REPO_PYTHONPATH, **(env or {})},
    )  # fmt: skip


def test_retry_render_only_redoes_a_failed_render(layout: DataDir, killed_ffmpeg: Path) -> None:
    env = {"IMAGEIO_FFMPEG_EXE": str(killed_ffmpeg)}
    failed = _cli(layout, "retry", JOB, "--render-only", env=env)
    assert failed.returncode == 1, failed.stderr
    assert f"rendering the visuals of {JOB} failed" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert read_render_record(layout, JOB).state == "failed"  # type: ignore[union-attr]
    ok = _cli(layout, "retry", JOB, "--render-only", env={"IMAGEIO_FFMPEG_EXE": ""})
    assert ok.returncode == 0, ok.stderr
    assert "rendered" in ok.stdout and "file(s) into" in ok.stdout
    assert read_render_record(layout, JOB).state == "done"  # type: ignore[union-attr]
    assert fps_and_count(layout.job(JOB).visualize / "clip.overlay.mp4") == (30.0, N)
    # The job itself was never touched: still completed, inputs in place.
    status = load_model(layout.status, StatusFile)
    assert status.jobs[JOB].state is JobState.COMPLETED
    assert (layout.job(JOB).input / "clip.mp4").is_file()


def test_retry_render_only_refuses_jobs_without_results(layout: DataDir) -> None:
    write_model_atomic(
        layout.status,
        StatusFile(updated_at="2026-11-29T18:00:00Z",
                   jobs={JOB: _entry(JOB), "q": _entry("q", JobState.QUEUED)}),
    )  # fmt: skip
    queued = _cli(layout, "retry", "q", "--render-only")
    assert queued.returncode == 2 and "is queued, not completed" in queued.stderr
    unknown = _cli(layout, "retry", "nope", "--render-only")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr
    assert "Traceback" not in queued.stderr + unknown.stderr


def test_full_disk_render_never_raises_and_is_owed_again(
    layout: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    import errno

    import neuropose.io as io_mod

    real = io_mod.atomic_write

    @contextlib.contextmanager
    def full(path: Path | str, **kw: int):  # type: ignore[no-untyped-def]
        if Path(path).parent.name == "visualize":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        with real(path, **kw) as handle:
            yield handle

    monkeypatch.setattr(io_mod, "atomic_write", full)
    record = JobRenders(layout).render(JOB)
    assert record.state == "failed" and "No space left" in str(record.error)
    vis = layout.job(JOB).visualize
    assert sorted(p.name for p in vis.iterdir()) == []  # no record, no lock, no temp file
    monkeypatch.setattr(io_mod, "atomic_write", real)
    assert JobRenders(layout).find_owed([_entry(JOB)]) == [JOB]  # space back: owed again
