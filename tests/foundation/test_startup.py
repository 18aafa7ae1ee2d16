"""Fast start: commands that do not infer import no inference or plotting library.

Each command runs in a fresh interpreter (so modules imported by other
tests do not count) and reports which heavy modules it ended up importing.
Timing is measured by ``benchmarks/bench_startup.py``, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("tensorflow", "ai_edge_litert", "cv2", "matplotlib", "scipy", "numba")

_PROBE = """
import json, sys
from neuropose.cli import main
code = main(sys.argv[1:])
names = ("tensorflow", "ai_edge_litert", "cv2", "matplotlib", "scipy", "numba", "numpy",
         "pydantic")
print(json.dumps({"code": code, "modules": [m for m in names if m in sys.modules]}))
"""


def _probe(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    """(exit code, heavy modules imported) of one command; its output in ``_LAST``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    (tmp_path / "xdg" / "neuropose" / "jobs").mkdir(parents=True, exist_ok=True)  # default data_dir
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    *output, last = proc.stdout.strip().splitlines()
    _LAST[:] = output
    report = json.loads(last)
    return report["code"], set(report["modules"])


_LAST: list[str] = []


def test_help_imports_neither_numpy_nor_pydantic(tmp_path: Path) -> None:
    code, modules = _probe(tmp_path, "--help")
    assert code == 0
    assert modules == set()


def test_status_reads_status_file_without_numpy(tmp_path: Path) -> None:
    """``status`` needs only the status schemas: no NumPy, no array models."""
    from neuropose.datadir import write_job_status
    from neuropose.schemas.status import JobState, JobStatusEntry
    from neuropose.timefmt import utc_iso

    data_dir = tmp_path / "xdg" / "neuropose" / "jobs"
    data_dir.mkdir(parents=True)
    entry = JobStatusEntry(job_id="trial01", state=JobState.QUEUED, last_update=utc_iso())
    write_job_status(data_dir, entry)
    code, modules = _probe(tmp_path, "status")
    assert code == 0
    assert any("trial01" in line and "waiting" in line for line in _LAST), _LAST
    assert "numpy" not in modules
    assert "pydantic" in modules  # the status file is still validated


@pytest.mark.parametrize(
    "argv",
    [
        ("status",),
        ("config", "show"),
        ("models", "list"),
        ("doctor",),
        ("process", "--help"),
        ("analyze", "--help"),
        ("visualize", "--help"),
    ],
    ids=lambda a: " ".join(a),
)
def test_commands_that_do_not_infer_import_nothing_heavy(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    code, modules = _probe(tmp_path, *argv)
    assert code in (0, 1), modules  # doctor exits 1 here: the model is not cached
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_doctor_reports_the_runtime_without_importing_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    (tmp_path / "xdg" / "neuropose" / "jobs").mkdir(parents=True)  # the default data_dir
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1  # the model is not cached in this empty data home
    assert "ok   model runtime: LiteRT (runs .tflite models): ai-edge-litert " in proc.stdout
    assert "AVX2" not in proc.stderr and "tensorflow" not in proc.stderr.lower()


def test_import_analyzer_defers_scipy(tmp_path: Path) -> None:
    code = (
        "import sys, json, neuropose.analyzer;"
        "print(json.dumps([m for m in ('scipy', 'numba', 'fastdtw') if m in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_lazy_schema_exports_resolve_to_their_classes() -> None:
    """Every name in ``neuropose.schemas.__all__`` resolves, to the submodule's object."""
    import importlib

    import neuropose.schemas as schemas

    for name in schemas.__all__:
        value = getattr(schemas, name)
        module = importlib.import_module(f"neuropose.schemas.{schemas._EXPORTS[name]}")
        assert value is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = schemas.Nope
