"""Imports between NeuroPose packages run one way, down the layer order.

Layers, top to bottom (ARCHITECTURE.md)::

    cli
    interfacer  ingest  monitor  visualize  export  live  classify
    estimator  analyzer  quality  multiview  signals
    models  video  datadir
    foundations: errors config gaps geometry io logs skeletons schemas timefmt wheels samples
                 interrupts smoothing segments

Every module under ``src/neuropose`` is parsed with :mod:`ast`; every import
of a ``neuropose`` module, at top level *and* inside functions, must go to
the same package or to a lower layer. Imports between two packages of one
layer are refused, except the reasoned ones in :data:`SAME_LAYER_REASONS`
and the temporary ones in :data:`IN_PROGRESS` (removed as branches land).
Foundations may import each other (they are single modules below everything
else) as long as their import graph has no cycle. Lazy imports inside
``cli/`` (commands import what they need only when run) are allowed because
``cli`` is the top layer anyway. A second test imports each package in a
fresh interpreter and checks that nothing above it was loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH

SRC = Path(__file__).resolve().parents[2] / "src" / "neuropose"

FOUNDATIONS = frozenset(
    {
        "__init__",
        "config",
        "errors",
        "gaps",
        "geometry",
        "io",
        "logs",
        "samples",
        "schemas",
        "interrupts",
        "skeleton_defs",
        "skeletons",
        "smoothing",
        "segments",
        "timefmt",
        "wheels",
    }
)
LAYERS: dict[str, int] = {
    "cli": 4,
    "interfacer": 3,
    "live": 3,
    "ingest": 3,
    "monitor": 3,
    "visualize": 3,
    "export": 3,
    "classify": 3,
    "estimator": 2,
    "analyzer": 2,
    "quality": 2,
    "multiview": 2,
    "signals": 2,
    "models": 1,
    "video": 1,
    "datadir": 1,
    **dict.fromkeys(FOUNDATIONS, 0),
}

#: Same-layer imports that stay, each with its reason.
SAME_LAYER_REASONS: dict[tuple[str, str], str] = {
    # The model cache serialises concurrent fetches with the data directory's
    # flock primitive: one lock implementation (holder recorded, SIGKILL-safe)
    # rather than a second copy in models/.
    ("models", "datadir"): "one ExclusiveLock implementation",
    # The daemon setting export_formats: one failure-isolated call after each job
    # (export_job never raises), like the quality reports.
    ("interfacer", "export"): "exports after each job (export_formats)",
    # The daemon renders each completed job's visuals when idle (render_after_job):
    # neuropose.interfacer.renders imports neuropose.visualize.pipeline when it renders.
    ("interfacer", "visualize"): "the render step after each job (render_after_job)",
    # Segmentations and DTW comparisons of an analysis config can use nodes of a
    # derived-signal spec (signal = "NODE", mode = "signals"): one graph implementation
    # offline and live. signals never imports analyzer (geometry is a shared foundation).
    ("analyzer", "signals"): "segmentation and DTW on derived signals (signals_spec)",
}

#: Same-layer or upward imports other engineers are removing now (delete on landing).
IN_PROGRESS: dict[tuple[str, str], str] = {}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name.removesuffix(".__init__")


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every neuropose import in src."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}:{node.lineno}: use absolute imports"
                targets = [node.module or ""]
            else:
                continue
            found += [(module, t, node.lineno) for t in targets if t.split(".")[0] == "neuropose"]
    return found


def test_every_package_has_a_layer() -> None:
    packages = {_package(_module_name(p)) for p in SRC.rglob("*.py")}
    assert packages - set(LAYERS) == set(), "add new packages to LAYERS (and ARCHITECTURE.md)"


def test_imports_follow_the_layer_order() -> None:
    imports = _imports()
    assert len(imports) > 100  # the walk really saw the package's imports
    violations = []
    used_exceptions = set()
    for importer, imported, line in imports:
        a, b = _package(importer), _package(imported)
        if a == b or (a in FOUNDATIONS and b in FOUNDATIONS):
            continue
        if LAYERS[b] < LAYERS[a]:
            continue
        if (a, b) in SAME_LAYER_REASONS or (a, b) in IN_PROGRESS:
            used_exceptions.add((a, b))
            continue
        kind = "same layer" if LAYERS[a] == LAYERS[b] else "upward"
        violations.append(f"{importer}:{line} imports {imported} ({kind}: {a} -> {b})")
    assert violations == []
    stale = (set(SAME_LAYER_REASONS) | set(IN_PROGRESS)) - used_exceptions
    assert stale == set(), f"exceptions no longer needed, remove them: {sorted(stale)}"


def test_foundations_have_no_import_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported, _ in _imports():
        a, b = _package(importer), _package(imported)
        if a != b and a in FOUNDATIONS and b in FOUNDATIONS:
            graph[a].add(b)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*trail, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_walk_sees_function_level_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function is found like a top-level one."""
    code = "def f():\n    from neuropose.cli import main\n    return main\n"
    nodes = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.ImportFrom)]
    assert [(n.module, n.lineno) for n in nodes] == [("neuropose.cli", 2)]
    lazy = [(i, t) for i, t, _ in _imports() if _package(i) == "interfacer" and "doctor" in t]
    assert lazy, "the daemon's function-level import of interfacer.doctor was not seen"


_PACKAGES = sorted(
    p
    for p in LAYERS
    if p not in ("__init__", "cli") and ((SRC / p).is_dir() or (SRC / f"{p}.py").is_file())
)


@pytest.mark.slow
@pytest.mark.parametrize("package", _PACKAGES)
def test_importing_a_package_loads_nothing_above_it(package: str) -> None:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module('neuropose.{package}')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('neuropose.'))))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": REPO_PYTHONPATH, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    loaded = {_package(m) for m in json.loads(res.stdout.splitlines()[-1])}
    above = sorted(
        p
        for p in loaded
        if p != package
        and LAYERS.get(p, 0) >= LAYERS[package]
        and not (package in FOUNDATIONS and p in FOUNDATIONS)
        and (package, p) not in SAME_LAYER_REASONS
        and (package, p) not in IN_PROGRESS
    )
    assert above == [], f"importing neuropose.{package} loaded {above}"
