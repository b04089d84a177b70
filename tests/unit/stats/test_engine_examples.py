"""compute_agreement on published examples and on the edge cases the
report must survive."""

import csv
import io
import json

import krippendorff
import numpy as np
import pytest

from annotations.stats import (
    RECORD_FIELDS,
    AgreementInput,
    SegmentRow,
    Variable,
    compute_agreement,
    krippendorff_alpha,
    records_to_dicts,
    weighted_kappa_linear,
    weighted_kappa_quadratic,
)
from annotations.stats.bootstrap import resample_weights


def corpus(segments, lengths, coders=None, **kw):
    """Every listed coder assigned to every document unless told otherwise."""
    rows = [SegmentRow(*s) for s in segments]
    coders = coders or sorted({r.coder for r in rows})
    assignments = kw.pop("assignments", [(d, c) for d in lengths for c in coders])
    return AgreementInput.from_rows(rows, lengths, assignments, coders=coders, **kw)


def get(records, level, code, coefficient, pair=None):
    [hit] = [
        r
        for r in records
        if (r.level, r.code, r.coefficient, r.pair) == (level, code, coefficient, pair)
    ]
    return hit


# -- published examples ----------------------------------------------------------

# Krippendorff (2019, fig. 12.11, p. 340), as pygamma-agreement's test data
# AlexPaulSuzan.csv: coder, value, start, end on a continuum of length 60.
ALEX_PAUL_SUZAN = [
    ("Alex", 1, 2, 9), ("Alex", 2, 11, 17), ("Alex", 5, 24, 30),
    ("Alex", 6, 32, 36), ("Alex", 6, 36, 44), ("Alex", 7, 44, 60),
    ("Paul", 1, 2, 9), ("Paul", 3, 11, 17), ("Paul", 5, 19, 25),
    ("Paul", 6, 32, 44),
    ("Suzan", 1, 2, 9), ("Suzan", 4, 11, 17), ("Suzan", 5, 21, 27),
    ("Suzan", 6, 32, 36), ("Suzan", 6, 36, 40), ("Suzan", 6, 40, 44),
]  # fmt: skip


def test_krippendorff_2019_unitizing_example():
    data = corpus([("doc", c, v, s, e) for c, v, s, e in ALEX_PAUL_SUZAN], {"doc": 60})
    rows = compute_agreement(data, levels=["unitizing"], bootstrap=0)
    assert get(rows, "unitizing", None, "u_alpha").value == pytest.approx(
        0.510, abs=5e-4
    )
    assert get(rows, "unitizing", None, "binary_u_alpha").value == pytest.approx(
        0.413, abs=5e-4
    )
    assert get(rows, "unitizing", None, "u_alpha").n_units == 60
    # Value 1 is unitized identically by all three coders.
    assert get(rows, "unitizing", 1, "u_alpha").value == pytest.approx(1.0)


def digitized(spans_a, spans_b, length=24):
    segs = [("doc", "a", "X", s, e) for s, e in spans_a]
    segs += [("doc", "b", "X", s, e) for s, e in spans_b]
    data = corpus(segs, {"doc": length}, coders=["a", "b"])
    return compute_agreement(data, levels=["character", "unitizing"], bootstrap=0)


def test_krippendorff_1995_digitized_continuum_a():
    # Krippendorff (1995, p. 57), case A (Bertha, Bill), 24 characters; the
    # character-level coefficients as in DKPro Statistics' tests: Cohen's
    # kappa .385, alpha .329 (and Scott's pi .314).
    rows = digitized([(2, 10), (14, 20)], [(4, 8), (15, 17)])
    kappa = get(rows, "character", "X", "cohen_kappa", ("a", "b"))
    assert kappa.value == pytest.approx(0.385, abs=5e-4)
    assert kappa.n_units == 24
    alpha = get(rows, "character", "X", "krippendorff_alpha")
    assert alpha.value == pytest.approx(0.329, abs=5e-4)


def test_krippendorff_1995_digitized_continuum_c():
    rows = digitized(
        [(2, 8), (10, 12), (14, 18), (20, 22)],
        [(0, 2), (4, 8), (10, 14), (16, 18), (20, 22)],
    )
    kappa = get(rows, "character", "X", "cohen_kappa", ("a", "b"))
    assert kappa.value == pytest.approx(0.314, abs=5e-4)


def test_krippendorff_1995_digitized_continuum_d_is_undefined():
    # Both coders cover every character (in different units): one category,
    # so kappa and alpha are undefined rather than 1.
    rows = digitized(
        [(0, 2), (2, 10), (10, 14), (14, 20), (20, 24)],
        [(0, 4), (4, 8), (8, 15), (15, 17), (17, 24)],
    )
    for coefficient, pair in [
        ("cohen_kappa", ("a", "b")),
        ("krippendorff_alpha", None),
    ]:
        row = get(rows, "character", "X", coefficient, pair)
        assert row.value is None
        assert "every" in row.note
    assert get(rows, "character", "X", "percent_agreement").value == 1.0
    assert get(rows, "unitizing", "X", "u_alpha").value is None


