"""What was coded: code frequencies, segments per code and coder, and code
co-occurrence, from plain arrays (numpy only, no Django).

The rows are live segments as parallel arrays ``document``, ``coder``,
``code``, ``start``, ``end`` (ids are any integers; the consensus is just one
more coder id). Offsets are half-open ``[start, end)`` in code points, so
``[0, 5)`` and ``[5, 9)`` touch but do not overlap. ``codes`` lists the
codebook in display order and fixes the rows and columns of every result;
segments of a code not in it are left out. ``parents`` maps a code to its
parent (or ``None``) for the figures that include subcodes.

The measures are the descriptive tables qualitative-analysis tools put
beside agreement: code frequencies, a code x coder matrix, and code
co-occurrence in the same document or in overlapping segments, as in
MAXQDA's Code Relations Browser (both readings) and ATLAS.ti's Code
Co-Occurrence Table (overlapping quotations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DOCUMENTS = "documents"
OVERLAPS = "overlaps"
MEASURES = (DOCUMENTS, OVERLAPS)
_CELLS = 1 << 24  # cells of a presence matrix held at once


@dataclass(frozen=True)
class CodeFrequencies:
    """Per code (in ``codes`` order), on its own and with its subcodes.

    ``documents`` counts the documents with the code, ``coders`` the coders
    who applied it, ``median_length`` the median segment length in code
    points (NaN without segments); ``share`` is ``documents / n_documents``.
    The ``*_subtree`` arrays count the code and all its descendants
    together: a segment counts once for each of its ancestors, never twice
    for one code.
    """

    codes: tuple[int, ...]
    n_documents: int
    segments: np.ndarray
    documents: np.ndarray
    coders: np.ndarray
    median_length: np.ndarray
    segments_subtree: np.ndarray
    documents_subtree: np.ndarray
    coders_subtree: np.ndarray
    median_length_subtree: np.ndarray

    @property
    def share(self) -> np.ndarray:
        return _share(self.documents, self.n_documents)

    @property
    def share_subtree(self) -> np.ndarray:
        return _share(self.documents_subtree, self.n_documents)


@dataclass(frozen=True)
class CodeCoderCounts:
    """Segments per code (rows, ``codes`` order) and coder (columns,
    ``coders`` order); ``subtree`` includes each code's subcodes."""

    codes: tuple[int, ...]
    coders: tuple[int, ...]
    counts: np.ndarray
    subtree: np.ndarray


@dataclass(frozen=True)
class CoOccurrence:
    """A symmetric code x code matrix of ``measure`` (rows and columns in
    ``codes`` order). The diagonal holds each code's own count: documents
    with it (``"documents"``) or its segments (``"overlaps"``).
    ``same_code`` is, for ``"overlaps"``, the pairs of overlapping segments
    of one code by one coder (kept off the diagonal); zeros otherwise.
    """

    codes: tuple[int, ...]
    measure: str
    counts: np.ndarray
    same_code: np.ndarray


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _share(documents: np.ndarray, n_documents: int) -> np.ndarray:
    if n_documents <= 0:
        return np.full(documents.shape, np.nan)
    return documents / n_documents


