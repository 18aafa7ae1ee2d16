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
    "neuropose.datadir",
    "neuropose.datadir.layout",
    "neuropose.datadir.lock",
    "neuropose.datadir.staging",
    "neuropose.datadir.status",
    "neuropose.estimator.camera",
    "neuropose.estimator.pipeline",
    "neuropose.estimator.provenance",
    "neuropose.export.base",
    "neuropose.export.opensim_files",
    "neuropose.export.run",
    "neuropose.export.tables",
    "neuropose.ingest",
    "neuropose.video.container",
    "neuropose.ingest.fsops",
    "neuropose.ingest.naming",
    "neuropose.ingest.report",
    "neuropose.ingest.zipcheck",
    "neuropose.interfacer.discovery",
    "neuropose.interfacer.errors",
    "neuropose.interfacer.heartbeat",
    "neuropose.interfacer.processor",
    "neuropose.interfacer.renders",
    "neuropose.interfacer.reports",
    "neuropose.interfacer.transitions",
    "neuropose.io",
    "neuropose.logs",
    "neuropose.models.blazepose_geometry",
    "neuropose.monitor.cache",
    "neuropose.monitor.compare",
    "neuropose.monitor.files",
    "neuropose.monitor.jobfiles",
    "neuropose.monitor.jobpage",
    "neuropose.monitor.render",
    "neuropose.monitor.server",
    "neuropose.monitor.snapshot",
    "neuropose.quality",
    "neuropose.quality.files",
    "neuropose.quality.html",
    "neuropose.quality.metrics",
    "neuropose.quality.report",
    "neuropose.quality.verdict",
    "neuropose.schemas.predictions",
    "neuropose.schemas.provenance",
    "neuropose.segments",
    "neuropose.interrupts",
    "neuropose.timefmt",
    "neuropose.video",
    "neuropose.video.reader",
    "neuropose.video.suffixes",
    "neuropose.video.writer",
    "neuropose.visualize.sides",
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
