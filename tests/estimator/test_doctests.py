"""The runnable examples in the estimator modules' docstrings actually run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "neuropose.estimator.pipeline",
    "neuropose.estimator.provenance",
    "neuropose.estimator.camera",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
