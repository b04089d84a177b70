"""The document x code tables, built as streams from sorted count rows.

A segment of a code also counts for each of its ancestors ("rolled-up
parents"): ``n_actor`` is the number of segments of *actor* and of all its
subcodes in the document, ``has_actor`` is 1 when that number is above 0.
"""

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .rows import CodeInfo, CountRow, CoverageRow


@dataclass(frozen=True)
class MatrixRow:
    """One document and coder: rolled-up counts in codebook order."""

    document_id: int
    coder: int
    status: str  # the assignment status, or "" when there is none
    counts: tuple[int, ...]
    n_segments: int  # segments of this coder in this document (not rolled up)


def ancestors_index(codes: Sequence[CodeInfo]) -> list[list[int]]:
    """For each code position, the positions it counts for: itself and every
    ancestor.

    >>> from .rows import CodeInfo
    >>> cs = [CodeInfo(1, "a", "a", None, 0, 0, "a"),
    ...       CodeInfo(2, "b", "a/b", 1, 1, 1, "b")]
    >>> ancestors_index(cs)
    [[0], [1, 0]]
    """
    position = {c.id: c.position for c in codes}
    parent = {c.id: c.parent_id for c in codes}
    result = []
    for code in codes:
        chain, current = [], code.id
        while current is not None:
            chain.append(position[current])
            current = parent.get(current)
        result.append(chain)
    return result


def matrix_rows(
    codes: Sequence[CodeInfo],
    coverage: Iterable[CoverageRow],
    counts: Iterable[CountRow],
    *,
    coder_rank,
) -> Iterator[MatrixRow]:
    """Merge coverage and count streams (both sorted by document, then
    ``coder_rank(coder)``) into one row per (document, coder).

    A pair with segments but no assignment still gets a row (status "").
    Memory holds one (document, coder) group at a time.

    >>> from .rows import CodeInfo, CountRow, CoverageRow
    >>> cs = [CodeInfo(1, "a", "a", None, 0, 0, "a"),
    ...       CodeInfo(2, "b", "a/b", 1, 1, 1, "b")]
    >>> cov = [CoverageRow(10, 7, "done")]
    >>> cnt = [CountRow(10, 7, 2, 3), CountRow(11, 7, 1, 1)]
    >>> [(r.document_id, r.counts, r.status) for r in
    ...  matrix_rows(cs, cov, cnt, coder_rank=lambda c: c)]
    [(10, (3, 3), 'done'), (11, (1, 0), '')]
    """
    lift = ancestors_index(codes)
    position = {c.id: c.position for c in codes}
    tagged = heapq.merge(
        ((r.document_id, coder_rank(r.coder), 0, r) for r in coverage),
        ((r.document_id, coder_rank(r.coder), 1, r) for r in counts),
        key=lambda t: (t[0], t[1], t[2]),
    )
    for (_doc, _rank), group in itertools.groupby(tagged, key=lambda t: (t[0], t[1])):
        values = [0] * len(codes)
        status, total, first = "", 0, None
        for _, _, kind, row in group:
            first = first or row
            if kind == 0:
                status = row.status
                continue
            total += row.n
            for i in lift[position[row.code_id]]:
                values[i] += row.n
        yield MatrixRow(first.document_id, first.coder, status, tuple(values), total)


# Whose values a reliability table holds: coders who marked the document
# done, as the agreement report's sample counts them, and the consensus
# (open or closed adjudication, as the report's coder-vs-consensus rows).
RELIABILITY_STATUSES = frozenset({"done", "adjudicated", "open"})


def reliability_values(
    rows: Iterable[MatrixRow], coder_keys: Sequence[int], n_codes: int
) -> Iterator[tuple[int, list[list[int | None]], int, int]]:
    """Per document: ``(document_id, values, n_coders, n_done)`` where
    ``values[code][coder]`` is 1 (applied, or a subcode), 0 (marked done
    without applying it) or None (missing: not assigned, or not marked done).
    ``n_coders`` counts the coders assigned (or with segments), ``n_done``
    those who marked the document done: the agreement report's sample is the
    documents with ``n_done >= 2``, and its values are exactly these.

    ``rows`` must be sorted by document (as :func:`matrix_rows` yields them).
    """
    column = {k: i for i, k in enumerate(coder_keys)}
    for doc, group in itertools.groupby(rows, key=lambda r: r.document_id):
        values: list[list[int | None]] = [
            [None] * len(coder_keys) for _ in range(n_codes)
        ]
        n_coders = n_done = 0
        for row in group:
            j = column.get(row.coder)
            if j is None:
                continue
            n_coders += row.status not in ("adjudicated", "open")
            n_done += row.status == "done"
            if row.status not in RELIABILITY_STATUSES:
                continue
            for i, count in enumerate(row.counts):
                values[i][j] = 1 if count else 0
        if n_coders or any(v is not None for per_code in values for v in per_code):
            yield doc, values, n_coders, n_done
