"""Docs as tests: the commands in README.md and docs/getting-started.md exist and run.

* Every relative Markdown link of README.md and docs/*.md resolves to a file.
* Every ``neuropose …`` line in a code block of README.md and
  docs/getting-started.md names an existing command and only options that
  command accepts (checked against the CLI's own command tree).
* The "Process one video" block of docs/getting-started.md runs as written,
  in a temporary directory holding the lab clip as ``walk.mp4``, and writes
  the file its comment names.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from neuropose.cli import app

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDES = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "getting-started.md"]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)


def _doc_commands(doc: Path) -> list[list[str]]:
    commands = []
    for block in _FENCE.findall(doc.read_text()):
        for line in block.splitlines():
            line = line.removeprefix("$ ").split("  #")[0].strip().rstrip("&").strip()
            if line.startswith("neuropose "):
                commands.append(shlex.split(line)[1:])
    return commands


def _resolve(argv: list[str]) -> tuple[typer.core.TyperCommand, list[str], list[str]]:
    """(command object, command path, options used) of one documented command line."""
    cmd = typer.main.get_command(app)
    ctx = typer.Context(cmd)
    path: list[str] = []
    options: list[str] = []
    for tok in argv:
        if tok.startswith("-"):
            options.append(tok.split("=")[0])
            continue
        sub = cmd.get_command(ctx, tok) if hasattr(cmd, "get_command") else None
        if sub is not None:
            cmd, path = sub, [*path, tok]
    return cmd, path, options


@pytest.mark.parametrize(
    "doc", [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))], ids=str
)
def test_relative_links_resolve(doc: Path) -> None:
    missing = [
        target
        for target in _LINK.findall(doc.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (doc.parent / target).exists()
    ]
    assert missing == [], f"{doc.name}: links to missing files"


@pytest.mark.parametrize("doc", GUIDES, ids=lambda p: p.name)
def test_documented_commands_and_options_exist(doc: Path) -> None:
    commands = _doc_commands(doc)
    assert commands, f"{doc.name} shows no neuropose command"
    root = typer.main.get_command(app)
    global_opts = {o for p in root.params for o in p.opts}
    for argv in commands:
        cmd, path, options = _resolve(argv)
        only_global = bool(options) and set(options) <= global_opts
        assert path or only_global, f"{doc.name}: `neuropose {' '.join(argv)}` names no command"
        known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | global_opts
        unknown = [o for o in options if o not in known and o not in ("-h", "--help")]
        assert unknown == [], f"{doc.name}: `neuropose {' '.join(argv)}`: unknown {unknown}"


@pytest.mark.media
def test_getting_started_process_one_video_runs_as_written(
    tmp_path: Path, blazepose_model, model_cache_dir: Path, shared_media: Path
) -> None:
    text = (REPO_ROOT / "docs" / "getting-started.md").read_text()
    section = text.split("## Process one video", 1)[1].split("## ", 1)[0]
    lines = [shlex.split(c) for c in _FENCE.findall(section)[0].splitlines() if c.strip()]
    assert [a[:2] for a in lines] == [
        ["$", "neuropose"],
        ["$", "neuropose"],
        ["$", "neuropose"],
    ]
    (tmp_path / "walk.mp4").symlink_to(shared_media / "lab_single_person" / "cam01.mp4")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "xdg"), NEUROPOSE_MODEL_CACHE_DIR=str(model_cache_dir))
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    for raw in _FENCE.findall(section)[0].splitlines():
        argv = shlex.split(raw.removeprefix("$ ").split("  #")[0])[1:]
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, f"{raw}\n{proc.stderr}"
    assert (tmp_path / "results" / "walk.results.json").is_file()  # as the comment says
    rendered = {p.name for p in (tmp_path / "results" / "visualize").iterdir()}
    assert any(name.endswith(".quality.json") for name in rendered), rendered


def test_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    """pdoc renders neuropose.analyzer and neuropose.export, every public name included."""
    pdoc = pytest.importorskip("pdoc", reason="pdoc is in the dev extra")
    import importlib
    import warnings

    import pdoc.render

    pdoc.render.configure(docformat="numpy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc("neuropose.analyzer", "neuropose.export", output_directory=tmp_path)
    assert [str(w.message) for w in caught] == []
    for name in ("analyzer", "export"):
        module = importlib.import_module(f"neuropose.{name}")
        html = (tmp_path / "neuropose" / f"{name}.html").read_text()
        anchors = set(re.findall(r'id="([A-Za-z_][\w.]*)"', html))
        assert module.__all__, name
        missing = [n for n in module.__all__ if n not in anchors]
        assert missing == [], f"neuropose.{name}: not in the API reference: {missing}"
