"""Fixtures for daemon tests.

* ``data_dir``: an empty data directory (``tmp_path/data``).
* ``make_settings``: builds :class:`Settings` for that directory with fast
  daemon timings (settle 0 s, poll 0.05 s, checkpoint every 5 frames).
* ``add_job``: creates ``in/<job>/`` holding fake videos (see
  ``tests/interfacer/fake_processor.py``: frame i is 64 bytes; ground truth
  from ``fake_processor.expected``).
* ``daemon_env``: environment for ``neuropose watch`` subprocesses
  (PYTHONPATH = repo root, fast settings as NEUROPOSE_* variables).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.interfacer.fake_processor import write_fake_video

from neuropose.config import Settings, load_settings

FAKE_SPEC = "python:tests.interfacer.fake_processor:make_processor"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def make_settings(data_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        flags: dict[str, Any] = {
            "data_dir": data_dir,
            "settle_seconds": 0.0,
            "poll_interval_s": 0.05,
            "checkpoint_every_frames": 5,
            "shutdown_grace_seconds": 10.0,
            # Fake videos cannot be rendered; tests/visualize/test_daemon_render.py covers it.
            "render_after_job": False,
        }
        flags.update(overrides)
        return load_settings(None, flags, environ={}).settings

    return make


@pytest.fixture
def add_job(data_dir: Path) -> Callable[..., Path]:
    def add(job: str, frames: tuple[int, ...] = (12, 7), seed: int = 0) -> Path:
        job_dir = data_dir / "in" / job
        job_dir.mkdir(parents=True)
        for i, n in enumerate(frames):
            write_fake_video(job_dir / f"v{i}.mp4", n, seed=seed * 100 + i)
        return job_dir

    return add


@pytest.fixture
def daemon_env(repo_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    env.update(
        {
            "PYTHONPATH": REPO_PYTHONPATH,
            "NEUROPOSE_SETTLE_SECONDS": "0",
            "NEUROPOSE_POLL_INTERVAL_S": "0.05",
            "NEUROPOSE_CHECKPOINT_EVERY_FRAMES": "5",
            "NEUROPOSE_SHUTDOWN_GRACE_SECONDS": "10",
            "NEUROPOSE_RENDER_AFTER_JOB": "false",
            "NEUROPOSE_LOG_FORMAT": "json",
        }
    )
    return env


def neuropose_cmd(*args: str) -> list[str]:
    """argv running the CLI of this checkout with this interpreter."""
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]