# -- edge cases --------------------------------------------------------------------


def values_of(records):
    return {(r.level, r.code, r.coefficient, r.pair): r.value for r in records}


def test_perfect_agreement():
    segs = []
    for coder in ("a", "b", "c"):
        segs += [
            ("d1", coder, "X", 0, 5),
            ("d1", coder, "Y", 10, 20),
            ("d2", coder, "X", 3, 9),
        ]
    data = corpus(segs, {"d1": 30, "d2": 12, "d3": 8})
    rows = compute_agreement(data, bootstrap=0)
    for r in rows:
        if r.value is not None:
            assert r.value == pytest.approx(1.0), r
    # chance-corrected document-level values for X are defined (d3 has no X)
    assert get(rows, "document", "X", "krippendorff_alpha").value == 1.0
    assert get(rows, "unitizing", None, "u_alpha").value == pytest.approx(1.0)
    assert get(rows, "span", "Y", "f1_exact").value == 1.0


def test_one_code_never_applied_gives_notes_not_numbers():
    data = corpus([("d1", "a", "X", 0, 3)], {"d1": 10}, coders=["a", "b"],
                  codes=["X", "unused"])  # fmt: skip
    rows = compute_agreement(data, bootstrap=0)
    for level, coefficient in [
        ("document", "krippendorff_alpha"),
        ("document", "fleiss_kappa"),
        ("character", "krippendorff_alpha"),
        ("unitizing", "u_alpha"),
    ]:
        row = get(rows, level, "unused", coefficient)
        assert row.value is None
        assert "no coder applied this code" in row.note
    assert get(rows, "span", "unused", "f1_exact", ("a", "b")).value is None


@pytest.mark.parametrize(
    "assignments",
    [[("d1", "a")], []],
    ids=["one coder", "nobody assigned"],
)
def test_fewer_than_two_coders_gives_notes_for_every_level(assignments):
    data = corpus(
        [("d1", "a", "X", 0, 3)],
        {"d1": 10},
        coders=["a"],
        assignments=assignments,
        variables=[Variable("X", "nominal", ())],
    )
    rows = compute_agreement(data, bootstrap=10)
    assert rows
    for r in rows:
        assert r.value is None and r.ci_low is None
        assert r.note
        assert r.n_documents == 0
    assert "two or more coders" in get(rows, "document", "X", "fleiss_kappa").note


def test_empty_documents_count_as_units_but_not_characters():
    segs = [("d1", "a", "X", 0, 4), ("d1", "b", "X", 0, 4)]
    with_empty = corpus(segs, {"d1": 10, "empty": 0})
    without = corpus(segs, {"d1": 10})
    a = compute_agreement(with_empty, bootstrap=0)
    b = compute_agreement(without, bootstrap=0)
    assert get(a, "character", "X", "krippendorff_alpha").value == pytest.approx(
        get(b, "character", "X", "krippendorff_alpha").value
    )
    assert get(a, "character", "X", "krippendorff_alpha").n_units == 10
    assert get(a, "document", "X", "percent_agreement").n_units == 2
    assert get(a, "document", "X", "krippendorff_alpha").value == 1.0


def test_overlapping_segments_of_one_coder_are_merged_not_double_counted():
    base = [("d1", "b", "X", 1, 9), ("d1", "b", "Y", 0, 3)]
    merged = corpus([("d1", "a", "X", 0, 9), *base], {"d1": 20})
    pieces = corpus(
        [("d1", "a", "X", 0, 5), ("d1", "a", "X", 3, 9), ("d1", "a", "X", 2, 4), *base],
        {"d1": 20},
    )
    assert values_of(compute_agreement(pieces, bootstrap=0)) == values_of(
        compute_agreement(merged, bootstrap=0)
    )


def test_subcodes_roll_up_to_their_parent():
    segs = [("d1", "a", "child1", 0, 5), ("d1", "b", "child2", 0, 5)]
    data = corpus(
        segs,
        {"d1": 10, "d2": 10},
        code_parents={"parent": None, "child1": "parent", "child2": "parent"},
    )
    rows = compute_agreement(data, bootstrap=0)
    assert get(rows, "character", "parent", "cohen_kappa", ("a", "b")).value == 1.0
    assert get(rows, "span", "parent", "f1_exact").value == 1.0
    assert get(rows, "span", "child1", "f1_exact").value == 0.0
    assert get(rows, "document", "parent", "krippendorff_alpha").value == 1.0


