"""Span-level precision and recall of a coder against the reference coder
(the adjudicated consensus): a hand-computed example, consistency with the
F1 rows, a brute-force reference, undefined cases and bootstrap intervals."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations.stats import AgreementInput, SegmentRow, compute_agreement
from annotations.stats.bootstrap import percentile_intervals, resample_weights
from tests.unit.stats import reference as ref

PR = ("precision_exact", "recall_exact", "precision_overlap", "recall_overlap")
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CODER = [(0, 5), (10, 15), (20, 25)]
CONSENSUS = [(0, 5), (10, 15), (22, 30), (40, 45)]


def data_of(spans, *, coders=None, length=50, docs=("d1",), code="econ"):
    """``spans``: coder -> [(start, end)], repeated in every document."""
    return AgreementInput.from_rows(
        [
            SegmentRow(d, c, code, s, e)
            for d in docs
            for c, cs in spans.items()
            for s, e in cs
        ],
        document_lengths=dict.fromkeys(docs, length),
        assignments=[(d, c) for d in docs for c in spans],
        codes=[code],
        coders=coders or list(spans),
    )


def index(records):
    return {(r.level, r.code, r.coefficient, r.pair): r for r in records}


def pr_rows(records):
    return [r for r in records if r.coefficient in PR]


@pytest.mark.parametrize("order", [("ann", "cons"), ("cons", "ann")])
def test_hand_computed_example(order):
    """3 coder spans, 4 consensus spans; [0, 5) and [10, 15) match exactly,
    [20, 25) overlaps [22, 30); [40, 45) is missed. Whichever side of the
    pair the consensus is on, it is the reference."""
    data = data_of({"ann": CODER, "cons": CONSENSUS}, coders=list(order))
    rows = index(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    want = {
        "precision_exact": (2 / 3, 3),
        "recall_exact": (2 / 4, 4),
        "precision_overlap": (3 / 3, 3),
        "recall_overlap": (3 / 4, 4),
    }
    for code in ("econ", None):  # one code: the pooled row is the same
        for name, (value, n_units) in want.items():
            r = rows["span", code, name, order]
            assert r.value == value, name
            assert r.n_units == n_units
            assert r.n_documents == 1
            assert r.coders == order
            assert r.ci_low is None and r.ci_high is None
            kind = name.split("_")[0]
            whose = "coder's" if kind == "precision" else "reference's"
            assert r.note.startswith(f"share of the {whose} segments")
    # the F1 rows of the same pair are untouched and consistent
    assert rows["span", "econ", "f1_exact", order].value == 2 * 2 / (3 + 4)
    p, r = 3 / 3, 3 / 4
    assert rows["span", "econ", "f1_overlap", order].value == pytest.approx(
        2 * p * r / (p + r), abs=1e-15
    )


def test_pooled_rows_sum_the_codes():
    """All codes together: the units are (segment, code), summed over codes."""
    segs = [SegmentRow("d", "ann", "x", s, e) for s, e in CODER] + [
        SegmentRow("d", "cons", "x", s, e) for s, e in CONSENSUS
    ]
    # code y: the coder has one span the consensus lacks
    segs.append(SegmentRow("d", "ann", "y", 30, 35))
    data = AgreementInput.from_rows(
        segs, {"d": 50}, [("d", "ann"), ("d", "cons")], codes=["x", "y"]
    )
    rows = index(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    pair = ("ann", "cons")
    assert rows["span", None, "precision_exact", pair].value == 2 / 4
    assert rows["span", None, "precision_exact", pair].n_units == 4
    assert rows["span", None, "recall_exact", pair].value == 2 / 4
    assert rows["span", None, "precision_overlap", pair].value == 3 / 4
    assert rows["span", None, "recall_overlap", pair].value == 3 / 4
    # y alone: precision 0, recall undefined (the consensus has no y)
    assert rows["span", "y", "precision_overlap", pair].value == 0.0
    y_recall = rows["span", "y", "recall_overlap", pair]
    assert y_recall.value is None
    assert y_recall.note.startswith("the reference did not apply this code")


def test_undefined_cases():
    # the coder has no spans: precision undefined, recall 0
    data = data_of({"ann": [], "cons": CONSENSUS})
    rows = index(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    pair = ("ann", "cons")
    for kind in ("exact", "overlap"):
        prec = rows["span", "econ", f"precision_{kind}", pair]
        assert prec.value is None and prec.n_units == 0
        assert prec.note.startswith(
            "the coder did not apply this code in the shared documents, so "
            "precision is 0/0 (undefined)"
        )
        assert rows["span", "econ", f"recall_{kind}", pair].value == 0.0
    pooled = rows["span", None, "precision_exact", pair]
    assert pooled.value is None and "any code" in pooled.note
    # the consensus has no spans: recall undefined, precision 0
    data = data_of({"ann": CODER, "cons": []})
    rows = index(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    for kind in ("exact", "overlap"):
        assert rows["span", "econ", f"precision_{kind}", pair].value == 0.0
        rec = rows["span", "econ", f"recall_{kind}", pair]
        assert rec.value is None and "recall is 0/0" in rec.note
    # neither: both undefined, like F1
    data = data_of({"ann": [], "cons": []})
    rows = index(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    for name in PR:
        assert rows["span", "econ", name, pair].value is None
    assert rows["span", "econ", "f1_overlap", pair].value is None


def test_only_pairs_with_the_reference_get_rows():
    spans = {"a": CODER, "b": CONSENSUS[:2], "c": [(3, 12)], "cons": CONSENSUS}
    data = data_of(spans)
    plain = compute_agreement(data, levels=["span"], bootstrap=0)
    with_ref = compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    assert not pr_rows(plain)
    pairs = {r.pair for r in pr_rows(with_ref)}
    assert pairs == {("a", "cons"), ("b", "cons"), ("c", "cons")}
    assert all(r.pair is not None for r in pr_rows(with_ref))
    # 4 coefficients x 3 pairs x (the code + all codes)
    assert len(pr_rows(with_ref)) == 4 * 3 * 2
    # every other record is unchanged, in the same order
    assert [r for r in with_ref if r.coefficient not in PR] == plain
    # a reference outside the sample adds nothing; an unknown one is refused
    data = AgreementInput.from_rows(
        [SegmentRow("d1", "a", "econ", 0, 5), SegmentRow("d1", "b", "econ", 0, 5)],
        {"d1": 10, "d2": 10},
        [("d1", "a"), ("d1", "b"), ("d2", "cons")],
    )
    assert not pr_rows(
        compute_agreement(data, levels=["span"], bootstrap=0, reference="cons")
    )
    with pytest.raises(ValueError, match="unknown reference coder"):
        compute_agreement(data, levels=["span"], bootstrap=0, reference="nobody")


def test_other_levels_do_not_change():
    data = data_of({"a": CODER, "b": CONSENSUS[:2], "cons": CONSENSUS})
    assert compute_agreement(data, bootstrap=30) == [
        r
        for r in compute_agreement(data, bootstrap=30, reference="cons")
        if r.coefficient not in PR
    ]


def test_bootstrap_intervals_are_the_resampled_ratios():
    """The interval is the percentile interval of the ratio of resampled
    sums, documents drawn with replacement (as for every coefficient)."""
    docs = {  # per document: the coder's spans, the consensus's
        "d1": (CODER, CONSENSUS),
        "d2": ([(0, 5)], [(0, 5)]),
        "d3": ([(1, 4), (30, 33)], [(0, 5), (10, 15)]),
        "d4": ([], [(5, 9)]),
    }
    segs = [
        SegmentRow(d, c, "econ", s, e)
        for d, spans in docs.items()
        for c, cs in zip(("ann", "cons"), spans, strict=True)
        for s, e in cs
    ]
    data = AgreementInput.from_rows(
        segs, dict.fromkeys(docs, 50), [(d, c) for d in docs for c in ("ann", "cons")]
    )
    b, seed = 400, 7
    rows = index(
        compute_agreement(
            data, levels=["span"], bootstrap=b, seed=seed, reference="cons"
        )
    )
    per_doc = {  # tp, coder overlapped, consensus overlapped, n coder, n cons
        "d1": (2, 3, 3, 3, 4),
        "d2": (1, 1, 1, 1, 1),
        "d3": (0, 1, 1, 2, 2),
        "d4": (0, 0, 0, 0, 1),
    }
    tp, oc, orf, nc, nr = np.array(list(per_doc.values()), float).T
    w = resample_weights(len(docs), b, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = np.vstack(
            [(w @ tp) / (w @ nc), (w @ tp) / (w @ nr), (w @ oc) / (w @ nc)]
            + [(w @ orf) / (w @ nr)]
        )
    lows, highs, _ = percentile_intervals(reps)
    pair = ("ann", "cons")
    values = [tp.sum() / nc.sum(), tp.sum() / nr.sum(), oc.sum() / nc.sum()]
    values.append(orf.sum() / nr.sum())
    for i, name in enumerate(PR):
        r = rows["span", "econ", name, pair]
        assert r.value == pytest.approx(values[i], abs=1e-12)
        assert r.ci_low == pytest.approx(lows[i], abs=1e-5)
        assert r.ci_high == pytest.approx(highs[i], abs=1e-5)
        assert r.ci_low < r.ci_high


# -- random corpora --


@st.composite
def with_reference(draw):
    corpus = draw(ref.corpora())
    segments, _, assignments, _ = corpus
    coders = sorted({c for _, c in assignments} | {s.coder for s in segments})
    return corpus, draw(st.sampled_from(coders)) if coders else None


def expected(corpus, codes, a, b, reference):
    """Brute-force precision and recall of the other coder against
    ``reference`` over ``codes`` (one code, or all of them pooled)."""
    segments, lengths, assignments, parents = corpus
    tp = ma = mb = na = nb = 0
    for code in codes:
        counts = ref.span_counts(segments, lengths, assignments, code, parents, a, b)
        tp, ma, mb, na, nb = (
            x + y for x, y in zip((tp, ma, mb, na, nb), counts, strict=True)
        )
    if reference == a:  # the coder is b
        ma, mb, na, nb = mb, ma, nb, na
    # now a is the coder, b the reference
    out = {
        "precision_exact": tp / na if na else None,
        "recall_exact": tp / nb if nb else None,
        "precision_overlap": ma / na if na else None,
        "recall_overlap": mb / nb if nb else None,
    }
    return out, na, nb


@SETTINGS
@given(with_reference())
def test_brute_force_and_f1_identity(case):
    corpus, reference = case
    _, lengths, assignments, parents = corpus
    records = compute_agreement(
        ref.build(corpus), levels=["span"], bootstrap=0, reference=reference
    )
    rows = index(records)
    docs = ref.sample(lengths, assignments)
    coders = ref.coders_of(docs)
    want_pairs = {
        (a, b)
        for a, b in itertools.combinations(coders, 2)
        if reference in (a, b) and any(a in cs and b in cs for cs in docs.values())
    }
    assert {r.pair for r in pr_rows(records)} == want_pairs
    for (a, b), code in itertools.product(want_pairs, [*parents, None]):
        codes = list(parents) if code is None else [code]  # None: summed
        want, n_coder, n_ref = expected(corpus, codes, a, b, reference)
        for name, value in want.items():
            r = rows["span", code, name, (a, b)]
            if value is None:
                assert r.value is None
            else:
                assert r.value == pytest.approx(value, abs=1e-12)
            assert r.n_units == (n_coder if name.startswith("precision") else n_ref)
        for kind in ("exact", "overlap"):
            f1 = rows["span", code, f"f1_{kind}", (a, b)].value
            p = rows["span", code, f"precision_{kind}", (a, b)].value
            r = rows["span", code, f"recall_{kind}", (a, b)].value
            if p is None and r is None:
                assert f1 is None
            elif p is None or r is None or p + r == 0:
                assert f1 == 0.0 and (p or 0.0) == (r or 0.0) == 0.0
            else:
                assert f1 == pytest.approx(2 * p * r / (p + r), rel=0, abs=1e-12)
