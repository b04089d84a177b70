"""The vectorised building blocks against their obvious versions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.stats._engine import Features, summed, summed_many
from annotations.stats.bootstrap import (
    percentile_interval,
    percentile_intervals,
    resample_weights,
)
from annotations.stats.intervals import covering_masks, merge_overlaps, sweep
from annotations.stats.unitizing import Margins, summed_squares

intervals = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 30), st.integers(1, 10)),
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(intervals)
def test_merge_overlaps_equals_a_loop(rows):
    g = np.array([r[0] for r in rows], dtype=np.int64)
    s = np.array([r[1] for r in rows], dtype=np.int64)
    e = s + np.array([r[2] for r in rows], dtype=np.int64)
    mg, ms, me = merge_overlaps(g, s, e)
    expected = []
    for group in sorted(set(g.tolist())):
        spans = sorted((a, b) for gg, a, b in zip(g, s, e, strict=True) if gg == group)
        merged = []
        for a, b in spans:
            if merged and a < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        expected += [(group, a, b) for a, b in merged]
    got = list(zip(mg.tolist(), ms.tolist(), me.tolist(), strict=True))
    assert got == [(int(a), int(b), int(c)) for a, b, c in expected]


@settings(max_examples=100, deadline=None)
@given(intervals, st.integers(2, 5))
def test_sweep_counts_and_masks_equal_per_character_counting(rows, n_members):
    g = np.array([r[0] for r in rows], dtype=np.int64)
    s = np.array([r[1] for r in rows], dtype=np.int64)
    e = s + np.array([r[2] for r in rows], dtype=np.int64)
    member = np.arange(len(rows), dtype=np.int64) % n_members
    # one member's intervals must not overlap: merge per (group, member)
    mg, ms, me = merge_overlaps(g * n_members + member, s, e)
    g, member, s, e = mg // n_members, mg % n_members, ms, me
    sw = sweep(g, s, e, member)
    t1, t2 = sw.moments(4)
    pairs = np.array(
        [(a, b) for a in range(n_members) for b in range(a + 1, n_members)]
    )
    overlaps = sw.pair_overlaps(pairs, 4)
    cover = np.zeros((4, n_members, 45), dtype=int)
    for gg, mm, a, b in zip(g, member, s, e, strict=True):
        cover[gg, mm, a:b] += 1
    count = cover.sum(axis=1)
    assert np.allclose(t1, count.sum(axis=1))
    assert np.allclose(t2, (count**2).sum(axis=1))
    for p, (a, b) in enumerate(pairs):
        assert np.allclose(overlaps[:, p], (cover[:, a] * cover[:, b]).sum(axis=1))
    masks = covering_masks(sw, g, s, e)
    for i, (gg, a, b) in enumerate(zip(g, s, e, strict=True)):
        who = {m for m in range(n_members) if cover[gg, m, a:b].any()}
        assert {m for m in range(n_members) if int(masks[i]) >> m & 1} == who


def test_resample_weights_draw_every_document_n_times_in_total():
    w = resample_weights(50, 300, seed=1)
    assert w.shape == (300, 50)
    assert (w.sum(axis=1) == 50).all()
    assert np.array_equal(w, resample_weights(50, 300, seed=1))
    assert not np.array_equal(w, resample_weights(50, 300, seed=2))
    # each document is drawn once per resample on average
    assert w.mean() == pytest.approx(1.0)


def test_summed_many_equals_weighted_sums():
    rng = np.random.default_rng(0)
    w = resample_weights(30, 20, seed=5)
    a, b = Features(30), Features(30)
    a["x"] = rng.random(30)
    a["y"] = rng.random((30, 2, 3))
    b["x"] = rng.random((30, 4))
    sa, sb = summed_many([a, b], w)
    assert np.allclose(sa["x"][0], a.arrays["x"].sum())
    assert np.allclose(sa["y"][1:], np.einsum("bd,dij->bij", w, a.arrays["y"]))
    assert np.allclose(sb["x"][1:], w @ b.arrays["x"])
    assert summed(b, None)["x"].shape == (1, 4)


@pytest.mark.parametrize("n_docs", [7, 400, 3000])
def test_summed_squares_equals_the_dense_formula(n_docs):
    rng = np.random.default_rng(n_docs)
    n_values = 300
    # a few values in many documents, many in one or two
    popular = rng.random(n_values) < 0.1
    rows = []
    for v in range(n_values):
        k = rng.integers(1, n_docs + 1) if popular[v] else rng.integers(1, 3)
        for d in rng.choice(n_docs, size=min(k, n_docs), replace=False):
            rows.append((d, v, float(rng.integers(1, 100))))
    doc, value, amount = (np.array(x) for x in zip(*rows, strict=True))
    w = resample_weights(n_docs, 25, seed=3)
    dense = np.zeros((n_docs, n_values))
    dense[doc.astype(int), value.astype(int)] = amount
    expected = np.concatenate([[(dense.sum(0) ** 2).sum()], ((w @ dense) ** 2).sum(1)])
    got = summed_squares(Margins(doc.astype(int), value.astype(int), amount), w)
    assert np.allclose(got, expected, rtol=1e-12)


def test_percentile_intervals_equal_numpy_row_by_row():
    rng = np.random.default_rng(1)
    reps = rng.random((40, 101))
    reps[rng.random(reps.shape) < 0.2] = np.nan
    reps[3] = np.nan
    lows, highs, bad = percentile_intervals(reps, 0.9)
    for i, row in enumerate(reps):
        lo, hi, n_bad = percentile_interval(row, 0.9)
        assert n_bad == bad[i]
        if lo is None:
            assert np.isnan(lows[i]) and np.isnan(highs[i])
        else:
            assert lows[i] == pytest.approx(lo) and highs[i] == pytest.approx(hi)
