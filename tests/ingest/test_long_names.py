"""Names up to the file system's limit (255 bytes, also multi-byte UTF-8) go through
ingest, the daemon (checkpoints, results, quality reports) and ``process`` (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.estimator.conftest import ffmpeg, run_ffmpeg  # noqa: F401 - fixture

from neuropose.cli import main
from neuropose.datadir.status import read_status
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState

FAKE_MODEL = "python:tests.fakes:make_model"
FRAMES = 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> bytes:  # noqa: F811
    out = tmp_path_factory.mktemp("clip") / "c.mp4"
    run_ffmpeg(
        ffmpeg,
        *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", str(FRAMES)),
        *("-c:v", "mpeg4", str(out)),
    )
    return out.read_bytes()


@pytest.mark.slow
def test_255_byte_names_are_processed_to_completion(
    tmp_path: Path, clip: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ascii_name = "a" * 251 + ".mp4"  # 255 bytes: job "a" * 251, file of 255 bytes
    wide_name = "é" * 125 + ".mp4"  # 254 bytes of UTF-8 (ingest sanitises it to ASCII)
    assert len(ascii_name.encode()) == 255 and len(wide_name.encode()) == 254
    src = tmp_path / "src"
    src.mkdir()
    for name in (ascii_name, wide_name):
        (src / name).write_bytes(clip)
    data_dir = tmp_path / "data"
    assert main(["ingest", str(src), "--data-dir", str(data_dir)]) == 0
    ascii_job, wide_job = "a" * 251, "_" * 125
    assert sorted(p.name for p in (data_dir / "in").iterdir()) == sorted([ascii_job, wide_job])
    # A multi-byte job and video name copied in by hand (ingest would sanitise them).
    by_hand = data_dir / "in" / ("ü" * 127)  # 254 bytes
    by_hand.mkdir()
    (by_hand / wide_name).write_bytes(clip)
    (by_hand / "READY").touch()

    monkeypatch.setenv("NEUROPOSE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("NEUROPOSE_CHECKPOINT_EVERY_FRAMES", "5")  # checkpoints are written
    assert main(["watch", "--once", "--data-dir", str(data_dir), "--model", FAKE_MODEL]) == 0
    jobs = read_status(data_dir).jobs
    for job in (ascii_job, wide_job, by_hand.name):
        assert jobs[job].state is JobState.COMPLETED, (job[:10], jobs[job].error)
        results = load_model(data_dir / "out" / job / "results.json", JobResults)
        assert [v.num_frames for v in results.videos] == [FRAMES]
        reports = list((data_dir / "out" / job / "visualize").glob("*.quality.json"))
        assert len(reports) == 1, job[:10]
    capsys.readouterr()
    assert main(["status", ascii_job, "--data-dir", str(data_dir)]) == 0
    assert "completed" in capsys.readouterr().out

    # `neuropose process` writes its results beside a 255-byte input too.
    out_dir = tmp_path / "process_out"
    code = main(["process", str(src / ascii_name), "--output", str(out_dir), "--model", FAKE_MODEL])
    assert code == 0, capsys.readouterr().err
    written = list(out_dir.glob("*.json"))
    assert len(written) == 1 and all(len(p.name.encode()) <= 255 for p in written)
    assert load_model(written[0], JobResults).videos[0].num_frames == FRAMES
