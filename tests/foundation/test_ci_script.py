"""`.ci/run` passes `make test`'s exit code through, except pytest's 5 (no tests).

`make` and `chromium` are replaced by stubs on PATH, so nothing is installed
and no tests run: the stub `make` records its arguments and exits with
``$FAKE_MAKE_RC``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_ci(tmp_path: Path, make_rc: int) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "make.log"
    (bin_dir / "make").write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexit "$FAKE_MAKE_RC"\n')
    (bin_dir / "chromium").write_text("#!/bin/sh\nexit 0\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_MAKE_RC=str(make_rc))
    env["CI"] = "true"
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return proc, log.read_text() if log.exists() else ""


@pytest.mark.parametrize(("make_rc", "expected"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_ci_runs_make_test_and_maps_exit_codes(tmp_path: Path, make_rc: int, expected: int) -> None:
    proc, calls = _run_ci(tmp_path, make_rc)
    assert calls.strip() == "test"
    assert proc.returncode == expected, proc.stderr
    if make_rc == 5:
        assert "collected no tests" in proc.stderr
