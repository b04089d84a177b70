"""Agreement coefficients on a plain reliability matrix.

Every function takes a reliability matrix: one row per unit, one column per
coder, a missing value (``NaN`` or ``None``) where a coder did not code the
unit. It returns a :class:`~annotations.stats.results.Coefficient`; a value
that is undefined for the data is ``None`` with a ``note`` saying why, never a
crash or a made-up 1.0.

``categories`` fixes the category set and, for ordered coefficients, its
order; by default it is the sorted set of values that occur. It matters for
Bennett's S and Gwet's AC1 (which use the number of categories ``q``) and for
the weighted kappas and ordinal alpha (which use the order).

The functions reuse the additive formulas of :mod:`annotations.stats.formulas`
that the document-level engine uses, so the published examples in the tests
check both.

References: Cohen (1960, 1968); Scott (1955); Bennett, Alpert & Goldstein
(1954); Brennan & Prediger (1981); Fleiss (1971); Gwet (2008; 2014, Handbook
of Inter-Rater Reliability, 4th ed.); Krippendorff (2011) "Computing
Krippendorff's Alpha-Reliability".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from annotations.stats import formulas as f
from annotations.stats.results import Coefficient

ONE_CATEGORY = (
    "only one category occurs, so chance agreement is 1 and the coefficient "
    "is 0/0 (undefined); agreement itself is perfect"
)
FEWER_THAN_TWO_CODERS = "fewer than two coders coded any unit"
NO_PAIRABLE_UNITS = "no unit was coded by two or more coders"


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(x))
    except TypeError:
        return False


def _encode(
    data: ArrayLike, categories: Sequence[Any] | None
) -> tuple[np.ndarray, tuple[Any, ...], int]:
    """Category indices (``-1`` = missing), the categories, and the number of
    coders (columns) with at least one value."""
    arr = np.asarray(data, dtype=object)
    if arr.ndim != 2:
        raise ValueError("a reliability matrix is 2-D: units x coders")
    missing = np.vectorize(_is_missing, otypes=[bool])(arr) if arr.size else arr
    present = arr[~missing] if arr.size else arr.ravel()
    if categories is None:
        cats = tuple(sorted(set(present.tolist())))
    else:
        cats = tuple(categories)
        unknown = set(present.tolist()) - set(cats)
        if unknown:
            raise ValueError(f"values not among the categories: {sorted(unknown)!r}")
    index = {c: i for i, c in enumerate(cats)}
    codes = np.full(arr.shape, -1, dtype=np.int64)
    if arr.size:
        codes[~missing] = [index[v] for v in present.tolist()]
    n_coders = int((codes >= 0).any(axis=0).sum()) if arr.size else 0
    return codes, cats, n_coders


def _counts(codes: np.ndarray, v: int) -> np.ndarray:
    n_units = codes.shape[0]
    out = np.zeros((n_units, max(v, 1)))
    rows, cols = np.nonzero(codes >= 0)
    np.add.at(out, (rows, codes[rows, cols]), 1.0)
    return out[:, :v] if v else out[:, :0]


def _finish(
    name: str,
    value: float,
    *,
    n_units: int,
    n_coders: int,
    cats: tuple[Any, ...],
    observed: float | None = None,
    expected: float | None = None,
    why: str | None = None,
) -> Coefficient:
    def clean(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    v = clean(value)
    note = None
    if v is None:
        if n_coders < 2:
            note = FEWER_THAN_TWO_CODERS
        elif n_units == 0:
            note = NO_PAIRABLE_UNITS
        else:
            note = why or ONE_CATEGORY
    return Coefficient(
        name=name,
        value=v,
        n_units=n_units,
        n_coders=n_coders,
        categories=cats,
        observed=clean(observed),
        expected=clean(expected),
        note=note,
    )


def _nominal_sums(
    data: ArrayLike, categories: Sequence[Any] | None
) -> tuple[dict[str, np.ndarray], tuple[Any, ...], int]:
    codes, cats, n_coders = _encode(data, categories)
    stats = f.nominal_unit_stats(_counts(codes, len(cats)))
    return {k: v.sum(axis=0) for k, v in stats.items()}, cats, n_coders


def percent_agreement(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Percent agreement: the mean, over units coded by two or more coders,
    of the share of agreeing coder pairs.

    ``p_a = (1/n') sum_i sum_k r_ik (r_ik - 1) / (m_i (m_i - 1))`` (Gwet 2014,
    eq. 2.2); for two coders, the share of units on which they agree.

    >>> percent_agreement([[1, 1], [1, 2], [2, 2], [2, None]]).value
    0.6666666666666666
    """
    s, cats, n_coders = _nominal_sums(data, categories)
    value = f.percent_agreement_from_sums(s["n2"], s["pa"])
    return _finish(
        "percent_agreement",
        value,
        n_units=int(s["n2"]),
        n_coders=n_coders,
        cats=cats,
        observed=value,
    )


