"""compute_agreement against one-cell-per-character, one-unit-at-a-time
reference computations on small random corpora."""

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from annotations.stats import (
    SegmentRow,
    bennett_s,
    cohen_kappa,
    compute_agreement,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    unitizing,
)
from tests.unit.stats import reference as ref

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def index(records):
    return {(r.level, r.code, r.coefficient, r.pair): r for r in records}


def same(engine_value, expected):
    if expected is None or not np.isfinite(expected):
        assert engine_value is None
    else:
        assert engine_value is not None
        assert engine_value == pytest.approx(expected, abs=1e-9)


def pairs_of(coders):
    return list(itertools.combinations(coders, 2))


def shared(matrix, i, j):
    return matrix[:, [i, j]]


@SETTINGS
@given(ref.corpora())
def test_character_level_equals_one_cell_per_character(corpus):
    segments, lengths, assignments, parents = corpus
    rows = index(
        compute_agreement(ref.build(corpus), levels=["character"], bootstrap=0)
    )
    stacked = []
    for code in parents:
        x, coders = ref.char_matrix(segments, lengths, assignments, code, parents)
        stacked.append(x)
        for name, fn in (
            ("percent_agreement", percent_agreement),
            ("krippendorff_alpha", krippendorff_alpha),
        ):
            same(rows["character", code, name, None].value, fn(x).value)
        for i, j in itertools.combinations(range(len(coders)), 2):
            pair = (coders[i], coders[j])
            if ("character", code, "cohen_kappa", pair) not in rows:
                # the pair shares no document: no row
                assert np.isnan(shared(x, i, j)).any(axis=1).all()
                continue
            expected = cohen_kappa(shared(x, i, j)).value
            same(rows["character", code, "cohen_kappa", pair].value, expected)
    pooled = np.vstack(stacked)
    same(
        rows["character", None, "krippendorff_alpha", None].value,
        krippendorff_alpha(pooled).value,
    )
    assert rows["character", None, "krippendorff_alpha", None].n_units == len(pooled)


@SETTINGS
@given(ref.corpora())
def test_document_level_equals_the_reliability_matrix(corpus):
    segments, lengths, assignments, parents = corpus
    rows = index(compute_agreement(ref.build(corpus), levels=["document"], bootstrap=0))
    binary = {"categories": (0.0, 1.0)}
    checks = [
        ("percent_agreement", percent_agreement, {}),
        ("scott_pi", scott_pi, {}),
        ("bennett_s", bennett_s, binary),
        ("fleiss_kappa", fleiss_kappa, {}),
        ("krippendorff_alpha", krippendorff_alpha, {}),
        ("gwet_ac1", gwet_ac1, binary),
    ]
    stacked = []
    for code in [*parents, None]:
        if code is None:
            x = np.vstack(stacked)
        else:
            x, coders = ref.doc_matrix(segments, lengths, assignments, code, parents)
            stacked.append(x)
        if x.shape[0] == 0:
            continue
        for name, fn, kw in checks:
            same(rows["document", code, name, None].value, fn(x, **kw).value)
        kappas = []
        for i, j in itertools.combinations(range(x.shape[1]), 2):
            pair = (coders[i], coders[j])
            if ("document", code, "cohen_kappa", pair) in rows:
                k = cohen_kappa(shared(x, i, j)).value
                same(rows["document", code, "cohen_kappa", pair].value, k)
                kappas.append(k)
        defined = [k for k in kappas if k is not None]
        mean = np.mean(defined) if defined else None
        same(rows["document", code, "cohen_kappa", None].value, mean)


@SETTINGS
@given(ref.corpora())
def test_per_code_u_alpha_equals_the_definition(corpus):
    segments, lengths, assignments, parents = corpus
    rows = index(
        compute_agreement(ref.build(corpus), levels=["unitizing"], bootstrap=0)
    )
    docs = ref.sample(lengths, assignments)
    for code in parents:
        keep = ref.descendants(code, parents)
        units = {
            (d, c): [(code, s, e) for s, e in ref.merged_units(segments, d, c, keep)]
            for d, cs in docs.items()
            for c in cs
        }
        expected = np.nan
        if docs and sum(lengths[d] for d in docs):
            with np.errstate(all="ignore"):
                try:
                    expected = ref.u_alphas(units, lengths, docs)[1]
                except ZeroDivisionError:
                    expected = np.nan
        same(rows["unitizing", code, "u_alpha", None].value, expected)


