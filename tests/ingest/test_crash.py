"""Crash safety: SIGKILL of a real ``neuropose ingest`` process never leaves a partial job.

The archive (``big.zip``) holds 24 videos of 4 MiB of random bytes (stored,
96 MiB), ``session_NN/trial.mp4``; the test knows each video's SHA-256. The
ingest subprocess is killed at several moments (as soon as staging starts,
mid-extraction, and during placement: ``_PAUSED_AFTER_FIRST_PLACEMENT`` runs
the real CLI with the placement rename wrapped so that, after the first job
is renamed into ``in/``, it writes a marker and waits to be killed, which
pins the kill between two placements). After each kill,
every directory in ``in/`` must be a complete job: exactly one video with
the right bytes plus ``READY``. The next ingest (or daemon start, through
:func:`clean_staging`) removes the leftovers.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.ingest.zipcraft import Member, build_zip, tree_state

from neuropose.ingest import clean_staging, ingest_archive

MiB = 1024 * 1024
N_VIDEOS = 24


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("big")
    members = [Member(f"session_{i:02d}/trial.mp4", os.urandom(4 * MiB)) for i in range(N_VIDEOS)]
    digests = {
        f"session_{i:02d}_trial": hashlib.sha256(m.data).hexdigest() for i, m in enumerate(members)
    }
    return build_zip(root / "big.zip", members), digests


def _cmd(*args: str) -> list[str]:
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


_PAUSED_AFTER_FIRST_PLACEMENT = """
import pathlib, sys, time
import neuropose.ingest.placement as placement
real_rename = placement.rename_noreplace
def rename_then_wait(src, dst):
    real_rename(src, dst)
    pathlib.Path(sys.argv[1]).write_text(str(dst))
    time.sleep(600)
placement.rename_noreplace = rename_then_wait
from neuropose.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def _staged_files(data_dir: Path) -> list[Path]:
    return list((data_dir / ".staging").glob("ingest-*/jobs/*/*.mp4"))


def _assert_every_visible_job_complete(data_dir: Path, digests: dict[str, str]) -> int:
    in_dir = data_dir / "in"
    jobs = sorted(os.listdir(in_dir)) if in_dir.is_dir() else []
    for job in jobs:
        files = sorted(os.listdir(in_dir / job))
        assert files == ["READY", "trial.mp4"], f"incomplete job {job}: {files}"
        data = (in_dir / job / "trial.mp4").read_bytes()
        assert hashlib.sha256(data).hexdigest() == digests[job], f"torn video in {job}"
    return len(jobs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "moment", ["staging_started", "mid_extraction", "first_job_placed"], ids=str
)
def test_sigkill_leaves_no_incomplete_job_and_leftovers_are_cleaned(
    tmp_path: Path, big_archive: tuple[Path, dict[str, str]], moment: str, repo_root: Path
) -> None:
    archive, digests = big_archive
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH}
    marker = tmp_path / "first-placed"
    args = ("ingest", str(archive), "--data-dir", str(data_dir), "--json")
    if moment == "first_job_placed":
        argv = [sys.executable, "-c", _PAUSED_AFTER_FIRST_PLACEMENT, str(marker), *args]
    else:
        argv = _cmd(*args)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if moment == "staging_started":
            assert _wait_for(lambda: bool(_staged_files(data_dir)))
        elif moment == "mid_extraction":
            assert _wait_for(lambda: len(_staged_files(data_dir)) >= N_VIDEOS // 2)
        else:
            assert _wait_for(marker.exists)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    if moment == "first_job_placed":
        # The kill landed during placement: one job renamed into in/, the rest still staged.
        assert proc.returncode == -signal.SIGKILL
        first = Path(marker.read_text())
        assert sorted(os.listdir(data_dir / "in")) == [first.name]
        assert len(_staged_files(data_dir)) == N_VIDEOS - 1
    assert proc.returncode in (-signal.SIGKILL, 0)

    placed = _assert_every_visible_job_complete(data_dir, digests)
    if moment == "first_job_placed":
        assert placed == 1
    else:
        assert placed == 0  # killed while staging: nothing visible to the daemon
    if proc.returncode == -signal.SIGKILL and placed < N_VIDEOS:
        assert [p.name for p in (data_dir / ".staging").iterdir() if p.name != "ingest.lock"]

    # The daemon's start-up cleaning (or the next ingest) removes the leftovers.
    removed = clean_staging(data_dir)
    assert not (data_dir / ".staging").exists()
    if proc.returncode == -signal.SIGKILL and placed < N_VIDEOS:
        assert removed
    # The jobs that were placed stay, and a fresh ingest of the rest works.
    small = build_zip(tmp_path / "small.zip", [Member("after/crash.mp4", b"ok")])
    report = ingest_archive(small, data_dir)
    assert [j.name for j in report.jobs] == ["after_crash"]
    assert (data_dir / "in" / "after_crash" / "crash.mp4").read_bytes() == b"ok"
    assert len(os.listdir(data_dir / "in")) == placed + 1


@pytest.mark.slow
def test_next_ingest_removes_leftovers_of_a_killed_one(
    tmp_path: Path, big_archive: tuple[Path, dict[str, str]], repo_root: Path
) -> None:
    archive, digests = big_archive
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH}
    proc = subprocess.Popen(
        _cmd("ingest", str(archive), "--data-dir", str(data_dir)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: len(_staged_files(data_dir)) >= 2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    leftovers = sorted(p for p in (data_dir / ".staging").iterdir() if p.name != "ingest.lock")
    assert leftovers, "the killed ingest left its staging directory"
    report = ingest_archive(archive, data_dir)
    assert report.cleaned_staging == tuple(str(p) for p in leftovers)
    assert not (data_dir / ".staging").exists()
    assert _assert_every_visible_job_complete(data_dir, digests) == N_VIDEOS


@pytest.mark.slow
def test_write_failure_mid_extraction_exits_cleanly_and_leaves_nothing(
    tmp_path: Path, repo_root: Path
) -> None:
    """A real process whose file-size limit (RLIMIT_FSIZE 1 MiB) breaks the second video."""
    src = tmp_path / "src"
    src.mkdir()
    archive = build_zip(
        src / "a.zip",
        [Member("a/small.mp4", os.urandom(1000)), Member("b/large.mp4", os.urandom(2 * MiB))],
    )
    data_dir = tmp_path / "data"
    (data_dir / "in").mkdir(parents=True)

    before = tree_state(tmp_path)
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20)); "
        "from neuropose.cli import main; sys.exit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(archive), "--data-dir", str(data_dir)],
        env={**os.environ, "PYTHONPATH": REPO_PYTHONPATH},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stderr
    assert "file too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_state(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_during_ingest_exits_130_and_leaves_no_trace(
    tmp_path: Path, big_archive: tuple[Path, dict[str, str]], repo_root: Path, sig: int
) -> None:
    archive, _ = big_archive
    data_dir = tmp_path / "data"
    (data_dir / "in").mkdir(parents=True)
    before = tree_state(tmp_path)
    proc = subprocess.Popen(
        _cmd("ingest", str(archive), "--data-dir", str(data_dir)),
        env={**os.environ, "PYTHONPATH": REPO_PYTHONPATH},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: len(_staged_files(data_dir)) >= 2)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # pragma: no cover - diagnostic path
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert tree_state(tmp_path) == before