def fleiss_kappa(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Fleiss' kappa, with Gwet's generalisation to varying coders per unit.

    ``kappa = (p_a - p_e) / (1 - p_e)``, ``p_a`` as in
    :func:`percent_agreement`, ``p_e = sum_k pi_k^2`` with
    ``pi_k = (1/n) sum_i r_ik / m_i`` over the ``n`` units with any value
    (Fleiss 1971; Gwet 2014, eq. 2.10, as in R's irrCAC). With every coder on
    every unit this is Fleiss (1971) exactly.

    Worked example, Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses
    give kappa = .430.
    """
    s, cats, n_coders = _nominal_sums(data, categories)
    value = f.fleiss_kappa_from_sums(s["n2"], s["pa"], s["n1"], s["pi"])
    p = f.safe_div(s["pi"], s["n1"])
    return _finish(
        "fleiss_kappa",
        value,
        n_units=int(s["n2"]),
        n_coders=n_coders,
        cats=cats,
        observed=float(f.percent_agreement_from_sums(s["n2"], s["pa"])),
        expected=float((p**2).sum()),
    )


def gwet_ac1(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Gwet's AC1: ``(p_a - p_e) / (1 - p_e)`` with
    ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)`` (Gwet 2008; 2014, eq. 2.12).

    Unlike kappa it stays defined when one category dominates (the prevalence
    paradox). Worked example, Gwet (2014, p. 120): 4 raters, 12 units, 5
    categories, missing ratings: AC1 = .775 (p_a = .818, p_e = .190).
    """
    s, cats, n_coders = _nominal_sums(data, categories)
    q = len(cats)
    value = f.gwet_ac1_from_sums(s["n2"], s["pa"], s["n1"], s["pi"], q)
    p = f.safe_div(s["pi"], s["n1"])
    pe = float((p * (1 - p)).sum() / (q - 1)) if q >= 2 else None
    why = "fewer than two categories: AC1 needs q >= 2" if q < 2 else None
    return _finish(
        "gwet_ac1",
        value,
        n_units=int(s["n2"]),
        n_coders=n_coders,
        cats=cats,
        observed=float(f.percent_agreement_from_sums(s["n2"], s["pa"])),
        expected=pe,
        why=why,
    )


def bennett_s(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Bennett, Alpert and Goldstein's S (Brennan-Prediger kappa):
    ``(p_a - 1/q) / (1 - 1/q)`` with ``q`` the number of categories.

    Pass ``categories`` to count categories that could have been used but
    were not. Worked example, Artstein & Poesio (2008, p. 558): 100 items, two
    coders, 2 categories, p_a = .7 give S = .4.
    """
    s, cats, n_coders = _nominal_sums(data, categories)
    q = len(cats)
    value = f.bennett_s_from_sums(s["n2"], s["pa"], q)
    why = "fewer than two categories: S needs q >= 2" if q < 2 else None
    return _finish(
        "bennett_s",
        value,
        n_units=int(s["n2"]),
        n_coders=n_coders,
        cats=cats,
        observed=float(f.percent_agreement_from_sums(s["n2"], s["pa"])),
        expected=1.0 / q if q else None,
        why=why,
    )


def scott_pi(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Scott's pi: ``(p_a - p_e) / (1 - p_e)``, ``p_e = sum_k pi_k^2`` with
    ``pi_k`` the share of category ``k`` among all values on units coded by
    two or more coders (Scott 1955; for more coders, pairwise ``p_a``).

    Worked example, Artstein & Poesio (2008, p. 558): p_a = .7,
    p_e = .545, pi = .341.
    """
    s, cats, n_coders = _nominal_sums(data, categories)
    value = f.scott_pi_from_sums(s["n2"], s["pa"], s["pooled"])
    p = f.safe_div(s["pooled"], s["pooled"].sum())
    return _finish(
        "scott_pi",
        value,
        n_units=int(s["n2"]),
        n_coders=n_coders,
        cats=cats,
        observed=float(f.percent_agreement_from_sums(s["n2"], s["pa"])),
        expected=float((p**2).sum()),
    )


def krippendorff_alpha(
    data: ArrayLike,
    level: str = "nominal",
    *,
    categories: Sequence[Any] | None = None,
) -> Coefficient:
    """Krippendorff's alpha at a level of measurement.

    ``alpha = 1 - D_o / D_e = 1 - (n - 1) sum o_ck delta_ck / sum n_c n_k
    delta_ck`` from the coincidence matrix ``o_ck = sum_u (number of c-k pairs
    in u) / (m_u - 1)`` over units with ``m_u >= 2`` values, its margins
    ``n_c`` and ``n = sum n_c`` (Krippendorff 2011). ``delta^2`` is nominal
    (0/1), ordinal (``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` in the order of
    ``categories``), interval (``(c - k)^2``) or ratio
    (``((c - k)/(c + k))^2``).

    Worked example, Krippendorff (2011): 4 coders, 12 units, values 1-5 with
    missing data give alpha = .743 (nominal), .815 (ordinal), .849 (interval),
    .797 (ratio).
    """
    if level not in f.LEVELS_OF_MEASUREMENT:
        raise ValueError(f"unknown level of measurement: {level!r}")
    codes, cats, n_coders = _encode(data, categories)
    counts = _counts(codes, len(cats))
    o = f.unit_coincidences(counts).sum(axis=0)
    values = None
    if level in ("interval", "ratio"):
        values = np.asarray([float(c) for c in cats])
    alpha, d_o, d_e = f.alpha_from_coincidences(o, level, values)
    n_units = int((counts.sum(axis=1) >= 2).sum())
    return _finish(
        f"krippendorff_alpha_{level}" if level != "nominal" else "krippendorff_alpha",
        float(alpha),
        n_units=n_units,
        n_coders=n_coders,
        cats=cats,
        observed=float(d_o),
        expected=float(d_e),
    )


def _two_coder_table(
    data: ArrayLike, categories: Sequence[Any] | None, name: str
) -> tuple[np.ndarray, tuple[Any, ...], int]:
    codes, cats, n_coders = _encode(data, categories)
    if codes.shape[1] > 2:
        raise ValueError(f"{name} compares two coders; compute it for each pair")
    v = len(cats)
    table = np.zeros((v, v))
    if codes.shape[1] == 2:
        both = (codes >= 0).all(axis=1)
        np.add.at(table, (codes[both, 0], codes[both, 1]), 1.0)
    return table, cats, n_coders


def _kappa(
    name: str, data: ArrayLike, categories: Sequence[Any] | None, weights: str | None
) -> Coefficient:
    table, cats, n_coders = _two_coder_table(data, categories, name)
    w = None if weights is None else f.kappa_weights(len(cats), weights)  # type: ignore[arg-type]
    if table.size == 0:
        kappa, p_o, p_e = (np.nan,) * 3
    else:
        kappa, p_o, p_e = f.kappa_from_table(table, w)
    return _finish(
        name,
        float(kappa),
        n_units=int(table.sum()),
        n_coders=n_coders,
        cats=cats,
        observed=float(p_o),
        expected=float(p_e),
    )


def cohen_kappa(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Cohen's kappa for two coders (the two columns), on units both coded.

    ``kappa = (p_o - p_e) / (1 - p_e)``, ``p_e = sum_k p_k. p_.k`` from each
    coder's own marginals (Cohen 1960). Worked example, Cohen (1960, p. 45):
    200 units, 3 categories, p_o = .70, p_e = .41, kappa = .492.
    """
    return _kappa("cohen_kappa", data, categories, None)


def weighted_kappa_linear(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Cohen's (1968) weighted kappa with linear weights
    ``w_ij = 1 - |i - j| / (q - 1)``.

    ``i, j`` are positions in ``categories`` (the declared order) and ``q`` is
    the number of *possible* categories: normalising by the largest observed
    distance instead inflates or deflates kappa whenever the extreme
    categories are never used. Worked example (SAS, via statsmodels' tests):
    the 3x3 table [[0,4,1],[0,8,0],[0,1,5]] gives .4701.
    """
    return _kappa("weighted_kappa_linear", data, categories, "linear")


def weighted_kappa_quadratic(
    data: ArrayLike, *, categories: Sequence[Any] | None = None
) -> Coefficient:
    """Cohen's (1968) weighted kappa with quadratic weights
    ``w_ij = 1 - (i - j)^2 / (q - 1)^2`` over the declared order of
    ``categories`` (see :func:`weighted_kappa_linear` for why ``q`` counts
    possible, not observed, categories)."""
    return _kappa("weighted_kappa_quadratic", data, categories, "quadratic")
