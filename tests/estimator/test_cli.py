"""``neuropose process`` and ``neuropose benchmark`` through the real CLI entry point.

The model is the deterministic fake, loaded by the registry with
``--model python:tests.fakes:make_model``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.cli import main
from neuropose.io import load_model
from neuropose.schemas import JobResults

FAKE = "python:tests.fakes:make_model"


@pytest.fixture
def clips(tmp_path: Path, make_video) -> list[Path]:
    return [
        make_video(tmp_path / "walk.mp4", [40 + 3 * i for i in range(25)], fps=25.0),
        make_video(tmp_path / "sit.mp4", [200 - 2 * i for i in range(12)], fps=30.0),
    ]


def test_process_writes_one_results_file_per_input(clips, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    rc = main(["-q", "process", *map(str, clips), "-o", str(out), "--model", FAKE])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "ok      " in captured.out and "walk.results.json" in captured.out
    assert captured.err == ""  # -q: no progress
    walk = load_model(out / "walk.results.json", JobResults)
    sit = load_model(out / "sit.results.json", JobResults)
    assert walk.job_id == "walk" and walk.videos[0].num_frames == 25
    np.testing.assert_allclose(walk.videos[0].timestamp_s, np.arange(25) / 25.0, atol=1e-9)
    assert sit.videos[0].num_frames == 12
    assert sorted(p.name for p in out.iterdir()) == ["sit.results.json", "walk.results.json"]


def test_process_flags_reach_the_estimator(clips, tmp_path: Path, capsys) -> None:
    out = tmp_path / "one.json"
    rc = main(
        [
            *("process", str(clips[0]), "-o", str(out), "--model", FAKE),
            *("--fov", "90", "--batch-size", "1", "--prefetch", "5"),
            *("--max-persons", "2", "--subject", "longest_track", "--decode-threads", "1"),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    vp = load_model(out, JobResults).videos[0]
    assert vp.provenance.intrinsics.source == "fov:90"
    assert vp.provenance.options["prefetch_frames"] == 5
    assert vp.provenance.options["max_persons"] == 2
    assert vp.subject_rule == "longest_track"


def test_process_camera_file(clips, tmp_path: Path, capsys) -> None:
    cam = tmp_path / "camera.toml"
    cam.write_text("fx = 700\nfy = 700\ncx = 32\ncy = 24\n")
    out = tmp_path / "c.json"
    assert (
        main(["process", str(clips[1]), "-o", str(out), "--model", FAKE, "--camera", str(cam)]) == 0
    )
    k = load_model(out, JobResults).videos[0].provenance.intrinsics
    assert (k.fx, k.source) == (700.0, "camera.toml")
    rc = main(["process", str(clips[1]), "--model", FAKE, "--camera", str(cam), "--fov", "60"])
    assert rc == 2
    assert "--fov and --camera are mutually exclusive" in capsys.readouterr().err


def test_keep_going_reports_each_failure_and_continues(clips, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    out = tmp_path / "r"
    argv = ["-q", "process", str(bad), str(tmp_path / "gone.mp4"), str(clips[0])]
    rc = main([*argv, "-o", str(out), "--model", FAKE, "--keep-going"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "failed" in err and "bad.mp4 is not a video" in err
    assert "gone.mp4 does not exist" in err
    assert "error: 2 of 3 inputs failed" in err
    assert "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["walk.results.json"]


def test_without_keep_going_stops_at_first_failure(clips, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    rc = main(
        ["process", str(tmp_path / "gone.mp4"), str(clips[0]), "-o", str(out), "--model", FAKE]
    )
    assert rc == 2
    assert "gone.mp4 does not exist" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_model_failure_exit_code_and_no_output(clips, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_MODEL_FAIL_AT", "3")
    out = tmp_path / "x.json"
    rc = main(["process", str(clips[0]), "-o", str(out), "--model", FAKE])
    err = capsys.readouterr().err
    assert rc == 1
    assert "model fake failed on frames 3..3" in err and "injected failure" in err
    assert not out.exists()


def test_output_name_collision_is_a_usage_error(tmp_path: Path, make_video, capsys) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = make_video(tmp_path / "a" / "same.mp4", [10] * 3)
    two = make_video(tmp_path / "b" / "same.mp4", [20] * 3)
    rc = main(["process", str(one), str(two), "-o", str(tmp_path / "o"), "--model", FAKE])
    assert rc == 2
    assert "would both write" in capsys.readouterr().err


def test_plain_progress_lines_when_not_a_tty(clips, tmp_path: Path, repo_root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from neuropose.cli import main; sys.exit(main())",
            "process",
            str(clips[0]),
            "--model",
            FAKE,
            "-o",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "walk.mp4: 25/25 frames (100%)" in proc.stderr
    assert "\x1b[" not in proc.stderr  # no terminal control codes in logs


def test_benchmark_reports_model_only_ratio(clips, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_MODEL_COST_S", "0.002")
    out = tmp_path / "bench.json"
    rc = main(
        [
            "benchmark",
            str(clips[0]),
            "--model",
            FAKE,
            "--repeats",
            "2",
            "--json",
            str(out),
            "--compare-sequential",
            "--model-only-frames",
            "10",
        ]
    )
    text = capsys.readouterr().out
    assert rc == 0
    assert "overlap ratio" in text and "model only" in text and "p99" in text
    data = json.loads(out.read_text())
    assert data["repeats"] == 2 and len(data["threaded"]["fps_per_pass"]) == 2
    assert data["model_only"]["frames"] == 10
    assert set(data["threaded"]["stages_ms_per_frame"]) == {"decode", "infer", "collect"}
    assert data["threaded"]["stages_ms_per_frame"]["infer"] >= 2.0
    lat = data["threaded"]["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"]
    assert data["overlap_ratio"] == pytest.approx(
        data["threaded"]["fps_median"] / data["model_only"]["fps"]
    )
    assert data["threaded_vs_sequential"] > 0


def test_benchmark_bad_input(tmp_path: Path, capsys) -> None:
    rc = main(["benchmark", str(tmp_path / "none.mp4"), "--model", FAKE])
    assert rc == 2
    assert "none.mp4 does not exist" in capsys.readouterr().err
