"""The usage examples in the replay docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import replay.buffer


@pytest.mark.parametrize("module", [replay.buffer])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
