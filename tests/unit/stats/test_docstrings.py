"""The worked examples in the engine's docstrings run and hold."""

import doctest

import pytest

from annotations.stats import agreement, coefficients, intervals, results


@pytest.mark.parametrize("module", [agreement, coefficients, intervals, results])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0
