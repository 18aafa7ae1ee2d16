"""The runnable examples in the export modules' docstrings actually run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "neuropose.export.base",
    "neuropose.export.opensim_files",
    "neuropose.export.run",
    "neuropose.export.tables",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
