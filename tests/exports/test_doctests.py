"""The worked examples in the exporters' docstrings are true."""

import doctest
import importlib

import pytest

MODULES = [
    "annotations.exporters.names", "annotations.exporters.matrix",
    "annotations.exporters.rows", "annotations.exporters.codebook",
    "annotations.exporters.consensus", "annotations.exporters.bundle",
    "annotations.exporters.stata_cells",
    "annotations.exporters.r_script", "annotations.exporters.refi_qda",
    "annotations.importers.refi_qda", "annotations.services.qdpx",
    "annotations.exporters.methods", "annotations.stats.thresholds",
    "annotations.services.codebook_versions", "annotations.selectors.codebook",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
