"""``--help`` of every command reads like a conventional CLI's.

No Typer type artefacts (``<bool>`` on a flag, ``<list[Path]>``, ``<str>``)
and no ``{inputs}`` braces in the usage line; values are labelled ``PATH``,
``INTEGER``, ``TEXT``... Commands are discovered from the CLI's own tree,
so a new command is covered without editing this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from tests.conftest import REPO_PYTHONPATH
from typer.testing import CliRunner

from neuropose.cli import app

#: Typer's own labels; ``<results dir>``-style placeholders in prose are fine.
_ARTEFACT = re.compile(
    r"<(?:bool|str|int|float|path|Path|list\[[^\]]*\]|[a-z]+ range|datetime)>"
    r"|\{[a-z_]+\}"
)


def _command_paths() -> Iterator[list[str]]:
    def walk(cmd: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


PATHS = list(_command_paths())
_MAIN = "import sys; from neuropose.cli import main; sys.exit(main())"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "neuropose")
def test_help_has_no_type_artefacts(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage: neuropose" in result.output
    assert _ARTEFACT.findall(result.output) == []


def test_every_command_is_covered() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"process", "status", "config show", "models fetch", "ingest"} <= names
    assert len(names) >= 20


def test_process_help_as_printed_by_the_program(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(PYTHONPATH=REPO_PYTHONPATH, COLUMNS="120", XDG_DATA_HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", _MAIN, "process", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Usage: neuropose process [OPTIONS] INPUTS..." in out
    # a value option is labelled, a flag is not
    assert re.search(r"--output\s+-o\s+PATH\s", out)
    assert re.search(r"--batch-size\s+INTEGER\s", out)
    assert re.search(r"--keep-going\s+Report a failing input", out)
    assert re.search(r"--decode-threads\s+INTEGER RANGE \[x>=1\]", out)
    assert _ARTEFACT.findall(out) == []