def test_unassigned_coder_is_missing_not_zero():
    segs = [("d1", "a", "X", 0, 5), ("d1", "b", "X", 0, 5), ("d2", "a", "X", 0, 5)]
    lengths = {"d1": 10, "d2": 10, "d3": 10}
    everyone = [(d, c) for d in lengths for c in "abc"]
    c_missing_d1 = [x for x in everyone if x != ("d1", "c")]
    rows = compute_agreement(
        corpus(segs, lengths, coders=list("abc"), assignments=c_missing_d1),
        levels=["document"],
        bootstrap=0,
    )
    matrix = np.array([[1, 1, np.nan], [1, 0, 0], [0, 0, 0]])
    expected = krippendorff_alpha(matrix).value
    assert get(rows, "document", "X", "krippendorff_alpha").value == pytest.approx(
        expected
    )
    as_zero = krippendorff_alpha(np.nan_to_num(matrix)).value
    assert expected != pytest.approx(as_zero)


def test_segments_of_unassigned_coders_are_dropped_and_counted():
    segs = [("d1", "a", "X", 0, 5), ("d1", "b", "X", 0, 5), ("d1", "c", "X", 0, 5)]
    data = corpus(
        segs, {"d1": 10}, coders=list("abc"), assignments=[("d1", "a"), ("d1", "b")]
    )
    assert data.dropped_segments == 1
    rows = compute_agreement(data, bootstrap=0)
    assert get(rows, "character", "X", "krippendorff_alpha").coders == ("a", "b")


def test_codes_overlapping_within_one_coder_form_a_combined_value():
    segs = [
        ("d1", "a", "X", 0, 10),
        ("d1", "a", "Y", 5, 10),
        ("d1", "b", "X", 0, 10),
    ]
    rows = compute_agreement(
        corpus(segs, {"d1": 20}), levels=["unitizing"], bootstrap=0
    )
    u = get(rows, "unitizing", None, "u_alpha")
    assert "5 characters carry more than one code" in u.note
    assert u.value < 1.0
    # coded versus not coded, the coders agree perfectly
    assert get(rows, "unitizing", None, "binary_u_alpha").value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        (("d1", "a", "X", 5, 5), "offsets"),
        (("d1", "a", "X", -1, 3), "offsets"),
        (("d1", "a", "X", 0, 11), "offsets"),
        (("nope", "a", "X", 0, 3), "unknown document"),
    ],
)
def test_bad_segments_are_refused(segment, message):
    with pytest.raises(ValueError, match=message):
        corpus([segment], {"d1": 10}, coders=["a", "b"])


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown levels"):
        compute_agreement(corpus([], {"d1": 1}, coders=["a", "b"]), levels=["word"])


# -- variables --------------------------------------------------------------------

TONE = Variable("tone", "ordinal", (("low", 1), ("medium", 2), ("high", 3)))
TONE_PARENTS = {
    "tone": None,
    "low": "tone",
    "medium": "tone",
    "high": "tone",
    "very high": "high",
}


def tone_corpus(table, level="ordinal", values=(1, 2, 3)):
    """``table[doc][coder]`` is a child name, a list of names, or None."""
    segs = []
    for d, row in enumerate(table):
        for c, names in enumerate(row):
            for name in [names] if isinstance(names, str) else names or []:
                segs.append((f"d{d}", f"c{c}", name, 0, 1))
    var = Variable(
        "tone", level, tuple(zip(("low", "medium", "high"), values, strict=True))
    )
    return corpus(
        segs,
        {f"d{d}": 5 for d in range(len(table))},
        coders=["c0", "c1", "c2"],
        code_parents=TONE_PARENTS,
        variables=[var],
    )


TABLE = [
    ["low", "low", "medium"],
    ["high", "very high", "high"],
    ["medium", "medium", None],
    ["low", "high", "medium"],
    [["low", "high"], "high", "high"],
    ["medium", "low", "medium"],
]
RANK = {"low": 1, "medium": 2, "high": 3, "very high": 3}


def tone_matrix():
    out = np.full((len(TABLE), 3), np.nan)
    for d, row in enumerate(TABLE):
        for c, v in enumerate(row):
            if isinstance(v, str):
                out[d, c] = RANK[v]
    return out


