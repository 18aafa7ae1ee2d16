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
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO_PYTHONPATH

HEAVY = ("tensorflow", "ai_edge_litert", "cv2", "matplotlib", "scipy", "numba")
#: What only some commands need: the settings (pydantic), arrays (NumPy).
NEEDED_BY_SOME = ("numpy", "pydantic", "neuropose.config", "neuropose.datadir")
#: What no command imports at start-up any more: a settings library that
#: imports asyncio and dotenv, and Typer's pydantic TypeAdapters for values
#: that need no conversion.
NEVER = ("pydantic_settings", "asyncio", "dotenv", "typer._adapters")

_PROBE = f"""
import json, sys
from neuropose.cli import main
code = main(sys.argv[1:])
names = {[*HEAVY, *NEEDED_BY_SOME, *NEVER]!r}
print(json.dumps({{"code": code, "modules": [m for m in names if m in sys.modules]}}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["PYTHONPATH"] = REPO_PYTHONPATH
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    (tmp_path / "xdg" / "neuropose" / "jobs").mkdir(parents=True, exist_ok=True)  # default data_dir
    return env


def _probe(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    """(exit code, probed modules imported) of one command; its output in ``_LAST``."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    *output, last = proc.stdout.strip().splitlines()
    _LAST[:] = output
    report = json.loads(last)
    return report["code"], set(report["modules"])


_LAST: list[str] = []


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("process", "--help"), ("analyze", "--help"), ("config", "--help")],
    ids=" ".join,
)
def test_help_imports_neither_numpy_nor_pydantic_nor_the_settings(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """Help needs no settings: the root callback reads only ``NEUROPOSE_LOG_FORMAT``."""
    code, modules = _probe(tmp_path, *argv)
    assert code == 0
    assert modules == set(), sorted(modules)
    assert any("Usage: neuropose" in line for line in _LAST), _LAST


def test_a_log_format_from_a_config_file_is_still_applied(tmp_path: Path) -> None:
    """With ``--config`` the settings are loaded before the command (for ``log_format``)."""
    cfg = tmp_path / "np.toml"
    cfg.write_text('log_format = "json"\n')
    code, modules = _probe(tmp_path, "--config", str(cfg), "process", "--help")
    assert code == 0
    assert "neuropose.config" in modules


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
    assert modules == {"pydantic", "neuropose.config", "neuropose.datadir"}  # validated files


def test_config_show_builds_settings_without_a_settings_library(tmp_path: Path) -> None:
    code, modules = _probe(tmp_path, "config", "show")
    assert code == 0
    assert any("batch_size" in line for line in _LAST), _LAST
    assert modules == {"pydantic", "neuropose.config"}


@pytest.mark.parametrize(
    "argv",
    [
        ("status",),
        ("status", "--json"),
        ("config", "show"),
        ("models", "list"),
        ("doctor",),
        ("process", "--help"),
        ("analyze", "--help"),
        ("visualize", "--help"),
    ],
    ids=" ".join,
)
def test_commands_that_do_not_infer_import_nothing_heavy(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    code, modules = _probe(tmp_path, *argv)
    assert code in (0, 1), modules  # doctor exits 1 here: the model is not cached
    assert not modules & {*HEAVY, *NEVER}, sorted(modules & {*HEAVY, *NEVER})


def test_doctor_reports_the_runtime_without_importing_it(tmp_path: Path) -> None:
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "doctor"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
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
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
        check=False,
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


def _commands() -> dict[str, object]:
    import typer.main

    from neuropose.cli import app

    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_each_command_runs_from_an_app_narrowed_to_it_with_the_same_help() -> None:
    """Typer builds only the command being run; its help is the full app's, word for word."""
    from typer.testing import CliRunner

    from neuropose.cli import app
    from neuropose.cli.app import narrowed_app

    names = list(_commands())
    assert len(names) >= 15
    for name in names:
        narrowed = narrowed_app(name)
        assert narrowed is not app, name
        assert len(narrowed.registered_commands) + len(narrowed.registered_groups) == 1
        full = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "100"})
        alone = CliRunner().invoke(narrowed, [name, "--help"], env={"COLUMNS": "100"})
        assert (alone.exit_code, alone.output) == (full.exit_code, full.output), name
    assert narrowed_app("stauts") is app and narrowed_app(None) is app
    assert len(app.registered_commands) + len(app.registered_groups) == len(names)  # untouched


