"""annotations/disagreement.py against a per-character brute force."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.disagreement import document_disagreements


@st.composite
def coding(draw):
    n_docs = draw(st.integers(1, 4))
    n_coders = draw(st.integers(1, 4))
    n_codes = draw(st.integers(1, 3))
    m = np.asarray([draw(st.integers(1, n_coders)) for _ in range(n_docs)])
    rows = []
    for d in range(n_docs):
        for _ in range(draw(st.integers(0, 8))):
            c = draw(st.integers(0, m[d] - 1))
            s = draw(st.integers(0, 28))
            e = draw(st.integers(s + 1, 30))
            rows.append((d, c, draw(st.integers(0, n_codes - 1)), s, e))
    return m, np.asarray(rows, dtype=np.int64).reshape(-1, 5)


def brute(m, rows):
    n_docs = m.size
    union = np.zeros(n_docs)
    inter = np.zeros(n_docs)
    disputed = np.zeros(n_docs, dtype=int)
    for d in range(n_docs):
        for k in set(rows[rows[:, 0] == d, 2].tolist()):
            cover = np.zeros((m[d], 30), dtype=bool)
            for _, c, _, s, e in rows[(rows[:, 0] == d) & (rows[:, 2] == k)]:
                cover[c, s:e] = True
            union[d] += cover.any(axis=0).sum()
            inter[d] += cover.all(axis=0).sum()
            disputed[d] += int(cover.any(axis=1).sum() < m[d])
    share = np.divide(union - inter, union, out=np.zeros(n_docs), where=union > 0)
    return share, disputed, union


@settings(max_examples=200, deadline=None)
@given(coding())
def test_equals_brute_force(case):
    m, rows = case
    got = document_disagreements(
        seg_document=rows[:, 0], seg_coder=rows[:, 1], seg_code=rows[:, 2],
        seg_start=rows[:, 3], seg_end=rows[:, 4], coders_per_document=m,
    )  # fmt: skip
    share, disputed, union = brute(m, rows)
    np.testing.assert_allclose(got.disagreement, share, atol=1e-12)
    assert got.codes_disputed.tolist() == disputed.tolist()
    assert got.coded.tolist() == union.tolist()
    assert got.segments.tolist() == np.bincount(rows[:, 0], minlength=m.size).tolist()


def test_no_segments():
    empty = np.zeros(0, dtype=np.int64)
    got = document_disagreements(
        seg_document=empty, seg_coder=empty, seg_code=empty, seg_start=empty,
        seg_end=empty, coders_per_document=np.asarray([2, 3]),
    )  # fmt: skip
    assert got.disagreement.tolist() == [0.0, 0.0]
    assert got.codes_disputed.tolist() == [0, 0]
