"""Property tests: the coefficient functions equal the ``krippendorff``
package and statsmodels on random reliability data, missing values
included."""

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import (
    aggregate_raters,
    cohens_kappa,
    to_table,
)
from statsmodels.stats.inter_rater import (
    fleiss_kappa as sm_fleiss_kappa,
)

from annotations.stats import (
    bennett_s,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    weighted_kappa_linear,
    weighted_kappa_quadratic,
)

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def reliability(draw, *, max_coders=5, missing=True, values=(1, 2, 3, 4, 5)):
    n_units = draw(st.integers(1, 15))
    n_coders = draw(st.integers(2, max_coders))
    cell = st.sampled_from(values)
    if missing:
        cell = st.one_of(cell, st.just(np.nan))
    rows = draw(
        st.lists(
            st.lists(cell, min_size=n_coders, max_size=n_coders),
            min_size=n_units,
            max_size=n_units,
        )
    )
    return np.array(rows, dtype=float)


def package_alpha(data, level):
    try:
        with np.errstate(all="ignore"):
            value = krippendorff.alpha(data.T, level_of_measurement=level)
    except ValueError:  # the package refuses one-value domains
        return np.nan
    return value


@SETTINGS
@given(reliability(), st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_equals_krippendorff_package(data, level):
    ours = krippendorff_alpha(data, level).value
    theirs = package_alpha(data, level)
    if ours is None:
        assert not np.isfinite(theirs)
        return
    assert ours == pytest.approx(theirs, abs=1e-9)


def complete(data):
    return data[~np.isnan(data).any(axis=1)]


@SETTINGS
@given(reliability(max_coders=2))
def test_cohen_kappa_equals_statsmodels(data):
    rows = complete(data).astype(int)
    ours = cohen_kappa(data)
    if rows.shape[0] == 0:
        assert ours.value is None
        return
    cats = np.unique(rows)
    table = to_table(np.searchsorted(cats, rows), bins=len(cats))[0]
    with np.errstate(all="ignore"):
        theirs = cohens_kappa(table, return_results=False)
    if ours.value is None:
        assert not np.isfinite(theirs)
    else:
        assert ours.value == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(reliability(max_coders=2), st.sampled_from(["linear", "quadratic"]))
def test_weighted_kappa_equals_statsmodels(data, wt):
    # A declared 1-5 scale: statsmodels' weights run over the table's five
    # rows, used or not, like ours.
    rows = complete(data).astype(int)
    scale = [1, 2, 3, 4, 5]
    fn = weighted_kappa_linear if wt == "linear" else weighted_kappa_quadratic
    ours = fn(data, categories=scale).value
    if rows.shape[0] == 0:
        assert ours is None
        return
    table = to_table(rows - 1, bins=5)[0]
    with np.errstate(all="ignore"):
        theirs = cohens_kappa(table, wt=wt, return_results=False)
    if ours is None:
        assert not np.isfinite(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(reliability(missing=False))
def test_fleiss_kappa_equals_statsmodels_on_complete_data(data):
    counts, _ = aggregate_raters(data.astype(int))
    with np.errstate(all="ignore"):
        theirs = sm_fleiss_kappa(counts, method="fleiss")
    ours = fleiss_kappa(data).value
    if ours is None:
        assert not np.isfinite(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(reliability(missing=False))
def test_bennett_s_equals_randolph_kappa_on_complete_data(data):
    # Randolph's free-marginal kappa is Bennett's S for many coders; q is the
    # number of categories that occur.
    counts, _ = aggregate_raters(data.astype(int))
    with np.errstate(all="ignore"):
        theirs = sm_fleiss_kappa(counts, method="randolph")
    ours = bennett_s(data).value
    if counts.shape[1] < 2:
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@SETTINGS
@given(reliability(max_coders=2, missing=False))
def test_scott_pi_equals_fleiss_for_two_coders(data):
    counts, _ = aggregate_raters(data.astype(int))
    with np.errstate(all="ignore"):
        theirs = sm_fleiss_kappa(counts, method="fleiss")
    ours = scott_pi(data).value
    if ours is None:
        assert not np.isfinite(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def irrcac_like(data):
    """A unit-by-unit transcription of R irrCAC's fleiss.kappa.raw and
    gwet.ac1.raw, for missing data."""
    rows = [r[~np.isnan(r)] for r in data]
    rows = [r for r in rows if r.size]
    cats = np.unique(np.concatenate(rows)) if rows else np.array([])
    q = cats.size
    pa_terms, pi = [], np.zeros(q)
    for r in rows:
        counts = np.array([(r == c).sum() for c in cats], float)
        pi += counts / r.size
        if r.size >= 2:
            pa_terms.append((counts * (counts - 1)).sum() / (r.size * (r.size - 1)))
    pi /= len(rows)
    pa = np.mean(pa_terms)
    pe_f = (pi**2).sum()
    pe_g = (pi * (1 - pi)).sum() / (q - 1)
    return pa, (pa - pe_f) / (1 - pe_f), (pa - pe_g) / (1 - pe_g)


@SETTINGS
@given(reliability())
def test_missing_data_coefficients_equal_a_unit_by_unit_transcription(data):
    m = (~np.isnan(data)).sum(axis=1)
    values = data[~np.isnan(data)]
    if (m >= 2).sum() == 0 or np.unique(values).size < 2:
        return
    pa, fk, ac1 = irrcac_like(data)
    assert percent_agreement(data).value == pytest.approx(pa, abs=1e-12)
    ours_fk = fleiss_kappa(data).value
    if np.isfinite(fk):
        assert ours_fk == pytest.approx(fk, abs=1e-9)
    assert gwet_ac1(data).value == pytest.approx(ac1, abs=1e-9)


# -- edge cases ------------------------------------------------------------------


ALL = [
    percent_agreement,
    cohen_kappa,
    scott_pi,
    bennett_s,
    fleiss_kappa,
    krippendorff_alpha,
    gwet_ac1,
    weighted_kappa_linear,
    weighted_kappa_quadratic,
]


@pytest.mark.parametrize("fn", ALL)
def test_perfect_agreement_is_one(fn):
    data = np.array([[1, 1], [2, 2], [3, 3], [1, 1]])
    assert fn(data).value == pytest.approx(1.0)


@pytest.mark.parametrize(
    "fn", [cohen_kappa, scott_pi, fleiss_kappa, krippendorff_alpha]
)
def test_one_category_only_is_undefined_with_a_note(fn):
    result = fn(np.array([[1, 1], [1, 1], [1, np.nan]]))
    assert result.value is None
    assert "one category" in result.note


def test_chance_free_coefficients_stay_defined_with_a_declared_second_category():
    data = np.array([[0, 0], [0, 0], [0, 0]])
    assert gwet_ac1(data, categories=[0, 1]).value == 1.0
    assert bennett_s(data, categories=[0, 1]).value == 1.0
    assert gwet_ac1(data).value is None  # q = 1: AC1 needs two categories


@pytest.mark.parametrize("fn", ALL)
def test_one_coder_is_undefined(fn):
    result = fn(np.array([[1.0], [2.0], [3.0]]))
    assert result.value is None
    assert result.note == "fewer than two coders coded any unit"


@pytest.mark.parametrize(
    "fn", [percent_agreement, scott_pi, fleiss_kappa, krippendorff_alpha, gwet_ac1]
)
def test_no_pairable_units_is_undefined(fn):
    result = fn(np.array([[1, np.nan], [np.nan, 2], [3, np.nan]]))
    assert result.value is None
    assert result.note == "no unit was coded by two or more coders"


def test_cohen_kappa_refuses_more_than_two_coders():
    with pytest.raises(ValueError, match="each pair"):
        cohen_kappa(np.ones((3, 3)))


def test_labels_need_not_be_numbers_for_nominal_coefficients():
    data = [["a", "a"], ["b", "b"], ["a", None], ["c", "b"]]
    assert cohen_kappa(data).n_units == 3
    assert krippendorff_alpha(data).categories == ("a", "b", "c")


def test_ordinal_alpha_uses_the_declared_order():
    data = [["low", "mid"], ["mid", "mid"], ["high", "high"], ["low", "high"]]
    declared = krippendorff_alpha(data, "ordinal", categories=["low", "mid", "high"])
    as_numbers = krippendorff.alpha(
        np.array([[0, 1, 2, 0], [1, 1, 2, 2]], float), level_of_measurement="ordinal"
    )
    assert declared.value == pytest.approx(as_numbers, abs=1e-12)
    alphabetical = krippendorff_alpha(data, "ordinal")  # high < low < mid
    assert alphabetical.value != pytest.approx(declared.value)


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize(
    "data",
    [np.full((3, 2), np.nan), np.zeros((0, 2)), np.zeros((0, 0)), [[1]]],
    ids=["all-missing", "no-units", "empty", "one-cell"],
)
def test_degenerate_matrices_give_none_not_a_crash(fn, data):
    result = fn(data)
    assert result.value is None
    assert result.note