@SETTINGS
@given(ref.corpora(max_codes=3))
def test_all_codes_u_alpha_equals_the_definition(corpus):
    segments, lengths, assignments, parents = corpus
    # The 2016 definition needs mutually exclusive units per coder: keep each
    # coder's segments that do not overlap an earlier kept one.
    kept, taken = [], {}
    for seg in segments:
        spans = taken.setdefault((seg.document, seg.coder), [])
        if all(seg.end <= s or e <= seg.start for s, e in spans):
            spans.append((seg.start, seg.end))
            kept.append(seg)
    flat = dict.fromkeys(parents)  # u-alpha uses codes as applied
    rows = index(
        compute_agreement(
            ref.build((kept, lengths, assignments, flat)),
            levels=["unitizing"],
            bootstrap=0,
        )
    )
    docs = ref.sample(lengths, assignments)
    units = {}
    for seg in kept:
        if seg.document in docs and seg.coder in docs[seg.document]:
            units.setdefault((seg.document, seg.coder), []).append(
                (seg.code, seg.start, seg.end)
            )
    u = binary = np.nan
    if docs and sum(lengths[d] for d in docs):
        with np.errstate(all="ignore"), contextlib.suppress(ZeroDivisionError):
            u, binary = ref.u_alphas(units, lengths, docs)
    same(rows["unitizing", None, "u_alpha", None].value, u)
    same(rows["unitizing", None, "binary_u_alpha", None].value, binary)


@SETTINGS
@given(ref.corpora())
def test_span_level_equals_pairwise_matching(corpus):
    segments, lengths, assignments, parents = corpus
    rows = index(compute_agreement(ref.build(corpus), levels=["span"], bootstrap=0))
    docs = ref.sample(lengths, assignments)
    coders = ref.coders_of(docs)
    for code in parents:
        for a, b in pairs_of(coders):
            key = ("span", code, "f1_exact", (a, b))
            if key not in rows:
                continue
            tp, ma, mb, na, nb = ref.span_counts(
                segments, lengths, assignments, code, parents, a, b
            )
            exact = 2 * tp / (na + nb) if na + nb else None
            if na + nb == 0:
                overlap = None
            elif ma == 0 or mb == 0:
                overlap = 0.0
            else:
                p, r = mb / nb, ma / na
                overlap = 2 * p * r / (p + r)
            same(rows[key].value, exact)
            same(rows["span", code, "f1_overlap", (a, b)].value, overlap)
            assert rows[key].n_units == na + nb


def test_unitizing_in_chunks_of_documents_equals_one_chunk(monkeypatch):
    corpus = (
        [
            SegmentRow(f"d{d}", c, k, s, s + w)
            for d in range(6)
            for c, k, s, w in [("a", "X", d, 5), ("b", "X", 1, 6), ("a", "Y", 3, 4)]
        ],
        {f"d{d}": 12 for d in range(6)},
        [(f"d{d}", c) for d in range(6) for c in "ab"],
        {"X": None, "Y": None},
    )
    whole = compute_agreement(ref.build(corpus), levels=["unitizing"], bootstrap=30)
    monkeypatch.setattr(unitizing, "CHUNK_UNITS", 2)
    chunked = compute_agreement(ref.build(corpus), levels=["unitizing"], bootstrap=30)
    assert [r.value for r in whole] == pytest.approx([r.value for r in chunked])
    assert [r.ci_low for r in whole] == pytest.approx([r.ci_low for r in chunked])


@SETTINGS
@given(ref.corpora(max_codes=3))
def test_all_codes_u_alpha_with_overlapping_codes_uses_combined_values(corpus):
    segments, lengths, assignments, parents = corpus
    flat = dict.fromkeys(parents)
    rows = index(
        compute_agreement(
            ref.build((segments, lengths, assignments, flat)),
            levels=["unitizing"],
            bootstrap=0,
        )
    )
    docs = ref.sample(lengths, assignments)
    units = {
        (d, c): ref.sections_with_combinations(segments, d, c, list(parents))
        for d, cs in docs.items()
        for c in cs
    }
    u = binary = np.nan
    if docs and sum(lengths[d] for d in docs):
        with np.errstate(all="ignore"), contextlib.suppress(ZeroDivisionError):
            u, binary = ref.u_alphas(units, lengths, docs)
    same(rows["unitizing", None, "u_alpha", None].value, u)
    same(rows["unitizing", None, "binary_u_alpha", None].value, binary)
