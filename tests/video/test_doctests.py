"""The runnable examples in the video modules' docstrings actually run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "neuropose.video",
    "neuropose.video.suffixes",
    "neuropose.video.reader",
    "neuropose.video.writer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