def test_a_mistyped_command_is_answered_by_the_full_app(run_cli: Any) -> None:
    code, _, err = run_cli("-q", "stauts")
    assert code == 2
    assert "No such command 'stauts'" in err and "status" in err


def _outcome(process: Any, ctx: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("value", process(ctx, value))
    except Exception as exc:  # compared between the two paths
        return ("error", type(exc).__name__)


def test_values_that_skip_typer_conversion_equal_typer_s(tmp_path: Path, run_cli: Any) -> None:
    """For every parameter's default, None and (paths) an existing file, a directory and a
    missing path, the light path returns (or raises) what Typer's own conversion does."""
    from typer._click import Context
    from typer.core import TyperArgument, TyperOption

    from neuropose.cli.helpfmt import USE_TYPER, light_conversion

    existing = tmp_path / "clip.mp4"
    existing.write_bytes(b"x")
    paths = [str(existing), str(tmp_path), str(tmp_path / "missing.mp4")]
    checked = 0
    for top in _commands().values():
        subs = getattr(top, "commands", None) or {"": top}
        for cmd in subs.values():
            ctx = Context(cmd)  # type: ignore[arg-type]
            for param in cmd.params:  # type: ignore[attr-defined]
                if not isinstance(param, (TyperOption, TyperArgument)) or param.callback:
                    continue
                typer_way = TyperOption if isinstance(param, TyperOption) else TyperArgument
                annotation = param.type_descriptor.annotation
                values = [None, param.default]
                if annotation is Path:
                    values += paths
                elif annotation == list[Path]:
                    values += [tuple(paths), (paths[0],)]
                for value in values:
                    if light_conversion(param, ctx, value) is USE_TYPER:
                        continue
                    light = _outcome(param.process_value, ctx, value)
                    typer = _outcome(partial(typer_way.process_value, param), ctx, value)
                    assert light == typer, (cmd.name, param.name, value, light, typer)
                    checked += 1
    assert checked > 150
    # A value from the command line still goes through Typer: its message is unchanged.
    code, _, err = run_cli("status", "--limit", "-1")
    assert code == 2
    assert "Invalid value for '--limit': Input should be greater than or equal to 0" in err


def test_the_log_format_setting_is_read_without_building_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Environment (or default) without ``--config``; a bad value falls back to human."""
    from neuropose.cli.app import CliState, _log_format_setting
    from neuropose.config import ENV_PREFIX

    assert f"{ENV_PREFIX}LOG_FORMAT" == "NEUROPOSE_LOG_FORMAT"  # the name app.py reads
    monkeypatch.delenv("NEUROPOSE_LOG_FORMAT", raising=False)
    assert _log_format_setting(CliState()) == "human"
    monkeypatch.setenv("NEUROPOSE_LOG_FORMAT", "json")
    assert _log_format_setting(CliState()) == "json"
    monkeypatch.setenv("NEUROPOSE_LOG_FORMAT", "xml")  # the command reports it
    assert _log_format_setting(CliState()) == "human"
    monkeypatch.delenv("NEUROPOSE_LOG_FORMAT")
    cfg = tmp_path / "np.toml"
    cfg.write_text('log_format = "json"\n')
    assert _log_format_setting(CliState(config_file=cfg)) == "json"
    cfg.write_text("batch_size = 0\n")  # invalid settings: human, the command reports it
    assert _log_format_setting(CliState(config_file=cfg)) == "human"


def test_paths_are_printed_verbatim_not_as_emoji(tmp_path: Path, run_cli: Any) -> None:
    """``:smile:`` in a path stays text (and rich's emoji table is never loaded)."""
    missing = tmp_path / ":smile:" / "jobs"
    code, _, err = run_cli("status", "--data-dir", str(missing))
    assert code == 2
    assert f"data directory {missing} does not exist" in err.replace("\n", "")
