"""The runnable examples in the foundation modules' docstrings actually run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "neuropose.io",
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
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
