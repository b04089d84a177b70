"""The Analysis page's tables as CSV: plain payload in, lines out.

Tidy: one row per code (frequencies), per code and coder (code x coder),
per ordered pair of codes and measure (co-occurrence), so R's
``read.csv`` / ``tidyr`` and Stata's ``import delimited`` take them as they
are. Every text cell goes through :func:`~.csv_export.formula_safe`; missing
numbers (the median length of an unused code) are empty cells.

The payload is :func:`annotations.services.analysis.analysis_payload`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .csv_export import CsvLines, formula_safe

FREQUENCY_COLUMNS = [
    "source", "code_id", "code", "code_path", "depth", "retired", "n_documents",
    "segments", "segments_with_subcodes", "documents", "documents_with_subcodes",
    "percent_documents", "percent_documents_with_subcodes",
    "coders", "coders_with_subcodes", "median_length", "median_length_with_subcodes",
]  # fmt: skip
CODE_CODER_COLUMNS = [
    "code_id", "code", "code_path", "coder", "segments", "segments_with_subcodes",
]  # fmt: skip
COOCCURRENCE_COLUMNS = [
    "source", "measure", "code_a_id", "code_a", "code_b_id", "code_b", "count",
]  # fmt: skip


def _line() -> Any:
    lines = CsvLines()
    return lambda row: lines([formula_safe(v) for v in row])


def _percent(part: int, whole: int) -> float | str:
    return round(100 * part / whole, 2) if whole else ""


def _missing(value) -> object:
    return "" if value is None else value


def frequencies_csv(payload: dict, source: str) -> Iterator[str]:
    """One line per code in codebook order: :data:`FREQUENCY_COLUMNS`.

    ``percent_documents`` is per 100 of the project's ``n_documents``;
    ``median_length`` is in code points. The ``_with_subcodes`` columns
    count the code and its descendants together.
    """
    line = _line()
    yield line(FREQUENCY_COLUMNS)
    n = payload["n_documents"]
    f = payload["sources"][source]["frequencies"]
    for i, code in enumerate(payload["codes"]):
        yield line(
            [source, code["id"], code["name"], code["path"], code["depth"],
             int(code["retired"]), n, f["segments"][i], f["segments_subtree"][i],
             f["documents"][i], f["documents_subtree"][i],
             _percent(f["documents"][i], n), _percent(f["documents_subtree"][i], n),
             f["coders"][i], f["coders_subtree"][i],
             _missing(f["median_length"][i]), _missing(f["median_length_subtree"][i])]
        )  # fmt: skip


def code_coder_csv(payload: dict) -> Iterator[str]:
    """One line per code and coder (the consensus as coder ``consensus``),
    zeros included: :data:`CODE_CODER_COLUMNS`."""
    line = _line()
    yield line(CODE_CODER_COLUMNS)
    table = payload["code_coder"]
    for i, code in enumerate(payload["codes"]):
        for j, coder in enumerate(table["columns"]):
            yield line(
                [code["id"], code["name"], code["path"], coder,
                 table["counts"][i][j], table["subtree"][i][j]]
            )  # fmt: skip


def cooccurrence_csv(
    payload: dict, source: str, measures: Sequence[str]
) -> Iterator[str]:
    """One line per measure and ordered pair of codes, the diagonal
    included: :data:`COOCCURRENCE_COLUMNS`. ``documents``: documents with
    both codes (diagonal: with the code); ``overlaps``: pairs of
    overlapping segments by one coder (diagonal: the code's segments)."""
    line = _line()
    yield line(COOCCURRENCE_COLUMNS)
    tables = payload["sources"][source]
    codes = payload["codes"]
    for measure in measures:
        matrix = tables[measure]
        for i, a in enumerate(codes):
            for j, b in enumerate(codes):
                yield line(
                    [source, measure, a["id"], a["path"], b["id"], b["path"],
                     matrix[i][j]]
                )  # fmt: skip
