"""CSV cells that a spreadsheet would run as formulas are neutralised
(annotations.exporters.csv_export.formula_safe)."""

import doctest

import pytest

from annotations.exporters import csv_export
from annotations.exporters.csv_export import formula_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("a=1", "a=1"), (" =1", " =1"),
        ("", ""), (-1, -1), (2.5, 2.5), (None, None),
    ],
)  # fmt: skip
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def test_docstring_examples():
    failures, tried = doctest.testmod(csv_export)
    assert tried > 0 and failures == 0
