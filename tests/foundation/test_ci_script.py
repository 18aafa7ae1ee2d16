"""`.ci/run` runs the README's test command, and `make test` fails when no test ran.

For `.ci/run`, `make` and `chromium` are stubs on PATH (nothing is installed,
no tests run): the stub `make` records its arguments and exits with
``$FAKE_MAKE_RC``. For the Makefile, ``PY`` is a stub interpreter that exits
with ``$FAKE_PYTEST_RC`` for ``-m pytest`` and 0 for ruff and mypy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _stub(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("make_rc", [0, 1, 2])
def test_ci_runs_make_test_and_passes_its_exit_code(tmp_path: Path, make_rc: int) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "make.log"
    _stub(bin_dir / "make", f'echo "$@" >> "{log}"\nexit "$FAKE_MAKE_RC"\n')
    _stub(bin_dir / "chromium", "exit 0\n")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_MAKE_RC=str(make_rc))
    env["CI"] = "true"
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "run")],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert log.read_text().strip() == "test"
    assert proc.returncode == make_rc, proc.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("pytest_rc", "expected"), [(0, 0), (1, 2), (5, 2)])
def test_make_test_fails_when_pytest_collects_nothing(
    tmp_path: Path, pytest_rc: int, expected: int
) -> None:
    py = _stub(
        tmp_path / "python",
        'case "$*" in *pytest*) exit "$FAKE_PYTEST_RC";; *) exit 0;; esac\n',
    )
    stamp = tmp_path / "stamp"
    stamp.touch()
    env = dict(os.environ, FAKE_PYTEST_RC=str(pytest_rc))
    proc = subprocess.run(
        ["make", "-s", "-C", str(REPO_ROOT), "test", f"PY={py}", f"STAMP={stamp}"],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == expected, proc.stderr  # make reports a failed recipe as 2
    assert ("collected no tests (exit 5)" in proc.stderr) == (pytest_rc == 5)
