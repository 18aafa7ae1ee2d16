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
    pytest.importorskip("pdoc", reason="pdoc is in the dev extra")
    import importlib
    import warnings

    import pdoc
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


class _DocSession:
    """Runs documented command lines as a user would, in a fresh home.

    Each line runs through ``bash -c`` (globs and quotes as typed) from a work
    directory holding the inputs the text assumes (``clip.mp4``, ``batch.zip``,
    ``session-03/*.mp4``, a copy of ``examples/``), with ``neuropose`` on
    ``PATH`` running this checkout (what ``source .venv/bin/activate`` gives).
    ``watch`` and ``serve`` run until the test has seen their effect (every
    job completed; ``/health`` answering), then get SIGTERM.
    """

    def __init__(self, tmp_path: Path, model_cache_dir: Path, media: Path) -> None:
        import shutil
        import socket
        import zipfile

        from tests.conftest import REPO_PYTHONPATH

        self.work = tmp_path / "work"
        (self.work / "session-03").mkdir(parents=True)
        clip = media / "lab_single_person" / "cam01.mp4"
        (self.work / "clip.mp4").symlink_to(clip)
        (self.work / "walk.mp4").symlink_to(clip)
        shutil.copy(clip, self.work / "session-03" / "trial-1.mp4")
        with zipfile.ZipFile(self.work / "batch.zip", "w") as zf:
            zf.write(clip, "trial01.mp4")
        shutil.copytree(REPO_ROOT / "examples", self.work / "examples")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "neuropose"
        shim.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -c '
            '"import sys; from neuropose.cli import main; sys.exit(main())" "$@"\n'
        )
        shim.chmod(0o755)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NEUROPOSE_", "XDG_")) and k != "PYTHONPATH"
        }
        self.env.update(
            HOME=str(tmp_path / "home"),
            PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            PYTHONPATH=REPO_PYTHONPATH,
            NEUROPOSE_MODEL_CACHE_DIR=str(model_cache_dir),
            NEUROPOSE_MONITOR_PORT=str(self.port),
            NEUROPOSE_SETTLE_SECONDS="1",
        )
        self.daemon: subprocess.Popen[str] | None = None

    def _popen(self, line: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "-c", line],
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def jobs(self) -> dict[str, str]:
        import json

        proc = self.run("neuropose status --json")
        assert proc.returncode == 0, proc.stderr
        return {k: v["state"] for k, v in json.loads(proc.stdout)["jobs"].items()}

    def wait_jobs_done(self, timeout_s: float = 900) -> dict[str, str]:
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = self.jobs()
            if states and all(s in ("completed", "failed") for s in states.values()):
                return states
            time.sleep(2)
        raise AssertionError(f"jobs not done in {timeout_s} s: {self.jobs()}")

    def stop(self, proc: subprocess.Popen[str], expect: int, line: str) -> None:
        import signal

        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == expect, f"{line}: exit {proc.returncode}\n{out}\n{err}"
        assert "Traceback" not in err and "error:" not in err, err

    def serve_once(self, line: str) -> None:
        import time
        import urllib.request

        proc = self._popen(line)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the dashboard never answered"
                time.sleep(0.5)
        self.stop(proc, 0, line)

    def block(self, doc: Path, heading: str) -> list[str]:
        """Run the first code block under ``heading``; return the lines run."""
        section = doc.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
        done = []
        for raw in _FENCE.findall(section)[0].splitlines():
            line = raw.removeprefix("$ ").split("  #")[0].strip()
            if not line:
                continue
            if line == "source .venv/bin/activate":
                continue  # the shim on PATH stands in for the activated venv
            background = line.endswith("&")
            line = line.rstrip("&").strip()
            words = shlex.split(line)
            assert words[0] == "neuropose", line
            if "watch" in words and background:
                self.daemon = self._popen(line)
            elif "watch" in words:
                proc = self._popen(line)
                self.wait_jobs_done()
                self.stop(proc, 130, line)  # stopped by SIGTERM, as `watch --help` says
            elif "serve" in words:
                self.serve_once(line)
            else:
                proc_ = self.run(line)
                assert proc_.returncode == 0, f"{line}: exit {proc_.returncode}\n{proc_.stderr}"
                assert "Traceback" not in proc_.stderr, proc_.stderr
            done.append(line)
        return done


@pytest.mark.slow
@pytest.mark.media
def test_readme_everyday_block_runs_as_written(
    tmp_path: Path, blazepose_model, model_cache_dir: Path, shared_media: Path
) -> None:
    session = _DocSession(tmp_path, model_cache_dir, shared_media)
    done = session.block(REPO_ROOT / "README.md", "## Everyday use")
    assert len(done) == 9, done
    work = session.work
    assert (work / "results" / "clip.results.json").is_file()  # as its comment says
    assert any((work / "results" / "visualize").glob("*.quality.json"))
    assert (work / "examples" / "gait.report.json").is_file()  # analyze's default output
    assert session.jobs() == {"trial01": "completed"}
    data_dir = tmp_path / "home" / ".local" / "share" / "neuropose" / "jobs"
    assert (data_dir / "out" / "trial01" / "results.json").is_file()  # as the text says


@pytest.mark.slow
@pytest.mark.media
def test_getting_started_lab_pipeline_runs_as_written(
    tmp_path: Path, blazepose_model, model_cache_dir: Path, shared_media: Path
) -> None:
    session = _DocSession(tmp_path, model_cache_dir, shared_media)
    done = session.block(REPO_ROOT / "docs" / "getting-started.md", "## Run the lab pipeline")
    assert [shlex.split(d)[1] for d in done] == ["watch", "ingest", "status", "serve"]
    assert session.daemon is not None
    assert session.wait_jobs_done() == {"trial-1": "completed"}
    session.stop(session.daemon, 130, "neuropose watch &")


@pytest.mark.slow
@pytest.mark.media
def test_getting_started_analyse_block_runs_after_process(
    tmp_path: Path, blazepose_model, model_cache_dir: Path, shared_media: Path
) -> None:
    session = _DocSession(tmp_path, model_cache_dir, shared_media)
    guide = REPO_ROOT / "docs" / "getting-started.md"
    session.block(guide, "## Process one video")
    done = session.block(guide, "## Analyse")
    assert [shlex.split(d)[1] for d in done] == ["segment", "analyze"]
    results = session.work / "results"
    assert (results / "walk.results.json").is_file()
    assert len([p for p in results.iterdir() if "segment" in p.name]) == 1, sorted(
        results.iterdir()
    )
    assert (session.work / "examples" / "gait.report.json").is_file()
