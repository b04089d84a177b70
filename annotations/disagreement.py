"""How much the coders of each document disagree: the ranking behind the
agreement page's per-document list (pure numpy, no Django).

For one document with ``m`` coders in the reliability sample and each code
as applied (not rolled up: a parent against its subcode is a disagreement),
let ``U`` be the characters inside a segment of the code by *any* coder and
``I`` the characters inside one by *every* coder (each coder's overlapping
segments merged first). Then

    disagreement = 1 - sum_codes I / sum_codes U      (0 when nobody coded)

the share of coded characters the coders do not all agree on (one minus the
Jaccard index over (code, character) units), and ``codes_disputed`` counts
the codes applied by some of the coders but not all. Both come from a sweep
over segment boundaries, never one cell per character.

>>> import numpy as np
>>> r = document_disagreements(
...     seg_document=np.array([0, 0, 1]), seg_coder=np.array([0, 1, 0]),
...     seg_code=np.array([0, 0, 0]), seg_start=np.array([0, 5, 0]),
...     seg_end=np.array([10, 10, 4]), coders_per_document=np.array([2, 2]))
>>> [round(float(x), 2) for x in r.disagreement], r.codes_disputed.tolist()
([0.5, 1.0], [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DocumentDisagreement:
    """Per-document arrays, indexed like ``coders_per_document``."""

    disagreement: np.ndarray  # float, 0..1
    codes_disputed: np.ndarray  # int
    segments: np.ndarray  # int
    coded: np.ndarray  # characters coded by anyone, summed over codes


def _merge(group: np.ndarray, start: np.ndarray, end: np.ndarray, span: int):
    """Merge overlapping intervals within each group (group-wise running
    maximum through one offset per group, so one pass over all groups)."""
    if group.size == 0:
        return group, start, end
    s = group * span + start
    e = group * span + end
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    ends = np.maximum.reduceat(e, first)
    g = s[first] // span
    return g, s[first] - g * span, ends - g * span


def document_disagreements(
    *,
    seg_document: np.ndarray,
    seg_coder: np.ndarray,
    seg_code: np.ndarray,
    seg_start: np.ndarray,
    seg_end: np.ndarray,
    coders_per_document: np.ndarray,
) -> DocumentDisagreement:
    """See the module docstring. Documents and coders are positions
    (``0..n-1``); every segment's coder must count for its document."""
    n_docs = int(coders_per_document.size)
    segments = np.bincount(seg_document, minlength=n_docs)
    empty = np.zeros(n_docs)
    if seg_document.size == 0:
        return DocumentDisagreement(empty, empty.astype(int), segments, empty)
    span = int(seg_end.max()) + 1
    n_codes = int(seg_code.max()) + 1
    n_coders = int(seg_coder.max()) + 1
    # one group per (document, code, coder), then per (document, code)
    dk = seg_document.astype(np.int64) * n_codes + seg_code
    key, inverse = np.unique(dk * n_coders + seg_coder, return_inverse=True)
    g, start, end = _merge(inverse.reshape(-1), seg_start, seg_end, span)
    dk_of_group = key // n_coders
    cells, cell_of = np.unique(dk_of_group[g], return_inverse=True)
    cell_of = cell_of.reshape(-1)
    cell_doc = cells // n_codes
    coders_in_cell = np.bincount(
        np.searchsorted(cells, dk_of_group), minlength=cells.size
    )
    m = coders_per_document[cell_doc]
    disputed = np.bincount(
        cell_doc, weights=(coders_in_cell < m).astype(float), minlength=n_docs
    )
    # sweep: +1 at each merged start, -1 at each end, per (document, code)
    pos = np.concatenate([cell_of * span + start, cell_of * span + end])
    step = np.concatenate([np.ones(start.size), -np.ones(end.size)])
    order = np.argsort(pos, kind="stable")
    pos, step = pos[order], step[order]
    cover = np.cumsum(step)[:-1]
    length = np.diff(pos).astype(float)
    cell = pos[:-1] // span
    doc = cell_doc[cell]
    union = np.bincount(doc, weights=length * (cover > 0), minlength=n_docs)
    inter = np.bincount(
        doc, weights=length * (cover >= coders_per_document[doc]), minlength=n_docs
    )
    share = np.divide(union - inter, union, out=np.zeros(n_docs), where=union > 0)
    return DocumentDisagreement(share, disputed.astype(int), segments, union)
