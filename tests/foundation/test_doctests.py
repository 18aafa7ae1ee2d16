"""Every docstring example in the package runs as a doctest.

Every module of ``neuropose`` is discovered (nothing to register by hand) and
its examples run; the modules in ``MUST_HAVE_EXAMPLES`` must also have some.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import neuropose

ALL_MODULES = sorted(
    info.name for info in pkgutil.walk_packages(neuropose.__path__, prefix="neuropose.")
)

MUST_HAVE_EXAMPLES = [
    "neuropose.analyzer.dtw",
    "neuropose.analyzer.dtw_engines",
    "neuropose.segments",
    "neuropose.models.blazepose_geometry",
    "neuropose.io",
    "neuropose.logs",
    "neuropose.datadir",
    "neuropose.datadir.layout",
    "neuropose.datadir.lock",
    "neuropose.datadir.staging",
    "neuropose.datadir.status",
    "neuropose.timefmt",
    "neuropose.interfacer.discovery",
    "neuropose.schemas.predictions",
    "neuropose.schemas.provenance",
    "neuropose.quality",
    "neuropose.quality.metrics",
    "neuropose.quality.report",
    "neuropose.quality.html",
    "neuropose.quality.files",
    "neuropose.monitor.cache",
    "neuropose.monitor.render",
    "neuropose.monitor.snapshot",
    "neuropose.monitor.server",
    "neuropose.ingest",
    "neuropose.ingest.report",
    "neuropose.ingest.naming",
    "neuropose.ingest.container",
    "neuropose.ingest.zipcheck",
    "neuropose.ingest.fsops",
    "neuropose.signals",
    "neuropose.interfacer.errors",
    "neuropose.interfacer.heartbeat",
    "neuropose.interfacer.processor",
    "neuropose.interfacer.transitions",
    "neuropose.interfacer.reports",
]


@pytest.mark.parametrize("name", ALL_MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_every_listed_module_exists() -> None:
    assert set(MUST_HAVE_EXAMPLES) <= set(ALL_MODULES)