def _code_index(
    codes: Sequence[int], code: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each segment's row in ``codes`` and a mask of the segments whose code
    is listed."""
    ids = _ints(codes)
    if ids.size == 0 or code.size == 0:
        return np.zeros(code.size, dtype=np.int64), np.zeros(code.size, dtype=bool)
    low, high = int(min(ids.min(), code.min())), int(max(ids.max(), code.max()))
    if high - low < 4 * code.size + 1024:
        # Compact ids (database keys): a lookup table, no search.
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(ids.size, dtype=np.int64)
        rows = table[code - low]
        known = rows >= 0
        return np.where(known, rows, 0), known
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], code), ids.size - 1)
    known = ids[order][pos] == code
    return order[pos], known


def _dense(values: np.ndarray) -> np.ndarray:
    """Values renumbered 0..m-1, order kept. Ids are usually compact (database
    keys): a lookup table then does in one pass what a sort would."""
    if values.size == 0:
        return values
    low, high = int(values.min()), int(values.max())
    if high - low < 4 * values.size + 1024:
        table = np.zeros(high - low + 1, dtype=np.int64)
        table[values - low] = 1
        return (np.cumsum(table) - 1)[values - low]
    return np.unique(values, return_inverse=True)[1].reshape(-1)


def subtree_matrix(
    codes: Sequence[int], parents: Mapping[int, int | None]
) -> np.ndarray:
    """The k x k 0/1 matrix *T* with ``T[d, a] = 1`` when ``codes[a]`` is
    ``codes[d]`` or one of its ancestors, so that ``own @ T`` sums each
    code's subtree. A parent not in ``codes`` ends the chain; a cycle
    (impossible through the app) is cut.

    >>> subtree_matrix([1, 2, 3], {1: None, 2: 1, 3: 2}).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    row = {c: i for i, c in enumerate(codes)}
    t = np.zeros((len(codes), len(codes)), dtype=np.int64)
    for c in codes:
        seen, ancestor = set(), c
        while ancestor is not None and ancestor in row and ancestor not in seen:
            t[row[c], row[ancestor]] = 1
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
    return t


def _blocks(values: np.ndarray, n: int, width: int):
    """``(lo, width, selection)`` for consecutive ranges of ``values`` in
    ``[0, n)``, so that a matrix of ``width`` rows at a time stays small."""
    width = max(1, width)
    if n <= width:
        yield 0, n, slice(None)
        return
    for lo in range(0, n, width):
        yield lo, min(width, n - lo), (values >= lo) & (values < lo + width)


def _distinct(
    row: np.ndarray, other: np.ndarray, tree: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of distinct ``other`` values, on its own and over
    its subtree: sums of a 0/1 (other x row) presence matrix, a block of
    ``other`` values at a time."""
    k = tree.shape[0]
    own, sub = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    if row.size == 0:
        return own, sub
    other = _dense(other)
    for lo, width, sel in _blocks(other, int(other.max()) + 1, _CELLS // k):
        seen = np.zeros((width, k), dtype=np.float64)
        seen[other[sel] - lo, row[sel]] = 1.0
        own += seen.sum(axis=0).astype(np.int64)
        sub += (seen @ tree > 0).sum(axis=0)
    return own, sub


def _medians(
    row: np.ndarray, value: np.ndarray, tree: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the median of ``value`` (non-negative integers), on its own
    and over its subtree: the mean of the two middle values for an even
    count, as ``numpy.median``; NaN for no values. Read off cumulative
    histograms (row x value), a block of values at a time: no sort."""
    k = tree.shape[0]
    if row.size == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    n_own = np.bincount(row, minlength=k)
    n_sub = n_own @ tree
    results = []
    for n in (n_own, n_sub):
        # 0-based ranks of the two middle values, and where they are found.
        results.append([(n - 1) // 2, n // 2, np.full(k, -1), np.full(k, -1)])
    before = [np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)]
    for lo, width, sel in _blocks(value, int(value.max()) + 1, _CELLS // k):
        hist = np.bincount(
            row[sel] * width + (value[sel] - lo), minlength=k * width
        ).reshape(k, width)
        for i, h in enumerate((hist, tree.T @ hist)):
            cum = before[i][:, None] + np.cumsum(h, axis=1)
            lo_rank, hi_rank, lo_at, hi_at = results[i]
            for rank, at in ((lo_rank, lo_at), (hi_rank, hi_at)):
                found = (at < 0) & (cum[:, -1] > rank)
                at[found] = lo + (cum[found] > rank[found, None]).argmax(axis=1)
            before[i] = cum[:, -1]
    out = []
    for n, (_, _, lo_at, hi_at) in zip((n_own, n_sub), results, strict=True):
        median = np.full(k, np.nan)
        median[n > 0] = (lo_at[n > 0] + hi_at[n > 0]) / 2
        out.append(median)
    return out[0], out[1]


def code_frequencies(
    *,
    document: Sequence[int],
    coder: Sequence[int],
    code: Sequence[int],
    start: Sequence[int],
    end: Sequence[int],
    codes: Sequence[int],
    parents: Mapping[int, int | None],
    n_documents: int,
) -> CodeFrequencies:
    """Segments, documents, coders and median segment length per code, on
    its own and with its subcodes.

    For code *c* with segments *S(c)*: segments = \\|S(c)\\|, documents =
    \\|{document(s) : s in S(c)}\\|, coders = \\|{coder(s) : s in S(c)}\\|,
    median length = median of end(s) - start(s). The subtree figures use
    the union of *S(d)* over *c* and its descendants *d*.

    >>> f = code_frequencies(
    ...     document=[1, 1, 2], coder=[7, 8, 7], code=[10, 11, 11],
    ...     start=[0, 4, 0], end=[3, 9, 1], codes=[10, 11],
    ...     parents={10: None, 11: 10}, n_documents=4)
    >>> f.segments.tolist(), f.segments_subtree.tolist()
    ([1, 2], [3, 2])
    >>> f.documents_subtree.tolist(), f.share_subtree.tolist()
    ([2, 2], [0.5, 0.5])
    >>> f.coders.tolist(), f.median_length.tolist(), f.median_length_subtree.tolist()
    ([1, 2], [3.0, 3.0], [3.0, 3.0])
    """
    idx, known = _code_index(codes, _ints(code))
    doc, who = _ints(document)[known], _ints(coder)[known]
    length = (_ints(end) - _ints(start))[known]
    idx = idx[known]
    tree = subtree_matrix(codes, parents)
    segments = np.bincount(idx, minlength=len(codes)).astype(np.int64)
    documents, documents_subtree = _distinct(idx, doc, tree)
    coders, coders_subtree = _distinct(idx, who, tree)
    median, median_subtree = _medians(idx, length, tree)
    return CodeFrequencies(
        codes=tuple(codes), n_documents=int(n_documents),
        segments=segments, documents=documents, coders=coders,
        median_length=median, segments_subtree=segments @ tree,
        documents_subtree=documents_subtree, coders_subtree=coders_subtree,
        median_length_subtree=median_subtree,
    )  # fmt: skip


def code_coder_counts(
    *,
    coder: Sequence[int],
    code: Sequence[int],
    codes: Sequence[int],
    coders: Sequence[int],
    parents: Mapping[int, int | None],
) -> CodeCoderCounts:
    """Segments per code and coder: ``counts[i, j]`` is the number of
    segments of ``codes[i]`` by ``coders[j]``; ``subtree[i, j]`` adds the
    segments of the code's descendants. Coders not listed are left out.

    >>> t = code_coder_counts(coder=[7, 8, 8, 9], code=[10, 11, 11, 10],
    ...                       codes=[10, 11], coders=[7, 8],
    ...                       parents={10: None, 11: 10})
    >>> t.counts.tolist(), t.subtree.tolist()
    ([[1, 0], [0, 2]], [[1, 2], [0, 2]])
    """
    k, m = len(codes), len(coders)
    idx, known = _code_index(codes, _ints(code))
    col, listed = _code_index(coders, _ints(coder))
    keep = known & listed
    idx, col = idx[keep], col[keep]
    counts = np.bincount(idx * m + col, minlength=k * m).reshape(k, m)
    counts = counts.astype(np.int64)
    subtree = subtree_matrix(codes, parents).T @ counts
    return CodeCoderCounts(tuple(codes), tuple(coders), counts, subtree)


def document_cooccurrence(
    *, document: Sequence[int], code: Sequence[int], codes: Sequence[int]
) -> CoOccurrence:
    """Documents in which both codes were applied (by any of the coders in
    the rows): ``counts = P^T P`` for the 0/1 document x code presence
    matrix *P*, so the diagonal is the number of documents with each code.

    >>> c = document_cooccurrence(document=[1, 1, 1, 2, 2], code=[10, 11, 11, 11, 12],
    ...                           codes=[10, 11, 12])
    >>> c.counts.tolist()
    [[1, 1, 0], [1, 2, 1], [0, 1, 1]]
    """
    k = len(codes)
    idx, known = _code_index(codes, _ints(code))
    doc = _ints(document)[known]
    idx = idx[known]
    counts = np.zeros((k, k), dtype=np.int64)
    if idx.size:
        doc = _dense(doc)
        # The presence matrix a block of documents at a time: memory stays
        # bounded whatever the project's size.
        for lo, width, sel in _blocks(doc, int(doc.max()) + 1, _CELLS // k):
            present = np.zeros((width, k), dtype=np.float64)
            present[doc[sel] - lo, idx[sel]] = 1.0
            counts += np.rint(present.T @ present).astype(np.int64)
    return CoOccurrence(tuple(codes), DOCUMENTS, counts, np.zeros(k, dtype=np.int64))


def overlap_cooccurrence(
    *,
    document: Sequence[int],
    coder: Sequence[int],
    code: Sequence[int],
    start: Sequence[int],
    end: Sequence[int],
    codes: Sequence[int],
) -> CoOccurrence:
    """Pairs of overlapping segments by one coder in one document, per pair
    of codes; the diagonal holds each code's number of segments.

    Segments *i* and *j* overlap when ``start_i < end_j`` and ``start_j <
    end_i`` (half-open: touching spans do not). The segments are sorted by
    (document, coder, start) and swept: a segment *i* before *j* in its group
    overlaps *j* exactly when ``end_i > start_j``, and once the largest end
    among the group's segments up to *i* is at or before ``start_j``, no
    earlier segment can overlap *j*. Every step compares each segment with
    the one ``d`` places before it, for all segments at once, and drops the
    segments that can have no earlier partner left; so the work is the sort
    plus one comparison per (segment, earlier segment still open or nested
    in one still open), within one document and coder, never every pair of
    a project. Off the diagonal, cell (a, b) counts the unordered pairs of a
    segment of code *a* and one of code *b*; ``same_code`` counts the pairs
    of one code (one coder's overlapping segments of the same code).

    >>> c = overlap_cooccurrence(
    ...     document=[1, 1, 1, 1], coder=[7, 7, 7, 8], code=[10, 11, 12, 11],
    ...     start=[0, 3, 5, 0], end=[5, 8, 9, 9], codes=[10, 11, 12])
    >>> c.counts.tolist()
    [[1, 1, 0], [1, 2, 1], [0, 1, 1]]

    Coder 7's ``[0, 5)`` overlaps ``[3, 8)`` but only touches ``[5, 9)``;
    coder 8's segment overlaps all three but is another coder's.
    """
    k = len(codes)
    idx, known = _code_index(codes, _ints(code))
    doc, who = _ints(document)[known], _ints(coder)[known]
    s, e = _ints(start)[known], _ints(end)[known]
    idx = idx[known]
    pairs = np.zeros(k * k, dtype=np.int64)
    if idx.size:
        coder_row = _dense(who)
        group = _dense(doc) * (int(coder_row.max()) + 1) + coder_row
        size = np.int64(max(int(e.max()), int(s.max())) + 1)
        order = np.argsort(group * size + s, kind="stable")
        group, s, e, idx = group[order], s[order], e[order], idx[order]
        # The largest end so far in the group; offsetting by the group keeps
        # it from leaking into the next group.
        reach = np.maximum.accumulate(e + group * size) - group * size
        later = np.arange(1, idx.size, dtype=np.int64)
        back = 1
        while later.size:
            earlier = later - back
            open_ = (earlier >= 0) & (group[earlier] == group[later])
            later, earlier = later[open_], earlier[open_]
            open_ = reach[earlier] > s[later]
            later, earlier = later[open_], earlier[open_]
            hit = e[earlier] > s[later]
            pairs += np.bincount(
                idx[earlier[hit]] * k + idx[later[hit]], minlength=k * k
            )
            back += 1
    half = pairs.reshape(k, k)
    counts = half + half.T
    same = np.diagonal(half).copy()
    counts[np.diag_indices(k)] = np.bincount(idx, minlength=k)
    return CoOccurrence(tuple(codes), OVERLAPS, counts, same)
