"""Code frequencies, code x coder and co-occurrence (annotations.stats.code_counts)
on hand-computed examples, on empty input, and against brute-force versions
on random segments."""

import doctest
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.stats import code_counts
from annotations.stats.code_counts import (
    code_coder_counts,
    code_frequencies,
    document_cooccurrence,
    overlap_cooccurrence,
    subtree_matrix,
)

# actor (1) > law (2) > police (3); action (4); platform (5)
CODES = [1, 2, 3, 4, 5]
PARENTS = {1: None, 2: 1, 3: 2, 4: None, 5: None}


def cols(rows):
    """(document, coder, code, start, end) rows as keyword arrays."""
    names = ("document", "coder", "code", "start", "end")
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 5)
    return dict(zip(names, arr.T, strict=True))


def overlaps(rows, codes=CODES):
    return overlap_cooccurrence(**cols(rows), codes=codes)


def test_docstring_examples():
    failures, tried = doctest.testmod(code_counts)
    assert tried > 0 and failures == 0


# -- overlaps -------------------------------------------------------------


def test_touching_spans_do_not_overlap():
    # [0, 5) and [5, 9): the end is exclusive, no character is shared
    c = overlaps([(1, 7, 1, 0, 5), (1, 7, 4, 5, 9)])
    assert c.counts[0, 3] == c.counts[3, 0] == 0


def test_one_shared_character_overlaps():
    c = overlaps([(1, 7, 1, 0, 5), (1, 7, 4, 4, 9)])
    assert c.counts[0, 3] == c.counts[3, 0] == 1


def test_nested_identical_and_chained_spans():
    rows = [
        (1, 7, 1, 0, 100),  # actor: contains everything below
        (1, 7, 4, 10, 20),  # action
        (1, 7, 4, 10, 20),  # action again, same span
        (1, 7, 5, 19, 30),  # platform: overlaps both actions by one char
        (1, 7, 5, 30, 40),  # platform: touches the one before
    ]
    c = overlaps(rows)
    assert c.counts[0, 3] == 2  # actor x each action
    assert c.counts[0, 4] == 2  # actor x each platform
    assert c.counts[3, 4] == 2  # each action x the first platform
    assert c.same_code.tolist() == [0, 0, 0, 1, 0]  # the two actions
    assert np.diagonal(c.counts).tolist() == [1, 0, 0, 2, 2]  # segments
    assert (c.counts == c.counts.T).all()


def test_only_the_same_coder_in_the_same_document():
    rows = [
        (1, 7, 1, 0, 10),
        (1, 8, 4, 0, 10),  # another coder
        (2, 7, 4, 0, 10),  # another document
        (1, -1, 4, 0, 10),  # the consensus is a coder of its own
    ]
    c = overlaps(rows)
    assert c.counts[0, 3] == 0
    assert c.counts[0, 0] == 1 and c.counts[3, 3] == 3


def test_subcodes_are_not_rolled_into_cooccurrence():
    c = overlaps([(1, 7, 3, 0, 10), (1, 7, 4, 5, 15)])
    assert c.counts[2, 3] == 1 and c.counts[0, 3] == 0


def test_unlisted_codes_are_left_out():
    c = overlaps([(1, 7, 99, 0, 10), (1, 7, 4, 5, 15)])
    assert c.counts.sum() == 1  # action's own segment on the diagonal


# -- frequencies ----------------------------------------------------------


def test_frequencies_roll_subcodes_up_once():
    rows = [
        (1, 7, 1, 0, 4),  # actor, length 4
        (1, 7, 2, 0, 10),  # law, 10
        (2, 8, 3, 5, 7),  # police, 2
        (2, 8, 3, 0, 1),  # police, 1
        (3, 7, 4, 0, 6),  # action, 6
    ]
    f = code_frequencies(**cols(rows), codes=CODES, parents=PARENTS, n_documents=8)
    assert f.segments.tolist() == [1, 1, 2, 1, 0]
    assert f.segments_subtree.tolist() == [4, 3, 2, 1, 0]
    assert f.documents.tolist() == [1, 1, 1, 1, 0]
    assert f.documents_subtree.tolist() == [2, 2, 1, 1, 0]
    assert f.coders.tolist() == [1, 1, 1, 1, 0]
    assert f.coders_subtree.tolist() == [2, 2, 1, 1, 0]
    assert f.share_subtree.tolist() == [0.25, 0.25, 0.125, 0.125, 0.0]
    # actor subtree lengths 4, 10, 2, 1 -> (2 + 4) / 2; law: 10, 2, 1 -> 2
    assert f.median_length.tolist()[:4] == [4.0, 10.0, 1.5, 6.0]
    assert f.median_length_subtree.tolist()[:4] == [3.0, 2.0, 1.5, 6.0]
    assert math.isnan(f.median_length[4]) and math.isnan(f.median_length_subtree[4])


