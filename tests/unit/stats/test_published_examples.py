"""The coefficient functions reproduce published worked examples to the
precision printed in the source."""

import numpy as np
import pytest

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

N = None

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section E:
# 4 observers x 12 units; also Gwet (2014, p. 120), irrCAC's raw_4raters.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ],
    dtype=object,
).T


def table_to_units(table, labels=None):
    """Expand a two-coder contingency table into a units x 2 matrix."""
    table = np.asarray(table)
    labels = list(range(table.shape[0])) if labels is None else labels
    rows = []
    for i, j in np.ndindex(table.shape):
        rows += [[labels[i], labels[j]]] * int(table[i, j])
    return np.array(rows, dtype=object)


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_alpha(level, expected):
    result = krippendorff_alpha(KRIPPENDORFF_2011, level)
    assert result.value == pytest.approx(expected, abs=5e-4)
    assert result.n_units == 11  # unit 12 has one value only: not pairable


def test_krippendorff_2011_nominal_disagreements():
    # Krippendorff (2011) prints D_o = 4/(11 * ... ); alpha = 1 - 0.2 / 0.7795
    result = krippendorff_alpha(KRIPPENDORFF_2011)
    assert result.observed == pytest.approx(0.2, abs=1e-12)
    assert result.expected == pytest.approx(0.7795, abs=5e-5)


# Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses; kappa = .430.
# Raw ratings as in statsmodels' tests (R irr's "diagnoses").
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5], [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip


def test_fleiss_1971_kappa():
    result = fleiss_kappa(FLEISS_1971)
    assert result.value == pytest.approx(0.430, abs=5e-4)
    assert result.value == pytest.approx(0.4302445, abs=1e-7)  # R irr, 7 digits
    assert result.n_units == 30


def test_cohen_1960_kappa():
    # Cohen (1960, p. 45): 200 units, 3 categories; p_o = .70, p_e = .41.
    table = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]
    result = cohen_kappa(table_to_units(table))
    assert result.value == pytest.approx(0.492, abs=5e-4)
    assert result.observed == pytest.approx(0.70, abs=5e-3)
    assert result.expected == pytest.approx(0.41, abs=5e-3)
    assert result.n_units == 200


@pytest.mark.parametrize(
    ("table", "labels", "expected"),
    [
        # Artstein & Poesio (2008, p. 558)
        (
            [[20, 10], [20, 50]],
            ["STAT", "IReq"],
            {"p_a": 0.7, "s": 0.4, "pi": 0.341, "pi_pe": 0.545, "kappa": 0.348},
        ),
        # Artstein & Poesio (2008, p. 568); alpha .800 (DKPro's test)
        (
            [[46, 0, 0], [6, 32, 6], [0, 0, 10]],
            ["STAT", "IReq", "Chck"],
            {
                "p_a": 0.88,
                "s": 0.82,
                "pi": 0.7995,  # printed .799; DKPro's test has .7995
                "pi_pe": 0.401,
                "kappa": 0.801,
                "alpha": 0.800,
            },
        ),
    ],
)
def test_artstein_poesio_2008(table, labels, expected):
    units = table_to_units(table, labels)
    assert percent_agreement(units).value == pytest.approx(expected["p_a"], abs=5e-4)
    assert bennett_s(units).value == pytest.approx(expected["s"], abs=5e-4)
    pi = scott_pi(units)
    assert pi.value == pytest.approx(expected["pi"], abs=5e-4)
    assert pi.expected == pytest.approx(expected["pi_pe"], abs=5e-4)
    assert cohen_kappa(units).value == pytest.approx(expected["kappa"], abs=5e-4)
    if "alpha" in expected:
        # .80053: the source truncates to .800 (DKPro tests it to +-.001)
        alpha = krippendorff_alpha(units).value
        assert alpha == pytest.approx(expected["alpha"], abs=1e-3)


# Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.; the values are
# those of R's irrCAC (and its Python port's tests), printed to 3 decimals.
GWET_5_OBSERVERS = np.array(
    [
        [1, 1, 2, N, 0, 0, 1, 1, 2, 2, N, 0, 1, 3, 1],
        [1, 1, 3, 0, 0, 0, 0, N, 2, 1, 1, 0, 2, 3, 1],
        [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
        [N, 1, 3, N, N, N, N, 0, N, 1, 0, 0, 2, 2, N],
        [2, N, N, 0, 0, 0, 1, N, 2, N, N, N, N, 3, 1],
    ],
    dtype=object,
).T
GWET_GENDER = np.array(
    [
        list("aaaaabbbcaaaaab"),
        list("aaaababccaaaaba"),
        list("abbcaabbcabbcaa"),
        list("ccccaabbcccccaa"),
    ],
    dtype=object,
).T


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            KRIPPENDORFF_2011,
            {"pa": 0.818, "fleiss": 0.761, "fleiss_pe": 0.239, "ac1": 0.775,
             "ac1_pe": 0.190, "bp": 0.773},
        ),
        (
            GWET_5_OBSERVERS,
            {"pa": 0.616, "fleiss": 0.458, "fleiss_pe": 0.291, "ac1": 0.497,
             "ac1_pe": 0.236, "bp": 0.487},
        ),
        (
            GWET_GENDER,
            {"pa": 0.456, "fleiss": 0.129, "fleiss_pe": 0.375, "ac1": 0.208,
             "ac1_pe": 0.3125, "bp": 0.183},  # R rounds p_e .3125 to .312
        ),
    ],
)  # fmt: skip
def test_gwet_2014_missing_ratings(data, expected):
    assert percent_agreement(data).value == pytest.approx(expected["pa"], abs=5e-4)
    fk = fleiss_kappa(data)
    assert fk.value == pytest.approx(expected["fleiss"], abs=5e-4)
    assert fk.expected == pytest.approx(expected["fleiss_pe"], abs=5e-4)
    ac1 = gwet_ac1(data)
    assert ac1.value == pytest.approx(expected["ac1"], abs=5e-4)
    assert ac1.expected == pytest.approx(expected["ac1_pe"], abs=5e-4)
    assert bennett_s(data).value == pytest.approx(expected["bp"], abs=5e-4)


def test_weighted_kappa_sas_example():
    # SAS PROC FREQ output quoted in statsmodels' test_inter_rater.py: the
    # 3x3 table with Cicchetti-Allison (linear) weights gives .4701; the
    # unweighted kappa .4842.
    units = table_to_units([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert weighted_kappa_linear(units).value == pytest.approx(0.4701, abs=5e-5)
    assert cohen_kappa(units).value == pytest.approx(0.4842, abs=5e-5)


# statsmodels' "anxiety" data (R irr), raters 2 and 3, scale 1-6; nobody
# used 5. R irr's kappa2 builds the scale from the observed values only.
ANXIETY_R2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_R3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]


def test_weighted_kappa_r_irr_and_the_observed_scale_trap():
    units = np.array([ANXIETY_R2, ANXIETY_R3]).T
    observed_scale = [1, 2, 3, 4, 6]
    # R irr kappa2(anxiety[, 2:3], "equal") and "squared": 7 printed digits.
    linear = weighted_kappa_linear(units, categories=observed_scale)
    quadratic = weighted_kappa_quadratic(units, categories=observed_scale)
    assert linear.value == pytest.approx(0.1459075, abs=5e-8)
    assert quadratic.value == pytest.approx(0.2520325, abs=5e-8)
    assert cohen_kappa(units).value == pytest.approx(-0.006289308, abs=5e-10)
    # On the declared 1-6 scale the largest possible distance is 5, not 4:
    # the values differ, which is why the engine always passes the declared
    # scale.
    declared = weighted_kappa_linear(units, categories=[1, 2, 3, 4, 5, 6])
    assert declared.value != pytest.approx(linear.value, abs=1e-3)
