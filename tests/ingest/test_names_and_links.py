"""Hostile names, symbolic links on the command line, truncated videos (issue 13).

* names with terminal escapes are shown escaped by every printer (report
  tables, error messages, logs), never raw;
* a symbolic link given as a source is refused unless ``--follow-symlinks``;
* a truncated or unfinalised video is refused at ingest, naming the file and
  the option that would process what decodes; a truncated video that reaches
  the daemon anyway fails with a status that names the option.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import pytest
from tests.estimator.conftest import ffmpeg, run_ffmpeg  # noqa: F401 - fixture
from tests.ingest.zipcraft import Member, build_zip, tree_state

from neuropose.cli import main
from neuropose.datadir.status import read_status
from neuropose.ingest import IngestError, ingest_archive, ingest_paths
from neuropose.logs import configure_logging
from neuropose.schemas.status import JobState

ESCAPES = "\x1b]0;owned\x07\x1b[2J"
FAKE_MODEL = "python:tests.fakes:make_model"


def _box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


#: A structurally complete ISO-BMFF file (ftyp, mdat of 4000 bytes, moov).
MP4 = _box(b"ftyp", b"isom\0\0\0\0") + _box(b"mdat", bytes(4000)) + _box(b"moov", bytes(64))


def _no_escape_chars(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, repr(text)


# --------------------------------------------------------------------- escaped names


def test_terminal_escapes_in_names_are_printed_escaped(
    data_dir: Path,
    src_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = src_dir / "batch"
    batch.mkdir()
    (batch / f"walk{ESCAPES}.mp4").write_bytes(b"video bytes")
    (batch / f"notes{ESCAPES}[bold red]x.txt").write_text("not a video")
    monkeypatch.chdir(src_dir)  # short paths: table cells do not wrap
    code = main(["ingest", "batch", "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    _no_escape_chars(out + err)
    # The skipped file is listed, escaped and verbatim (not taken as rich markup).
    assert r"batch/notes\x1b]0;owned\x07\x1b[2J[bold red]x.txt" in out
    # The job's name is sanitised; its file arrived intact.
    assert (data_dir / "in" / "walk__0_owned___2J" / "walk__0_owned___2J.mp4").read_bytes() == (
        b"video bytes"
    )


def test_refusal_message_escapes_names(
    data_dir: Path, src_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = src_dir / "batch"
    batch.mkdir()
    (batch / f"empty{ESCAPES}.mp4").write_bytes(b"")
    before = tree_state(data_dir)
    code = main(["ingest", str(batch), "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    assert code == 2
    _no_escape_chars(out + err)
    assert r"empty\x1b]0;owned\x07\x1b[2J.mp4 is a zero-byte video" in err
    assert tree_state(data_dir) == before


def test_log_lines_escape_names(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(logging.INFO, "human")
    try:
        logging.getLogger("neuropose.ingest").warning("placed %s", f"a{ESCAPES}.mp4")
    finally:
        logging.getLogger("neuropose").handlers[:] = []
    err = capsys.readouterr().err
    _no_escape_chars(err)
    assert r"placed a\x1b]0;owned\x07\x1b[2J.mp4" in err


# --------------------------------------------------------------------- symbolic links


def test_file_symlink_on_the_command_line_is_refused(
    data_dir: Path, src_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = src_dir / "passwd.mp4"
    link.symlink_to("/etc/passwd")
    before = tree_state(tmp_path)
    code = main(["ingest", str(link), "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "passwd.mp4 is a symbolic link (to /etc/passwd)" in err
    assert "--follow-symlinks" in err
    assert tree_state(tmp_path) == before


def test_folder_symlink_is_refused_unless_followed(
    data_dir: Path, src_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = src_dir / "real"
    real.mkdir()
    (real / "trial.mp4").write_bytes(b"trial video")
    (real / "linked.mp4").symlink_to(real / "trial.mp4")  # inside: never followed
    link = src_dir / "exports"
    link.symlink_to(real, target_is_directory=True)
    before = tree_state(tmp_path)
    assert main(["ingest", str(link), "--data-dir", str(data_dir)]) == 2
    assert "exports is a symbolic link" in capsys.readouterr().err
    assert tree_state(tmp_path) == before

    code = main(["ingest", str(link), "--data-dir", str(data_dir), "--follow-symlinks"])
    out = capsys.readouterr().out
    assert code == 0
    assert (data_dir / "in" / "trial" / "trial.mp4").read_bytes() == b"trial video"
    assert not (data_dir / "in" / "linked").exists()
    assert "symbolic link (not followed)" in out


def test_followed_file_link_reads_the_target(data_dir: Path, src_dir: Path) -> None:
    target = src_dir / "take_3.mp4"
    target.write_bytes(b"take three")
    link = src_dir / "walk.mp4"
    link.symlink_to(target)
    with pytest.raises(IngestError, match=r"walk\.mp4 is a symbolic link"):
        ingest_paths([link], data_dir)
    report = ingest_paths([link], data_dir, follow_symlinks=True)
    assert [(j.name, j.videos[0].source) for j in report.jobs] == [("walk", str(link))]
    assert (data_dir / "in" / "walk" / "walk.mp4").read_bytes() == b"take three"


def test_archive_symlink_is_refused_unless_followed(data_dir: Path, src_dir: Path) -> None:
    archive = build_zip(src_dir / "batch.zip", [Member("a/walk.mp4", b"walk")])
    link = src_dir / "link.zip"
    link.symlink_to(archive)
    with pytest.raises(IngestError, match=r"link\.zip is a symbolic link"):
        ingest_archive(link, data_dir)
    report = ingest_archive(link, data_dir, follow_symlinks=True)
    assert [j.name for j in report.jobs] == ["a_walk"]


# --------------------------------------------------------------------- truncated videos


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (MP4[:2000], r"the 'mdat' box at byte 16 ends at byte 4024, past the end of the file"),
        (MP4[:-10], r"the 'moov' box at byte 4024 ends at byte 4096, past the end of the file"),
        (MP4[:4024], r"it has no 'moov' box \(movie header\)"),
    ],
    ids=["mdat_cut", "moov_cut", "never_finalised"],
)
def test_truncated_video_is_refused_at_ingest(
    data_dir: Path, src_dir: Path, tmp_path: Path, data: bytes, reason: str
) -> None:
    batch = src_dir / "batch"
    batch.mkdir()
    (batch / "ok.mp4").write_bytes(MP4)
    (batch / "cut.mp4").write_bytes(data)
    before = tree_state(tmp_path)
    with pytest.raises(IngestError, match=r"cut\.mp4: " + reason) as info:
        ingest_paths([batch], data_dir)
    assert "--allow-short-read" in (info.value.hint or "")
    archive = build_zip(src_dir / "b.zip", [Member("ok.mp4", MP4), Member("cut.mp4", data)])
    before = tree_state(tmp_path)
    with pytest.raises(IngestError, match=r"member 'cut\.mp4': " + reason):
        ingest_archive(archive, data_dir)
    with pytest.raises(IngestError, match=r"member 'cut\.mp4': " + reason):
        ingest_archive(archive, data_dir, dry_run=True)
    assert tree_state(tmp_path) == before
    # The complete file alone goes through.
    (batch / "cut.mp4").unlink()
    assert [j.name for j in ingest_paths([batch], data_dir).jobs] == ["ok"]


def test_real_videos_cut_short_are_refused(
    data_dir: Path, src_dir: Path, shared_media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("lab_single_person/cam01.mp4", "vtest.avi"):
        data = (shared_media / name).read_bytes()
        cut = src_dir / f"cut_{Path(name).name}"
        cut.write_bytes(data[: len(data) * 2 // 3])
        code = main(["ingest", str(cut), "--data-dir", str(data_dir)])
        err = capsys.readouterr().err
        assert code == 2, name
        assert "it is truncated" in err and "--allow-short-read" in err, err
        assert not (data_dir / "in" / cut.stem).exists()
        whole = src_dir / Path(name).name
        whole.write_bytes(data)
        assert main(["ingest", str(whole), "--data-dir", str(data_dir)]) == 0
        capsys.readouterr()


def test_status_names_the_option_when_the_daemon_fails_a_short_read(
    tmp_path: Path,
    ffmpeg: str,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = tmp_path / "fs.mp4"
    run_ffmpeg(
        ffmpeg,
        *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "50"),
        *("-c:v", "mpeg4", "-movflags", "+faststart", str(clip)),
    )
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    data_dir = tmp_path / "data"
    # Ingest refuses it ...
    assert main(["ingest", str(cut), "--data-dir", str(data_dir)]) == 2
    assert "--allow-short-read" in capsys.readouterr().err
    # ... a copy made by hand reaches the daemon, which fails it, and says how to proceed.
    job = data_dir / "in" / "copied_by_hand"
    job.mkdir(parents=True)
    (job / "cut.mp4").write_bytes(cut.read_bytes())
    (job / "READY").touch()
    monkeypatch.setenv("NEUROPOSE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("NEUROPOSE_MAX_ATTEMPTS", "1")
    main(["watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_MODEL])
    assert read_status(data_dir).jobs["copied_by_hand"].state is JobState.FAILED
    capsys.readouterr()
    assert main(["status", "copied_by_hand", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "ShortReadError" in out and "--allow-short-read" in out, out


def test_zip_member_streams_are_checked_like_files(data_dir: Path, src_dir: Path) -> None:
    """A deflated member is judged from its decompressed stream, in order."""
    path = src_dir / "deflated.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("whole.mp4", MP4)
    report = ingest_archive(path, data_dir)
    assert (data_dir / "in" / "whole" / "whole.mp4").read_bytes() == MP4
    assert [j.name for j in report.jobs] == ["whole"]
    assert os.path.getsize(data_dir / "in" / "whole" / "whole.mp4") == len(MP4)
