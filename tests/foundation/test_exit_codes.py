"""Each error category's exit code and message through the real CLI entry point.

A throw-away command ``_raise`` is registered on the application for the
duration of each test; it raises the error named by its argument. Expected
errors print ``error: <message>`` and ``hint: ...`` on stderr, never a
traceback unless ``-v`` is given.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer

from neuropose import errors
from neuropose.cli import app
from neuropose.datadir.lock import LockHeldError
from neuropose.io import DiskFullError

RunCli = Callable[..., tuple[int, str, str]]

FACTORIES: dict[str, Callable[[], BaseException]] = {
    "processing": lambda: errors.ProcessingError("video walk.mp4 failed at frame 12"),
    "usage": lambda: errors.UsageError("--from and --to cannot be used together"),
    "config": lambda: errors.ConfigError("bad key"),
    "input": lambda: errors.InputError("walk.mp4 is not a video", hint="convert it to MP4"),
    "invalid-document": lambda: errors.InvalidDocumentError("out/x/results.json: field 'a'"),
    "future-schema": lambda: errors.FutureSchemaError("too new", hint="upgrade NeuroPose"),
    "busy": lambda: LockHeldError("data/neuropose.lock is held by pid 1"),
    "resource": lambda: errors.ResourceError("model blazepose-full is not cached"),
    "disk-full": lambda: DiskFullError("results.json: cannot write, no space left on device"),
    "interrupted": lambda: errors.Interrupted("stopped by SIGTERM after checkpointing"),
    "keyboard": lambda: KeyboardInterrupt(),
    "os-missing": lambda: FileNotFoundError(2, "No such file or directory", "/data/in/job1"),
    "os-permission": lambda: PermissionError(13, "Permission denied", "/data/out"),
    "os-full": lambda: OSError(28, "No space left on device", "/data/out/x.json"),
    "os-other": lambda: OSError(5, "Input/output error"),
}

EXPECTED = {
    "processing": 1,
    "usage": 2,
    "config": 2,
    "input": 2,
    "invalid-document": 2,
    "future-schema": 2,
    "busy": 3,
    "resource": 4,
    "disk-full": 4,
    "interrupted": 130,
    "keyboard": 130,
    "os-missing": 2,
    "os-permission": 2,
    "os-full": 4,
    "os-other": 1,
}

OS_MESSAGES = {
    "os-missing": "error: No such file or directory: /data/in/job1",
    "os-permission": "error: Permission denied: /data/out",
    "os-full": "error: No space left on device: /data/out/x.json",
    "os-other": "error: Input/output error",
}


@pytest.fixture
def raising_command() -> Iterator[None]:
    before = list(app.registered_commands)

    @app.command("_raise", hidden=True)
    def _raise(kind: str = typer.Argument(...)) -> None:
        raise FACTORIES[kind]()

    try:
        yield
    finally:
        app.registered_commands[:] = before


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_exit_code_of_each_category(run_cli: RunCli, raising_command: None, kind: str) -> None:
    code, out, err = run_cli("_raise", kind)
    assert code == EXPECTED[kind]
    assert out == ""
    assert "Traceback" not in err
    if kind == "keyboard":  # Ctrl-C: typer exits 130 quietly
        assert err.strip() in {"", "interrupted"}
    elif kind.startswith("os-"):  # OSErrors a command did not translate
        assert err.strip() == OS_MESSAGES[kind]
    elif kind == "interrupted":  # a stop on request is reported, not as an error
        assert err.strip() == str(FACTORIES[kind]())
    else:
        message = str(FACTORIES[kind]())
        assert err.startswith(f"error: {message}")


def test_hint_is_printed_on_its_own_line(run_cli: RunCli, raising_command: None) -> None:
    code, _, err = run_cli("_raise", "input")
    assert code == 2
    assert err.splitlines() == ["error: walk.mp4 is not a video", "  hint: convert it to MP4"]


def test_verbose_adds_the_traceback(run_cli: RunCli, raising_command: None) -> None:
    code, _, err = run_cli("-v", "_raise", "resource")
    assert code == 4
    assert "Traceback (most recent call last)" in err
    assert "ResourceError: model blazepose-full is not cached" in err
    assert err.rstrip().endswith("error: model blazepose-full is not cached")


def test_usage_errors_exit_2(run_cli: RunCli) -> None:
    code, _, err = run_cli("config", "show", "--no-such-option")
    assert code == 2
    assert "No such option" in err
    code, _, err = run_cli("no-such-command")
    assert code == 2
    assert "No such command" in err


def test_help_exits_0(run_cli: RunCli) -> None:
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "config" in out and "--version" in out


def test_every_category_documents_its_code() -> None:
    table = {
        errors.ProcessingError: 1,
        errors.UsageError: 2,
        errors.ConfigError: 2,
        errors.InputError: 2,
        errors.BusyError: 3,
        errors.ResourceError: 4,
        errors.Interrupted: 130,
    }
    for cls, code in table.items():
        assert cls.exit_code == code
        assert issubclass(cls, errors.NeuroPoseError)


def test_busy_exit_code_reaches_the_shell(clean_env: Path) -> None:
    """A real process: the entry point's return value is the process exit code."""
    script = (
        "import sys, typer\n"
        "from neuropose.cli import app, main\n"
        "from neuropose.datadir.lock import LockHeldError\n"
        "@app.command('_busy')\n"
        "def _busy() -> None:\n"
        "    raise LockHeldError('lock is held by pid 1')\n"
        "sys.exit(main(['_busy']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3
    assert proc.stderr.strip() == "error: lock is held by pid 1"
