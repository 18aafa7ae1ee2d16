"""CLI behaviour that needs real media or a real terminal."""

from __future__ import annotations

import hashlib
import os
import pty
import select
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.ingest.zipcraft import Member, build_zip

from neuropose.ingest import ingest_archive, ingest_paths

MiB = 1024 * 1024


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.media
def test_real_lab_videos_arrive_bit_exact_from_folder_and_zip(
    shared_media: Path, tmp_path: Path
) -> None:
    lab = shared_media / "lab_single_person"
    # videos + one calibration: one multi-view job, named after the folder (docs/ingest.md)
    report = ingest_paths([lab], tmp_path / "data")
    assert [(j.name, [v.file for v in j.videos], j.calibration) for j in report.jobs] == [
        ("lab_single_person", ["cam01.mp4", "cam02.mp4"], "Calib.qca.txt"),
    ]
    assert report.skipped == ()
    for name in ("cam01.mp4", "cam02.mp4", "Calib.qca.txt"):
        placed = tmp_path / "data" / "in" / "lab_single_person" / name
        assert _sha(placed) == _sha(lab / name)

    archive = tmp_path / "lab.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(lab.iterdir()):
            zf.write(f, f"lab_single_person/{f.name}")
    report = ingest_archive(archive, tmp_path / "data2")
    assert [j.name for j in report.jobs] == ["lab_single_person"]
    for name in ("cam01.mp4", "cam02.mp4", "Calib.qca.txt"):
        placed = tmp_path / "data2" / "in" / "lab_single_person" / name
        assert _sha(placed) == _sha(lab / name)


def _run_on_pty(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns (code, stdout, terminal text)."""
    main_fd, sub_fd = pty.openpty()
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=sub_fd,
        env={**env, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(sub_fd)
    chunks = []
    while True:
        ready, _, _ = select.select([main_fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(main_fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=60)
    os.close(main_fd)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_progress_bar_on_a_terminal_for_large_inputs_only(tmp_path: Path, repo_root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH}
    big = build_zip(tmp_path / "big.zip", [Member(f"v{i}.mp4", bytes(17 * MiB)) for i in range(4)])
    code, out, term = _run_on_pty(["ingest", str(big), "--data-dir", str(tmp_path / "d1")], env)
    assert code == 0, term
    assert "ingesting" in term  # the bar's label, drawn on the terminal only
    assert "ingesting" not in out
    assert "4 job(s), 4 video(s), 68 MiB written (extract)" in out

    small = build_zip(tmp_path / "small.zip", [Member("s.mp4", b"x" * 1000)])
    code, out, term = _run_on_pty(["ingest", str(small), "--data-dir", str(tmp_path / "d2")], env)
    assert code == 0, term
    assert "ingesting" not in term
    assert "1 job(s), 1 video(s)" in out