def test_code_coder_counts_with_subcodes():
    rows = [(1, 7, 3, 0, 1), (1, 7, 1, 0, 1), (1, 8, 4, 0, 1), (1, 9, 4, 0, 1)]
    t = code_coder_counts(
        **{k: v for k, v in cols(rows).items() if k in ("coder", "code")},
        codes=CODES, coders=[8, 7], parents=PARENTS,
    )  # fmt: skip
    assert t.counts.tolist() == [[0, 1], [0, 0], [0, 1], [1, 0], [0, 0]]
    assert t.subtree.tolist() == [[0, 2], [0, 1], [0, 1], [1, 0], [0, 0]]


def test_document_cooccurrence_counts_any_coder():
    rows = [(1, 7, 1, 0, 1), (1, 8, 4, 50, 60), (2, 7, 4, 0, 1), (2, 7, 4, 5, 6)]
    c = document_cooccurrence(
        document=cols(rows)["document"], code=cols(rows)["code"], codes=CODES
    )
    assert c.counts[0, 3] == c.counts[3, 0] == 1
    assert np.diagonal(c.counts).tolist() == [1, 0, 0, 2, 0]


def test_subtree_matrix_survives_a_cycle_and_a_missing_parent():
    t = subtree_matrix([1, 2, 3], {1: 2, 2: 1, 3: 99})
    assert t.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize("codes", [CODES, []])
def test_empty_input(codes):
    empty = cols([])
    k = len(codes)
    f = code_frequencies(**empty, codes=codes, parents=PARENTS, n_documents=0)
    assert f.segments.tolist() == f.documents_subtree.tolist() == [0] * k
    assert np.isnan(f.median_length).all() and np.isnan(f.share).all()
    t = code_coder_counts(coder=[], code=[], codes=codes, coders=[], parents=PARENTS)
    assert t.counts.shape == t.subtree.shape == (k, 0)
    for c in (
        overlap_cooccurrence(**empty, codes=codes),
        document_cooccurrence(document=[], code=[], codes=codes),
    ):
        assert c.counts.shape == (k, k) and not c.counts.any()
        assert c.same_code.tolist() == [0] * k


# -- against brute force --------------------------------------------------

segments = st.lists(
    st.tuples(
        st.integers(0, 3),  # document
        st.sampled_from([-1, 7, 8]),  # coder (-1: the consensus)
        st.sampled_from(CODES + [99]),  # code (99: not in the codebook)
        st.integers(0, 40),  # start
        st.integers(1, 15),  # length
    ),
    max_size=40,
)


def _rows(drawn):
    return [(d, c, k, s, s + n) for d, c, k, s, n in drawn]


def brute_overlaps(rows, codes):
    row = {c: i for i, c in enumerate(codes)}
    k = len(codes)
    counts = np.zeros((k, k), dtype=np.int64)
    same = np.zeros(k, dtype=np.int64)
    live = [r for r in rows if r[2] in row]
    for a, b in itertools.combinations(live, 2):
        if a[:2] == b[:2] and a[3] < b[4] and b[3] < a[4]:
            i, j = row[a[2]], row[b[2]]
            if i == j:
                same[i] += 1
            else:
                counts[i, j] += 1
                counts[j, i] += 1
    for r in live:
        counts[row[r[2]], row[r[2]]] += 1
    return counts, same


@pytest.fixture(params=[1 << 24, 3], ids=["one-block", "small-blocks"])
def cells(request, monkeypatch):
    """The presence matrices and histograms whole, and cut into tiny blocks."""
    monkeypatch.setattr(code_counts, "_CELLS", request.param)


@settings(max_examples=150, deadline=None)
@given(segments)
def test_overlap_sweep_equals_pairwise_count(drawn):
    rows = _rows(drawn)
    expected, same = brute_overlaps(rows, CODES)
    got = overlaps(rows)
    assert got.counts.tolist() == expected.tolist()
    assert got.same_code.tolist() == same.tolist()


@pytest.mark.usefixtures("cells")
@settings(max_examples=60, deadline=None)
@given(segments, st.integers(0, 10))
def test_frequencies_and_documents_equal_brute_force(drawn, extra_docs):
    rows = _rows(drawn)
    n_docs = 4 + extra_docs
    f = code_frequencies(**cols(rows), codes=CODES, parents=PARENTS, n_documents=n_docs)
    d = document_cooccurrence(
        document=cols(rows)["document"], code=cols(rows)["code"], codes=CODES
    )
    tree = subtree_matrix(CODES, PARENTS)
    for i, code in enumerate(CODES):
        own = [r for r in rows if r[2] == code]
        sub = [r for r in rows if r[2] in CODES and tree[CODES.index(r[2]), i]]
        for mine, seg_n, docs, coders, median in (
            (own, f.segments, f.documents, f.coders, f.median_length),
            (sub, f.segments_subtree, f.documents_subtree, f.coders_subtree,
             f.median_length_subtree),
        ):  # fmt: skip
            assert seg_n[i] == len(mine)
            assert docs[i] == len({r[0] for r in mine})
            assert coders[i] == len({r[1] for r in mine})
            if mine:
                assert median[i] == np.median([r[4] - r[3] for r in mine])
            else:
                assert math.isnan(median[i])
        for j, other in enumerate(CODES):
            both = {r[0] for r in own} & {r[0] for r in rows if r[2] == other}
            assert d.counts[i, j] == len(both)