def test_ordinal_variable_uses_declared_order_and_counts_conflicts_as_missing():
    rows = compute_agreement(tone_corpus(TABLE), levels=["variable"], bootstrap=0)
    x = tone_matrix()
    alpha = get(rows, "variable", "tone", "krippendorff_alpha_ordinal")
    expected = krippendorff.alpha(x.T, level_of_measurement="ordinal")
    assert alpha.value == pytest.approx(expected, abs=1e-12)
    assert "1 (document, coder) pairs applied more than one value" in alpha.note
    for fn, name in [
        (weighted_kappa_linear, "weighted_kappa_linear"),
        (weighted_kappa_quadratic, "weighted_kappa_quadratic"),
    ]:
        for i, j in [(0, 1), (0, 2), (1, 2)]:
            pair = (f"c{i}", f"c{j}")
            want = fn(x[:, [i, j]], categories=[1, 2, 3]).value
            got = get(rows, "variable", "tone", name, pair).value
            assert got == pytest.approx(want, abs=1e-12)


def test_interval_variable_uses_declared_values():
    values = (0, 1, 10)
    rows = compute_agreement(
        tone_corpus(TABLE, "interval", values), levels=["variable"], bootstrap=0
    )
    x = tone_matrix()
    mapped = np.where(
        np.isnan(x), np.nan, np.take(values, np.nan_to_num(x - 1).astype(int))
    )
    expected = krippendorff.alpha(mapped.T, level_of_measurement="interval")
    got = get(rows, "variable", "tone", "krippendorff_alpha_interval").value
    assert got == pytest.approx(expected, abs=1e-12)


# -- bootstrap ----------------------------------------------------------------------


def small_corpus():
    rng = np.random.default_rng(7)
    segs = []
    lengths = {}
    for d in range(12):
        lengths[f"d{d}"] = int(rng.integers(20, 60))
        for c in "abc":
            for _ in range(int(rng.integers(0, 4))):
                s = int(rng.integers(0, lengths[f"d{d}"] - 1))
                e = int(rng.integers(s + 1, lengths[f"d{d}"] + 1))
                segs.append((f"d{d}", c, str(rng.choice(["X", "Y"])), s, e))
    return segs, lengths


def test_bootstrap_intervals_equal_resampling_documents_by_hand():
    segs, lengths = small_corpus()
    data = corpus(segs, lengths, coders=list("abc"))
    rows = compute_agreement(data, levels=["character"], bootstrap=40, seed=11)
    row = get(rows, "character", "X", "krippendorff_alpha")
    weights = resample_weights(len(lengths), 40, 11)
    replicates = []
    for w in weights:
        docs = [d for d, k in zip(lengths, w, strict=True) for _ in range(int(k))]
        blocks = []
        for d in docs:
            block = np.zeros((lengths[d], 3))
            for doc, c, code, s, e in segs:
                if doc == d and code == "X":
                    block[s:e, "abc".index(c)] = 1
            blocks.append(block)
        replicates.append(krippendorff_alpha(np.vstack(blocks)).value)
    low, high = np.percentile(replicates, [2.5, 97.5])
    # replicates come from a float32 product: equal to ~1e-6, not 1e-12
    assert row.ci_low == pytest.approx(low, abs=1e-6)
    assert row.ci_high == pytest.approx(high, abs=1e-6)


def test_bootstrap_is_reproducible_from_its_seed():
    segs, lengths = small_corpus()
    data = corpus(segs, lengths, coders=list("abc"))
    first = compute_agreement(data, bootstrap=50, seed=3)
    again = compute_agreement(data, bootstrap=50, seed=3)
    other = compute_agreement(data, bootstrap=50, seed=4)
    assert first == again
    assert [r.ci_low for r in first] != [r.ci_low for r in other]
    assert [r.value for r in first] == [r.value for r in other]
    for r in first:
        if r.ci_low is not None:
            assert r.ci_low <= r.ci_high


def test_records_serialise_to_json_and_csv():
    segs, lengths = small_corpus()
    rows = compute_agreement(corpus(segs, lengths), bootstrap=20)
    as_json = json.loads(json.dumps(records_to_dicts(rows)))
    assert list(as_json[0]) == list(RECORD_FIELDS)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RECORD_FIELDS)
    writer.writeheader()
    writer.writerows(records_to_dicts(rows, flat=True))
    back = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(back) == len(rows)
    pair_row = next(r for r in back if r["pair"])
    assert pair_row["pair"].count(";") == 1


def test_nominal_variable_gives_cohen_kappa_per_pair():
    rows = compute_agreement(
        tone_corpus(TABLE, "nominal"), levels=["variable"], bootstrap=0
    )
    x = tone_matrix()
    names = {r.coefficient for r in rows}
    assert names == {"percent_agreement", "krippendorff_alpha", "cohen_kappa"}
    expected = krippendorff.alpha(x.T, level_of_measurement="nominal")
    got = get(rows, "variable", "tone", "krippendorff_alpha").value
    assert got == pytest.approx(expected, abs=1e-12)
    pair = get(rows, "variable", "tone", "cohen_kappa", ("c0", "c1"))
    assert pair.n_units == 5  # d4's c0 value conflicts, so it is missing
