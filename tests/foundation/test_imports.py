"""Import hygiene: the CLI never loads TensorFlow up front and touches no files.

Runs in a fresh interpreter so modules imported by other tests do not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from neuropose.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("tensorflow", "tensorflow_hub", "cv2", "matplotlib") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(tmp_path: Path, *argv: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_cli_startup_loads_no_tensorflow_and_creates_nothing(tmp_path: Path) -> None:
    result = _probe(tmp_path, "config", "show", "--json")
    assert result["code"] == 0
    assert "tensorflow" not in result["heavy"]  # type: ignore[operator]
    assert "tensorflow_hub" not in result["heavy"]  # type: ignore[operator]
    # Neither the default data dir nor anything in the working directory was created.
    assert sorted(p.name for p in tmp_path.iterdir()) == []
