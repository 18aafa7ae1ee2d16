"""Hostile-archive corpus: one archive per validation rule, each refused with its message.

Every case asserts that nothing was written anywhere: the whole ``tmp_path``
tree (the data directory, its parent and the archive's folder) is identical
before and after, and no staging directory is left.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.ingest.zipcraft import Member, build_zip, patch_member, tree_state

from neuropose.cli import main
from neuropose.datadir.lock import ExclusiveLock
from neuropose.datadir.status import write_aggregate_status
from neuropose.errors import InvalidDocumentError
from neuropose.ingest import (
    ArchiveLimitError,
    IngestError,
    IngestLimits,
    InsufficientSpaceError,
    JobBusyError,
    JobCollisionError,
    NoVideosError,
    UnsafeArchiveError,
    ingest_archive,
)
from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.timefmt import utc_now

MiB = 1024 * 1024


def _lying_sizes(p: Path) -> Path:
    # 4 MiB of data whose headers claim 1000 bytes (below the ratio exemption).
    build_zip(p, [Member("liar.mp4", bytes(4 * MiB), zipfile.ZIP_DEFLATED)])
    return patch_member(p, 0, file_size=1000)


def _lying_sizes_stored(p: Path) -> Path:
    build_zip(p, [Member("ok.mp4", b"v" * 10), Member("liar.mp4", os.urandom(MiB))])
    return patch_member(p, 1, file_size=1000)


def _encrypted(p: Path) -> Path:
    build_zip(p, [Member("ok.mp4"), Member("secret.mp4")])
    return patch_member(p, 1, set_flags=0x1)


def _latin1_name(p: Path) -> Path:
    build_zip(p, [Member("cafX.mp4")])
    return patch_member(p, 0, raw_name=b"caf\xe9.mp4")


def _bad_utf8_flagged(p: Path) -> Path:
    build_zip(p, [Member("cafX.mp4")])
    return patch_member(p, 0, raw_name=b"caf\xe9.mp4", set_flags=0x800)


# (id, builder, limits, error class, message regex)
CASES: list[tuple[str, Callable[[Path], Path], IngestLimits, type[Exception], str]] = [
    (
        "absolute",
        lambda p: build_zip(p, [Member("ok.mp4"), Member("/etc/cron.d/evil.mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member '/etc/cron.d/evil.mp4' has an absolute path",
    ),
    (
        "dotdot",
        lambda p: build_zip(p, [Member("a/../../evil.mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'a/../../evil.mp4' has a '\.\.' component \(path traversal\)",
    ),
    (
        "backslash",
        lambda p: build_zip(p, [Member("..\\..\\evil.mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"has a backslash in its path",
    ),
    (
        "drive_letter",
        lambda p: build_zip(p, [Member("C:/Windows/evil.mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'C:/Windows/evil.mp4' has a drive-letter path",
    ),
    (
        "control_char",
        lambda p: build_zip(p, [Member("bad\x07name.mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"has control characters in its name",
    ),
    (
        "symlink",
        lambda p: build_zip(
            p, [Member("link.mp4", b"/etc/passwd", mode=stat.S_IFLNK | 0o777), Member("ok.mp4")]
        ),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'link.mp4' is a symbolic link",
    ),
    (
        "device",
        lambda p: build_zip(p, [Member("dev.mp4", mode=stat.S_IFCHR | 0o644)]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'dev.mp4' is a special file",
    ),
    ("encrypted", _encrypted, IngestLimits(), UnsafeArchiveError, r"'secret.mp4' is encrypted"),
    (
        "duplicate",
        lambda p: build_zip(p, [Member("a/t.mp4", b"one"), Member("a/t.mp4", b"two")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'a/t.mp4' appears more than once",
    ),
    (
        "non_utf8_name",
        _latin1_name,
        IngestLimits(),
        UnsafeArchiveError,
        r"member name b'caf\\xe9.mp4' is not valid UTF-8",
    ),
    (
        "utf8_flag_invalid",
        _bad_utf8_flagged,
        IngestLimits(),
        UnsafeArchiveError,
        r"a member name is marked UTF-8 but is not valid UTF-8",
    ),
    (
        "zero_byte_video",
        lambda p: build_zip(p, [Member("ok.mp4"), Member("empty.mov", b"")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'empty.mov' is a zero-byte video",
    ),
    (
        "member_count",
        lambda p: build_zip(p, [Member(f"v{i}.mp4") for i in range(6)]),
        IngestLimits(max_members=5),
        ArchiveLimitError,
        r"6 members exceed the limit of 5",
    ),
    (
        "declared_total",
        lambda p: build_zip(p, [Member("a.mp4", b"x" * 600), Member("b.mp4", b"y" * 600)]),
        IngestLimits(max_total_bytes=1000),
        ArchiveLimitError,
        r"the videos total 1200 bytes .* above the limit of 1000 bytes",
    ),
    (
        "ratio_bomb",
        lambda p: build_zip(p, [Member("bomb.mp4", bytes(16 * MiB), zipfile.ZIP_DEFLATED)]),
        IngestLimits(),
        ArchiveLimitError,
        r"member 'bomb.mp4' has compression ratio \d+:1, above the limit of 200:1",
    ),
    (
        "lying_sizes_deflated",
        _lying_sizes,
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'liar.mp4' is corrupt or its header lies: Bad CRC-32",
    ),
    (
        "lying_sizes_stored",
        _lying_sizes_stored,
        IngestLimits(),
        UnsafeArchiveError,
        r"member 'liar.mp4' is corrupt or its header lies",
    ),
    (
        "nested_archive_only",
        lambda p: build_zip(p, [Member("inner.zip", b"PK\x05\x06" + bytes(18))]),
        IngestLimits(),
        NoVideosError,
        r"no video to ingest; skipped:\n  - inner.zip: nested archive \(not expanded\)",
    ),
    (
        "non_videos_only",
        lambda p: build_zip(p, [Member("notes.txt"), Member("__MACOSX/._a.mp4")]),
        IngestLimits(),
        NoVideosError,
        r"notes.txt: not a video\n  - __MACOSX/._a.mp4: hidden file or macOS metadata",
    ),
    (
        "name_clash_inside",
        lambda p: build_zip(p, [Member("a b.mp4"), Member("a_b.mov")]),
        IngestLimits(),
        JobCollisionError,
        r"'a b.mp4' and 'a_b.mov' both map to job 'a_b'",
    ),
    (
        "name_too_long",
        # Job "p_" + 254 letters: 256 bytes, one more than a file name may have.
        lambda p: build_zip(p, [Member("p/" + "a" * 254 + ".mp4")]),
        IngestLimits(),
        UnsafeArchiveError,
        r"gives a name longer than 255 bytes; use --job NAME",
    ),
    (
        "not_a_zip",
        lambda p: (p.write_bytes(b"this is not a zip"), p)[1],
        IngestLimits(),
        IngestError,
        r"not a valid zip archive",
    ),
]


@pytest.mark.parametrize(
    ("builder", "limits", "error", "match"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_hostile_archive_is_refused_and_nothing_is_written(
    tmp_path: Path,
    data_dir: Path,
    src_dir: Path,
    builder: Callable[[Path], Path],
    limits: IngestLimits,
    error: type[Exception],
    match: str,
) -> None:
    archive = builder(src_dir / "batch.zip")
    before = tree_state(tmp_path)
    with pytest.raises(error, match=match):
        ingest_archive(archive, data_dir, limits=limits)
    assert tree_state(tmp_path) == before
    assert not (data_dir / ".staging").exists()


def test_every_problem_is_listed_at_once(data_dir: Path, src_dir: Path) -> None:
    archive = build_zip(
        src_dir / "many.zip",
        [Member("/abs.mp4"), Member("../up.mp4"), Member("l.mp4", mode=stat.S_IFLNK | 0o777)],
    )
    with pytest.raises(UnsafeArchiveError, match=r"\(3 problems\)") as info:
        ingest_archive(archive, data_dir)
    assert len(info.value.problems) == 3


def test_refused_archive_into_missing_data_dir_creates_nothing(
    tmp_path: Path, src_dir: Path
) -> None:
    archive = _lying_sizes(src_dir / "liar.zip")
    before = tree_state(tmp_path)
    with pytest.raises(UnsafeArchiveError, match=r"liar\.mp4"):
        ingest_archive(archive, tmp_path / "new" / "data")
    assert tree_state(tmp_path) == before


def test_collisions_with_existing_jobs_are_listed_together(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    (data_dir / "failed" / "bad_job").mkdir()
    archive = build_zip(
        src_dir / "c.zip",
        [Member("queued_job.mp4"), Member("done_job.mp4"), Member("bad_job.mp4"), Member("n.mp4")],
    )
    before = tree_state(tmp_path)
    with pytest.raises(JobCollisionError) as info:
        ingest_archive(archive, data_dir)
    text = str(info.value)
    assert "3 job name(s) already exist" in text
    assert "bad_job: exists as failed/bad_job" in text
    assert "done_job: exists as out/done_job, status.json (completed)" in text
    assert "queued_job: exists as in/queued_job" in text
    assert "--force" in text
    assert tree_state(tmp_path) == before


def test_force_never_replaces_a_job_being_processed(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    entry = JobStatusEntry(job_id="busy", state=JobState.PROCESSING, last_update=utc_now())
    write_aggregate_status(data_dir, {"busy": entry})
    (data_dir / "in" / "busy").mkdir()
    archive = build_zip(src_dir / "b.zip", [Member("busy.mp4")])
    before = tree_state(tmp_path)
    with pytest.raises(JobBusyError, match=r"the daemon is processing job.*busy"):
        ingest_archive(archive, data_dir, force=True)
    assert tree_state(tmp_path) == before
    assert main(["ingest", str(archive), "--data-dir", str(data_dir), "--force"]) == 3


def test_not_enough_disk_space_is_refused_before_extracting(
    tmp_path: Path, data_dir: Path, src_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    archive = build_zip(src_dir / "big.zip", [Member("v.mp4", b"x" * 5000)])
    real = shutil.disk_usage

    def tiny(path: object) -> object:
        usage = real(path)  # type: ignore[arg-type]
        return type(usage)(usage.total, usage.total - 1000, 1000)

    monkeypatch.setattr(shutil, "disk_usage", tiny)
    before = tree_state(tmp_path)
    with pytest.raises(InsufficientSpaceError, match=r"1000 B free, but the input needs 4.9 KiB"):
        ingest_archive(archive, data_dir)
    assert main(["ingest", str(archive), "--data-dir", str(data_dir)]) == 4
    assert "error:" in capsys.readouterr().err
    assert tree_state(tmp_path) == before


def test_cli_refusal_prints_one_clear_error_and_exits_2(
    tmp_path: Path, data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = build_zip(src_dir / "t.zip", [Member("../../escape.mp4")])
    before = tree_state(tmp_path)
    code = main(["ingest", str(archive), "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    assert code == 2
    assert "error:" in captured.err
    assert "'..' component" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert tree_state(tmp_path) == before


def test_cli_limit_flags_override_settings(
    data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = build_zip(src_dir / "l.zip", [Member("a.mp4", b"x" * 2048)])
    code = main(["ingest", str(archive), "--data-dir", str(data_dir), "--max-total-bytes", "1K"])
    assert code == 2
    assert "above the limit of 1024 bytes" in capsys.readouterr().err
    assert (
        main(["ingest", str(archive), "--data-dir", str(data_dir), "--max-total-bytes", "2K"]) == 0
    )
    assert (data_dir / "in" / "a" / "a.mp4").read_bytes() == b"x" * 2048


def test_declared_member_count_is_checked_before_parsing(
    tmp_path: Path, data_dir: Path, src_dir: Path
) -> None:
    # A central directory claiming 60000 entries (the stdlib parser would build them all).
    archive = build_zip(src_dir / "huge.zip", [Member("a.mp4")])
    blob = bytearray(archive.read_bytes())
    eocd = blob.rfind(b"PK\x05\x06")
    blob[eocd + 8 : eocd + 12] = (60000).to_bytes(2, "little") * 2
    archive.write_bytes(bytes(blob))
    before = tree_state(tmp_path)
    with pytest.raises(ArchiveLimitError, match=r"60000 members exceed the limit of 10000"):
        ingest_archive(archive, data_dir)
    assert tree_state(tmp_path) == before


def test_zip64_member_count_is_read_before_parsing(data_dir: Path, src_dir: Path) -> None:
    # Rewrite the end of a small archive as ZIP64: EOCD counts 0xFFFF point to a ZIP64
    # end record that declares 65536 members.
    archive = build_zip(src_dir / "zip64.zip", [Member("a.mp4")])
    blob = archive.read_bytes()
    eocd = blob.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", blob, eocd + 12)
    body = blob[:eocd]
    zip64_eocd = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 65536, 65536, cd_size, cd_offset
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(body), 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_offset, 0)
    archive.write_bytes(body + zip64_eocd + locator + end)
    with pytest.raises(ArchiveLimitError, match=r"65536 members exceed the limit of 10000"):
        ingest_archive(archive, data_dir)


def test_corrupt_status_file_is_never_treated_as_empty(
    tmp_path: Path, data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "status.json").write_text('{"schema_version": 1, "jobs": {')
    archive = build_zip(src_dir / "s.zip", [Member("new.mp4")])
    before = tree_state(tmp_path)
    with pytest.raises(InvalidDocumentError, match=r"status\.json: not valid JSON"):
        ingest_archive(archive, data_dir)
    assert main(["ingest", str(archive), "--data-dir", str(data_dir)]) == 2
    assert "status.json" in capsys.readouterr().err
    assert tree_state(tmp_path) == before


def test_force_on_a_completed_job_is_refused_while_the_daemon_runs(
    tmp_path: Path, data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "failed" / "bad_job").mkdir()
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"):
        archive = build_zip(src_dir / "d.zip", [Member("done_job.mp4")])
        before = tree_state(tmp_path)
        with pytest.raises(JobBusyError, match=r"recorded job\(s\) done_job as completed"):
            ingest_archive(archive, data_dir, force=True)
        assert main(["ingest", str(archive), "--data-dir", str(data_dir), "--force"]) == 3
        assert "stop `neuropose watch`" in capsys.readouterr().err
        assert tree_state(tmp_path) == before
        # A failed job may be replaced: the running daemon requeues inputs back in in/.
        retry = build_zip(src_dir / "f.zip", [Member("bad_job.mp4", b"new")])
        report = ingest_archive(retry, data_dir, force=True)
        assert report.jobs[0].replaced == ("failed/bad_job",)
