"""What a user gets from ingest: job directories, names, reports, force, modes, CLI output."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import zipfile
from pathlib import Path

import pytest
from tests.ingest.zipcraft import Member, build_zip, tree_state

from neuropose.cli import main
from neuropose.ingest import (
    IngestBusyError,
    IngestError,
    IngestReport,
    JobCollisionError,
    SkipReason,
    clean_staging,
    ingest_archive,
    ingest_paths,
)


def _job_files(data_dir: Path, job: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (data_dir / "in" / job).iterdir()}


def test_one_job_per_video_named_after_its_path(data_dir: Path, src_dir: Path) -> None:
    archive = build_zip(
        src_dir / "batch.zip",
        [
            Member("patient_001/", mode=0o40755),
            Member("patient_001/trial_01.mp4", b"T1" * 100, zipfile.ZIP_DEFLATED),
            Member("patient_001/trial_02.MOV", b"T2" * 50),
            Member("Patient 02/walk (fast).avi", b"W"),
            Member("patient_001/notes.txt", b"notes"),
            Member("patient_001/.DS_Store", b"x"),
            Member("__MACOSX/patient_001/._trial_01.mp4", b"apple"),
            Member("more.zip", b"PK\x05\x06" + bytes(18)),
        ],
    )
    report = ingest_archive(archive, data_dir)

    assert [j.name for j in report.jobs] == [
        "Patient_02_walk__fast_",
        "patient_001_trial_01",
        "patient_001_trial_02",
    ]
    assert _job_files(data_dir, "patient_001_trial_01") == {
        "trial_01.mp4": b"T1" * 100,
        "READY": b"",
    }
    assert _job_files(data_dir, "patient_001_trial_02") == {
        "trial_02.MOV": b"T2" * 50,
        "READY": b"",
    }
    assert _job_files(data_dir, "Patient_02_walk__fast_") == {"walk__fast_.avi": b"W", "READY": b""}
    first = report.jobs[1]
    assert first.path == "in/patient_001_trial_01"
    assert [(v.source, v.file, v.size_bytes) for v in first.videos] == [
        ("patient_001/trial_01.mp4", "trial_01.mp4", 200)
    ]
    assert [(s.member, s.reason) for s in report.skipped] == [
        ("patient_001/notes.txt", SkipReason.NOT_VIDEO),
        ("patient_001/.DS_Store", SkipReason.HIDDEN),
        ("__MACOSX/patient_001/._trial_01.mp4", SkipReason.HIDDEN),
        ("more.zip", SkipReason.NESTED_ARCHIVE),
    ]
    assert report.bytes_written == 200 + 100 + 1
    # nothing but the new jobs appeared; the nested archive was not expanded anywhere
    assert sorted(os.listdir(data_dir / "in")) == sorted(
        ["queued_job", *(j.name for j in report.jobs)]
    )
    assert sorted(os.listdir(data_dir)) == ["failed", "in", "out", "status.json"]


def test_job_option_puts_all_videos_in_one_job(data_dir: Path, src_dir: Path) -> None:
    archive = build_zip(
        src_dir / "s.zip", [Member("p1/trial.mp4", b"a"), Member("p2/trial.mp4", b"bb")]
    )
    report = ingest_archive(archive, data_dir, job="session_7")
    assert [j.name for j in report.jobs] == ["session_7"]
    assert _job_files(data_dir, "session_7") == {
        "p1_trial.mp4": b"a",
        "p2_trial.mp4": b"bb",
        "READY": b"",
    }
    assert report.jobs[0].size_bytes == 3


def test_invalid_job_option_is_refused(data_dir: Path, src_dir: Path) -> None:
    archive = build_zip(src_dir / "s.zip", [Member("a.mp4")])
    with pytest.raises(IngestError, match=r"invalid job name '\.\./x'"):
        ingest_archive(archive, data_dir, job="../x")


def test_utf8_names_without_the_flag_are_accepted(data_dir: Path, src_dir: Path) -> None:
    # macOS Archive Utility writes UTF-8 names without setting flag bit 11.
    from tests.ingest.zipcraft import patch_member

    archive = build_zip(src_dir / "u.zip", [Member("caf\u00e9.mp4", b"v")])
    patch_member(archive, 0, clear_flags=0x800)
    report = ingest_archive(archive, data_dir)
    assert [(j.name, j.videos[0].source) for j in report.jobs] == [("caf_", "caf\u00e9.mp4")]


def test_force_replaces_exactly_the_named_jobs(data_dir: Path, src_dir: Path) -> None:
    (data_dir / "failed" / "done_job").mkdir()
    (data_dir / "failed" / "other").mkdir()
    archive = build_zip(
        src_dir / "f.zip", [Member("queued_job.mp4", b"new1"), Member("done_job.mp4", b"new2")]
    )
    with pytest.raises(JobCollisionError):
        ingest_archive(archive, data_dir)
    report = ingest_archive(archive, data_dir, force=True)
    replaced = {j.name: (j.replaced, j.previous_state) for j in report.jobs}
    assert replaced == {
        "done_job": (("out/done_job", "failed/done_job"), "completed"),
        "queued_job": (("in/queued_job",), None),
    }
    assert _job_files(data_dir, "queued_job") == {"queued_job.mp4": b"new1", "READY": b""}
    assert not (data_dir / "out" / "done_job").exists()
    assert (data_dir / "failed" / "other").is_dir()
    assert (data_dir / "status.json").is_file()


def test_folder_copy_names_jobs_relative_to_the_folder(data_dir: Path, src_dir: Path) -> None:
    batch = src_dir / "batch"
    (batch / "patient_001").mkdir(parents=True)
    (batch / "patient_001" / "trial_01.mp4").write_bytes(b"one")
    (batch / "patient_001" / "readme.md").write_text("hi")
    os.symlink("/etc/passwd", batch / "patient_001" / "link.mp4")
    single = src_dir / "solo.mkv"
    single.write_bytes(b"solo")
    report = ingest_paths([batch, single], data_dir)
    assert [j.name for j in report.jobs] == ["patient_001_trial_01", "solo"]
    assert _job_files(data_dir, "solo") == {"solo.mkv": b"solo", "READY": b""}
    reasons = {Path(s.member).name: s.reason for s in report.skipped}
    assert reasons == {"link.mp4": SkipReason.SYMLINK, "readme.md": SkipReason.NOT_VIDEO}
    assert single.read_bytes() == b"solo"  # copy leaves the source alone
    assert report.mode == "copy"


def test_move_removes_sources_only_after_placing(data_dir: Path, src_dir: Path) -> None:
    a = src_dir / "a.mp4"
    a.write_bytes(b"aaa")
    report = ingest_paths([a], data_dir, mode="move")
    assert not a.exists()
    assert _job_files(data_dir, "a") == {"a.mp4": b"aaa", "READY": b""}
    assert report.mode == "move"
    # A refused move keeps the source.
    b = src_dir / "queued_job.mp4"
    b.write_bytes(b"bbb")
    with pytest.raises(JobCollisionError):
        ingest_paths([b], data_dir, mode="move")
    assert b.read_bytes() == b"bbb"


def test_link_mode_hard_links(data_dir: Path, src_dir: Path) -> None:
    a = src_dir / "a.webm"
    a.write_bytes(b"linked")
    report = ingest_paths([a], data_dir, mode="link")
    placed = data_dir / "in" / "a" / "a.webm"
    assert placed.stat().st_ino == a.stat().st_ino
    assert report.bytes_written == 0


def test_zero_byte_video_in_folder_is_refused(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    (src_dir / "ok.mp4").write_bytes(b"v")
    (src_dir / "empty.mp4").write_bytes(b"")
    before = tree_state(tmp_path)
    with pytest.raises(IngestError, match=r"empty.mp4 is a zero-byte video"):
        ingest_paths([src_dir], data_dir)
    assert tree_state(tmp_path) == before


def test_progress_reports_every_byte(data_dir: Path, src_dir: Path) -> None:
    sizes = [3 * 1024 * 1024 + 7, 10, 1024 * 1024]
    archive = build_zip(
        src_dir / "p.zip", [Member(f"v{i}.mp4", os.urandom(n)) for i, n in enumerate(sizes)]
    )
    calls: list[tuple[int, int]] = []
    ingest_archive(archive, data_dir, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (sum(sizes), sum(sizes))
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(calls))


def test_leftovers_are_cleaned_unless_an_ingest_holds_the_lock(
    data_dir: Path, src_dir: Path
) -> None:
    stale = data_dir / ".staging" / "ingest-1-dead" / "jobs" / "half"
    stale.mkdir(parents=True)
    (stale / "part.mp4").write_bytes(b"partial")
    lock_path = data_dir / ".staging" / "ingest.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a running ingest
        assert clean_staging(data_dir) == []
        assert stale.is_dir()
        archive = build_zip(src_dir / "x.zip", [Member("x.mp4")])
        with pytest.raises(IngestBusyError, match="another ingest is running"):
            ingest_archive(archive, data_dir)
    finally:
        os.close(fd)
    assert clean_staging(data_dir) == [data_dir / ".staging" / "ingest-1-dead"]
    assert not (data_dir / ".staging").exists()
    assert clean_staging(data_dir) == []


def test_ingest_cleans_leftovers_first(data_dir: Path, src_dir: Path) -> None:
    stale = data_dir / ".staging" / "ingest-9-dead"
    stale.mkdir(parents=True)
    archive = build_zip(src_dir / "x.zip", [Member("x.mp4")])
    report = ingest_archive(archive, data_dir)
    assert report.cleaned_staging == (str(stale),)
    assert not (data_dir / ".staging").exists()


def test_cli_table_output(
    data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = build_zip(
        src_dir / "t.zip", [Member("p/trial_01.mp4", b"x" * 2048), Member("p/notes.txt")]
    )
    assert main(["ingest", str(archive), "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "p_trial_01" in out and "trial_01.mp4" in out and "2 KiB" in out
    assert "p/notes.txt" in out and "not a video" in out
    assert "1 job(s), 1 video(s), 2 KiB written (extract); 1 skipped" in out


def test_cli_json_output_is_a_valid_report(
    data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = src_dir / "f"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"abc")
    code = main(["ingest", str(folder), "--data-dir", str(data_dir), "--json", "--job", "j1"])
    assert code == 0
    report = IngestReport.model_validate_json(capsys.readouterr().out)
    assert [(j.name, [(v.file, v.size_bytes) for v in j.videos]) for j in report.jobs] == [
        ("j1", [("a.mp4", 3)])
    ]
    assert json.loads(report.model_dump_json())["mode"] == "copy"


def test_cli_usage_errors(
    data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = build_zip(src_dir / "t.zip", [Member("a.mp4")])
    assert main(["ingest", str(archive), str(src_dir), "--data-dir", str(data_dir)]) == 2
    assert "one .zip archive at a time" in capsys.readouterr().err
    assert main(["ingest", str(src_dir), "--move", "--link", "--data-dir", str(data_dir)]) == 2
    assert main(["ingest", str(src_dir / "missing"), "--data-dir", str(data_dir)]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_job_appearing_during_ingest_rolls_everything_back(data_dir: Path, src_dir: Path) -> None:
    # Another program creates in/zz while ingest extracts; placement must refuse to
    # replace it and undo the jobs already placed, including a forced replacement.
    archive = build_zip(
        src_dir / "r.zip",
        [Member("aa.mp4", b"a"), Member("queued_job.mp4", b"new"), Member("zz.mp4", b"z")],
    )

    def intruder(done: int, total: int) -> None:
        (data_dir / "in" / "zz").mkdir(exist_ok=True)

    with pytest.raises(JobCollisionError, match=r"in/zz appeared while ingesting"):
        ingest_archive(archive, data_dir, force=True, progress=intruder)
    assert sorted(os.listdir(data_dir / "in")) == ["queued_job", "zz"]
    assert _job_files(data_dir, "queued_job") == {"walk.mp4": b"queued video"}
    assert os.listdir(data_dir / "in" / "zz") == []
    assert not (data_dir / ".staging").exists()


def test_data_dir_inside_a_source_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"v")
    with pytest.raises(IngestError, match=r"would queue the queue itself"):
        ingest_paths([tmp_path], tmp_path / "data")
    (tmp_path / "data" / "in" / "j").mkdir(parents=True)
    (tmp_path / "data" / "in" / "j" / "v.mp4").write_bytes(b"v")
    with pytest.raises(IngestError, match=r"is inside the data directory"):
        ingest_paths([tmp_path / "data" / "in" / "j"], tmp_path / "data")


def test_source_file_growing_during_ingest_is_refused(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    a = src_dir / "a.mp4"
    b = src_dir / "b.mp4"
    a.write_bytes(b"a" * 100)
    b.write_bytes(b"b" * 100)

    def still_copying(done: int, total: int) -> None:
        with b.open("ab") as f:  # a camera or copy tool still writing b.mp4
            f.write(b"more")

    with pytest.raises(IngestError, match=r"b.mp4 changed size while being ingested"):
        ingest_paths([a, b], data_dir, progress=still_copying)
    assert sorted(os.listdir(data_dir / "in")) == ["queued_job"]
    assert not (data_dir / ".staging").exists()


@pytest.fixture
def other_filesystem(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A scratch folder on another filesystem than ``tmp_path`` (``/dev/shm``), or skip."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem (/dev/shm) to test cross-filesystem moves")
    d = Path(tempfile.mkdtemp(prefix="np-ingest-", dir=shm))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_across_filesystems_link_is_refused_and_move_copies(
    tmp_path: Path, data_dir: Path, other_filesystem: Path
) -> None:
    src = other_filesystem / "far.mp4"
    src.write_bytes(b"far away" * 1000)
    before = tree_state(tmp_path)
    with pytest.raises(
        IngestError, match=r"(?s)cannot hard-link .*far.mp4.*cross-device.*use copy"
    ):
        ingest_paths([src], data_dir, mode="link")
    assert tree_state(tmp_path) == before
    report = ingest_paths([src], data_dir, mode="move")
    assert not src.exists()
    assert _job_files(data_dir, "far") == {"far.mp4": b"far away" * 1000, "READY": b""}
    assert report.bytes_written == 8000


def test_dry_run_reports_the_jobs_and_writes_nothing(
    tmp_path: Path, data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = build_zip(
        src_dir / "d.zip",
        [Member("p/t1.mp4", b"1" * 10), Member("queued_job.mp4", b"2"), Member("n.txt")],
    )
    before = tree_state(tmp_path)
    with pytest.raises(JobCollisionError):
        ingest_archive(archive, data_dir, dry_run=True)
    report = ingest_archive(archive, data_dir, force=True, dry_run=True)
    assert report.dry_run and report.bytes_written == 0
    assert [(j.name, j.replaced) for j in report.jobs] == [
        ("p_t1", ()),
        ("queued_job", ("in/queued_job",)),
    ]
    assert main(["ingest", str(archive), "--data-dir", str(data_dir), "--force", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would replace queued_job: would remove in/queued_job" in out
    assert "dry run: 2 job(s), 2 video(s), 11 B would be written (extract); 1 skipped" in out
    assert tree_state(tmp_path) == before


def test_dry_run_reads_all_data_and_catches_lying_sizes(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    from tests.ingest.zipcraft import patch_member

    archive = build_zip(src_dir / "l.zip", [Member("liar.mp4", bytes(1 << 20), 8)])
    patch_member(archive, 0, file_size=1000)
    before = tree_state(tmp_path)
    with pytest.raises(IngestError, match=r"'liar.mp4' is corrupt or its header lies"):
        ingest_archive(archive, data_dir, dry_run=True)
    assert tree_state(tmp_path) == before
