"""Fixtures of the foundation tests.

* ``clean_env``: removes every ``NEUROPOSE_*`` variable and points
  ``XDG_DATA_HOME`` at an empty temporary directory, so default paths are
  known (``<xdg>/neuropose/jobs`` and ``<xdg>/neuropose/models``).
* ``run_cli``: runs ``neuropose.cli.main(argv)`` in-process and returns
  ``(exit_code, stdout, stderr)``; the ``neuropose`` logger's configuration
  is restored afterwards.
* ``cli_subprocess``: runs the installed ``neuropose`` entry point in a
  subprocess (real exit codes, real stderr) and returns the completed process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from neuropose.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in list(os.environ):
        if var.startswith("NEUROPOSE_"):
            monkeypatch.delenv(var)
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    return xdg


@pytest.fixture
def run_cli(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        logger = logging.getLogger("neuropose")
        saved = (logger.handlers[:], logger.level, logger.propagate)
        try:
            code = main(list(argv))
        finally:  # main() configures logging; leave it as other tests expect
            logger.handlers[:], logger.level, logger.propagate = saved
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("neuropose")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())"]


@pytest.fixture
def cli_subprocess(clean_env: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
        full_env.update(env or {})
        return subprocess.run(
            [*_entry_point(), *argv],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
            cwd=REPO_ROOT,
        )

    return run
