"""What a newcomer reads: sizes, waiting jobs, an 80-column model list, the demo's last line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuropose.cli import demo_cmd


def test_config_show_prints_sizes_in_binary_units(run_cli) -> None:
    code, out, _ = run_cli("config", "show")
    assert code == 0
    row = next(line for line in out.splitlines() if "ingest_max_total_bytes" in line)
    assert "200 GiB" in row and "214748364800" not in row
    code, out, _ = run_cli("config", "show", "--json")
    assert '"value": 214748364800' in out  # machine-readable output keeps bytes


def test_queued_job_shows_waiting(run_cli, tmp_path: Path) -> None:
    from neuropose.datadir.status import write_aggregate_status
    from neuropose.schemas import JobState, JobStatusEntry
    from neuropose.timefmt import utc_now

    now = utc_now()
    entry = JobStatusEntry(job_id="walk", state=JobState.QUEUED, queued_at=now, last_update=now)
    data = tmp_path / "data"
    data.mkdir()
    write_aggregate_status(data, {"walk": entry})
    code, out, _ = run_cli("status", "--data-dir", str(data))
    assert code == 0
    row = next(line for line in out.splitlines() if "walk" in line)
    assert "waiting" in row and "0/?" not in row


def test_models_list_fits_80_columns(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(COLUMNS="80", NEUROPOSE_MODEL_CACHE_DIR=str(tmp_path / "cache"))
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "models", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    table = [ln for ln in lines if ln[:1] in "┏┃┡│└"]
    assert table and all(len(ln) <= 80 for ln in table), "\n".join(table)
    row = next(ln for ln in table if "blazepose-full" in ln)
    assert "34.0 MiB" in row and "not cached" in row  # download size; nothing installed
    assert "blazepose-full: pip:mediapipe==0.10.21; licence Apache-2.0" in lines


@pytest.mark.parametrize("on_path", [False, True])
def test_demo_names_a_command_that_runs_without_activating_the_venv(
    tmp_path: Path, monkeypatch, on_path: bool
) -> None:
    script = tmp_path / ".venv" / "bin" / "neuropose"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    path = str(script.parent) if on_path else "/usr/bin:/bin"
    monkeypatch.setenv("PATH", path)
    assert demo_cmd._self_command() == ("neuropose" if on_path else ".venv/bin/neuropose")


def test_plain_progress_always_ends_with_the_frames_done(capsys) -> None:
    from neuropose.cli.process_cmd import _FileProgress

    prog = _FileProgress("walk.mp4", tty=False)
    prog.update(10, 12)  # container said 12; within the first 5 s: no line yet
    assert capsys.readouterr().err == ""
    prog.finish(11)  # the video ended after 11 frames
    assert capsys.readouterr().err.startswith("walk.mp4: 11/11 frames (100%), ")
    done = _FileProgress("img.png", tty=False)
    done.update(1, 1)
    done.finish(1)
    assert capsys.readouterr().err.count("img.png: 1/1 frames") == 1  # not printed twice
