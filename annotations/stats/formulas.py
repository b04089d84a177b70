"""Agreement coefficients from additive sufficient statistics.

Every coefficient in this package is a function of sums over units (or over
documents) of a few per-unit quantities: category counts, coincidences,
pairwise contingency tables, overlap lengths. This module holds those
functions, vectorised over any leading batch shape, so the same code computes
a point estimate (sums over all documents) and a thousand bootstrap
replicates at once (sums weighted by a resampling matrix).

Undefined values come out as NaN here; callers turn them into ``None`` with a
note. A denominator counts as zero below ``TOL`` (all inputs are counts or
proportions, so a relative tolerance is not needed).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

TOL = 1e-12

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS_OF_MEASUREMENT: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")

FloatArray = NDArray[np.float64]


def safe_div(num: ArrayLike, den: ArrayLike, tol: float = TOL) -> FloatArray:
    """``num / den``, NaN wherever ``|den| <= tol``."""
    n, d = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(n.shape, np.nan)
    np.divide(n, d, out=out, where=np.abs(d) > tol)
    return out


# -- per-unit statistics --


def nominal_unit_stats(counts: NDArray[np.float64]) -> dict[str, FloatArray]:
    """Per-unit statistics of the nominal coefficient family.

    ``counts`` has shape ``(n_units, V)``: how many coders put the unit into
    each category. Summing every returned array over units gives the input of
    :func:`nominal_coefficients`:

    * ``n2``: 1 for a unit with at least two values (pairable), else 0;
    * ``pa``: Gwet's per-unit agreement ``sum_k r_k (r_k - 1) / (m (m - 1))``;
    * ``n1``: 1 for a unit with at least one value;
    * ``pi``: ``r_k / m`` (Fleiss's and Gwet's category proportions);
    * ``pooled``: ``r_k`` on pairable units (Scott's pooled marginals, which are
      also the margins of Krippendorff's coincidence matrix);
    * ``o_diag``: the diagonal sum of the unit's coincidence matrix,
      ``sum_k r_k (r_k - 1) / (m - 1)``.
    """
    counts = np.asarray(counts, float)
    m = counts.sum(axis=1)
    pair = m >= 2
    rated = m >= 1
    agree = (counts * (counts - 1.0)).sum(axis=1)
    mm1 = np.where(pair, m - 1.0, 1.0)
    return {
        "n2": pair.astype(float),
        "pa": np.where(pair, agree / (np.where(pair, m, 1.0) * mm1), 0.0),
        "n1": rated.astype(float),
        "pi": np.where(rated[:, None], counts / np.where(rated, m, 1.0)[:, None], 0),
        "pooled": np.where(pair[:, None], counts, 0.0),
        "o_diag": np.where(pair, agree / mm1, 0.0),
    }


def unit_coincidences(counts: NDArray[np.float64]) -> FloatArray:
    """Per-unit coincidence matrices ``(r r^T - diag(r)) / (m - 1)``.

    Units with fewer than two values are not pairable and contribute zeros
    (Krippendorff 2011, section C). Shape ``(n_units, V, V)``.
    """
    counts = np.asarray(counts, float)
    m = counts.sum(axis=1)
    pair = m >= 2
    outer = counts[:, :, None] * counts[:, None, :]
    idx = np.arange(counts.shape[1])
    outer[:, idx, idx] -= counts
    scale = np.where(pair, 1.0 / np.where(pair, m - 1.0, 1.0), 0.0)
    return outer * scale[:, None, None]


# -- nominal family --


def percent_agreement_from_sums(n2: ArrayLike, pa: ArrayLike) -> FloatArray:
    """Mean pairwise agreement over pairable units (Gwet 2014, eq. 2.2)."""
    return safe_div(pa, n2)


def fleiss_kappa_from_sums(
    n2: ArrayLike, pa: ArrayLike, n1: ArrayLike, pi: ArrayLike
) -> FloatArray:
    """Fleiss' kappa, generalised by Gwet (2014) to varying coders per unit.

    ``p_e = sum_k pi_k^2`` with ``pi_k`` the mean over rated units of
    ``r_k / m``.
    """
    p_a = safe_div(pa, n2)
    p = safe_div(pi, np.asarray(n1, float)[..., None])
    p_e = (p**2).sum(axis=-1)
    return safe_div(p_a - p_e, 1.0 - p_e)


def gwet_ac1_from_sums(
    n2: ArrayLike, pa: ArrayLike, n1: ArrayLike, pi: ArrayLike, q: int
) -> FloatArray:
    """Gwet's AC1: ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)`` (Gwet 2008)."""
    p_a = safe_div(pa, n2)
    if q < 2:
        return np.full(np.shape(p_a), np.nan)
    p = safe_div(pi, np.asarray(n1, float)[..., None])
    p_e = (p * (1.0 - p)).sum(axis=-1) / (q - 1)
    return safe_div(p_a - p_e, 1.0 - p_e)


def bennett_s_from_sums(n2: ArrayLike, pa: ArrayLike, q: int) -> FloatArray:
    """Bennett, Alpert and Goldstein's S (Brennan-Prediger): ``p_e = 1/q``."""
    p_a = safe_div(pa, n2)
    if q < 2:
        return np.full(np.shape(p_a), np.nan)
    return (p_a - 1.0 / q) / (1.0 - 1.0 / q)


def scott_pi_from_sums(n2: ArrayLike, pa: ArrayLike, pooled: ArrayLike) -> FloatArray:
    """Scott's pi: ``p_e = sum_k pi_k^2`` with pooled marginals of all values
    on pairable units (for two coders, Scott 1955 exactly)."""
    p_a = safe_div(pa, n2)
    pooled = np.asarray(pooled, float)
    p = safe_div(pooled, pooled.sum(axis=-1)[..., None])
    p_e = (p**2).sum(axis=-1)
    return safe_div(p_a - p_e, 1.0 - p_e)


def alpha_nominal_from_sums(pooled: ArrayLike, o_diag: ArrayLike) -> FloatArray:
    """Krippendorff's nominal alpha from coincidence margins and diagonal:
    ``1 - (n - 1) (n - sum_c o_cc) / (n^2 - sum_c n_c^2)``."""
    pooled = np.asarray(pooled, float)
    n = pooled.sum(axis=-1)
    de = n**2 - (pooled**2).sum(axis=-1)
    de_norm = safe_div(de, n**2)
    out = 1.0 - safe_div((n - 1.0) * (n - np.asarray(o_diag, float)), de)
    return np.where((de_norm > TOL) & (n > 1), out, np.nan)


# -- coincidence matrices --


def distance_matrix(
    level: str, margins: FloatArray, values: FloatArray | None = None
) -> FloatArray:
    """Krippendorff's squared difference ``delta^2_ck`` for a level.

    ``margins`` (``(..., V)``) are the coincidence margins ``n_c`` in the
    declared category order; ordinal distances depend on them. ``values``
    (``(V,)``) are the numeric values, needed for interval and ratio.
    """
    v = margins.shape[-1]
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(v), (*margins.shape[:-1], v, v))
    if level == "ordinal":
        # sum_{g=c..k} n_g - (n_c + n_k)/2 equals mid_k - mid_c with
        # mid = cumulative count minus half the own count.
        mid = np.cumsum(margins, axis=-1) - margins / 2.0
        return (mid[..., None, :] - mid[..., :, None]) ** 2
    if values is None:
        raise ValueError(f"{level} alpha needs numeric category values")
    x = np.asarray(values, float)
    diff = x[None, :] - x[:, None]
    if level == "interval":
        d = diff**2
    elif level == "ratio":
        tot = x[None, :] + x[:, None]
        d = np.divide(diff, tot, out=np.zeros_like(diff), where=tot != 0) ** 2
    else:
        raise ValueError(f"unknown level of measurement: {level!r}")
    return np.broadcast_to(d, (*margins.shape[:-1], v, v))


def alpha_from_coincidences(
    o: ArrayLike, level: str = "nominal", values: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Krippendorff's alpha from a coincidence matrix ``o`` (``(..., V, V)``).

    Returns ``(alpha, D_o, D_e)`` with
    ``D_o = sum o_ck delta_ck / n`` and
    ``D_e = sum n_c n_k delta_ck / (n (n - 1))``, ``alpha = 1 - D_o / D_e``.
    """
    o = np.asarray(o, float)
    margins = o.sum(axis=-1)
    n = margins.sum(axis=-1)
    delta = distance_matrix(
        level, margins, None if values is None else np.asarray(values, float)
    )
    do_sum = (o * delta).sum(axis=(-1, -2))
    de_sum = (margins[..., :, None] * margins[..., None, :] * delta).sum(axis=(-1, -2))
    d_o = safe_div(do_sum, n)
    d_e = safe_div(de_sum, n * (n - 1.0))
    # De relative to its scale: zero when only one category (or value) occurs.
    scale = n**2 * np.maximum(delta.max(axis=(-1, -2), initial=0.0), TOL)
    alpha = 1.0 - safe_div((n - 1.0) * do_sum, de_sum)
    ok = (safe_div(de_sum, scale) > TOL) & (n > 1)
    return np.where(ok, alpha, np.nan), d_o, d_e


# -- two-coder contingency tables --


def kappa_from_table(
    table: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cohen's (weighted) kappa from contingency tables ``(..., V, V)``.

    ``weights`` are agreement weights ``w_ij`` (identity for Cohen 1960).
    Returns ``(kappa, p_o, p_e)`` with ``p_o = sum w_ij p_ij`` and
    ``p_e = sum w_ij p_i. p_.j`` (Cohen 1968).
    """
    t = np.asarray(table, float)
    v = t.shape[-1]
    w = np.eye(v) if weights is None else np.asarray(weights, float)
    n = t.sum(axis=(-1, -2))
    p = safe_div(t, n[..., None, None])
    row = p.sum(axis=-1)
    col = p.sum(axis=-2)
    p_o = (w * p).sum(axis=(-1, -2))
    p_e = (w * row[..., :, None] * col[..., None, :]).sum(axis=(-1, -2))
    return safe_div(p_o - p_e, 1.0 - p_e), p_o, p_e


def kappa_weights(v: int, kind: Literal["linear", "quadratic"]) -> FloatArray:
    """Cohen's (1968) agreement weights over ``v`` ordered categories.

    Distances are normalised by the largest *possible* distance, ``v - 1``,
    not by the largest one observed: ``w_ij = 1 - |i - j| / (v - 1)``
    (linear) or ``1 - (i - j)^2 / (v - 1)^2`` (quadratic).
    """
    if v < 2:
        return np.ones((v, v))
    i = np.arange(v)
    d = np.abs(i[:, None] - i[None, :]) / (v - 1)
    return 1.0 - (d if kind == "linear" else d**2)


def binary_table(
    n11: ArrayLike, a1: ArrayLike, b1: ArrayLike, n: ArrayLike
) -> FloatArray:
    """2x2 table (rows coder a, columns coder b, index 1 = "coded") from
    ``n11`` (both), ``a1``, ``b1`` (each coder's count) and ``n`` (total)."""
    n11, a1, b1, n = (np.asarray(x, float) for x in (n11, a1, b1, n))
    t = np.empty((*np.broadcast(n11, a1, b1, n).shape, 2, 2))
    t[..., 1, 1] = n11
    t[..., 1, 0] = a1 - n11
    t[..., 0, 1] = b1 - n11
    t[..., 0, 0] = n - a1 - b1 + n11
    return t


# -- unitizing --


def u_alpha_from_sums(
    lsum: ArrayLike, trace: ArrayLike, margins_sq: ArrayLike, s: ArrayLike
) -> FloatArray:
    """Krippendorff's u-alpha (nominal) on a unitized continuum.

    ``lsum`` is ``l..`` (coders times continuum length), ``trace`` the sum of
    observed coincidences on the diagonal ``sum_c l_cc``, ``margins_sq`` the
    sum of squared margins ``sum_c l_c.^2`` and ``s`` the self-pairing
    correction (squared lengths of units plus plain lengths of gaps):
    ``1 - (l.. - trace)(l..^2 - s) / (l.. (l..^2 - sum_c l_c.^2))``.
    """
    lsum = np.asarray(lsum, float)
    den = lsum * (lsum**2 - np.asarray(margins_sq, float))
    ok = safe_div(lsum**2 - np.asarray(margins_sq, float), lsum**2) > TOL
    out = 1.0 - safe_div((lsum - np.asarray(trace, float)) * (lsum**2 - s), den)
    return np.where(ok, out, np.nan)


def binary_u_alpha_from_sums(
    lsum: ArrayLike, valued: ArrayLike, off: ArrayLike, s: ArrayLike
) -> FloatArray:
    """|u-alpha: coded versus not coded. ``valued`` is the margin of the coded
    matter ``l_V.``, ``off`` the observed coincidences between coded matter and
    gaps ``l_V0``; ``e_V0 = l.. l_V. l_0. / (l..^2 - s)``."""
    lsum = np.asarray(lsum, float)
    valued = np.asarray(valued, float)
    gap = lsum - valued
    e_off = safe_div(lsum * valued * gap, lsum**2 - np.asarray(s, float))
    ok = safe_div(valued * gap, lsum**2) > TOL
    return np.where(ok, 1.0 - safe_div(off, e_off), np.nan)


# -- span matching --


def f1_exact_from_sums(tp: ArrayLike, na: ArrayLike, nb: ArrayLike) -> FloatArray:
    """F1 of exact matches: ``2 tp / (n_a + n_b)``."""
    return safe_div(2.0 * np.asarray(tp, float), np.add(na, nb))


def f1_overlap_from_sums(
    ma: ArrayLike, mb: ArrayLike, na: ArrayLike, nb: ArrayLike
) -> FloatArray:
    """F1 of overlap matches: harmonic mean of recall ``m_a / n_a`` (a's
    segments overlapped by b) and precision ``m_b / n_b``; 0 when either
    coder has no matched segment, undefined when neither has any segment."""
    ma, mb, na, nb = (np.asarray(x, float) for x in (ma, mb, na, nb))
    r = safe_div(ma, na)
    p = safe_div(mb, nb)
    f1 = safe_div(2.0 * p * r, p + r)
    f1 = np.where((ma == 0) | (mb == 0), 0.0, f1)
    return np.where(na + nb > 0, f1, np.nan)


def span_precision_recall_from_sums(
    m_coder: ArrayLike, m_ref: ArrayLike, n_coder: ArrayLike, n_ref: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Precision and recall of a coder against a reference (the consensus):
    ``precision = m_coder / n_coder``, the share of the coder's segments that
    match a reference segment, and ``recall = m_ref / n_ref``, the share of
    the reference's segments that a coder's segment matches. Exact matches:
    ``m_coder = m_ref = tp``; overlap matches: the coder's segments overlapped
    by the reference and the reference's overlapped by the coder. Each is
    undefined (NaN) when its denominator is 0. Where both are defined and not
    both 0, ``2 P R / (P + R)`` is :func:`f1_exact_from_sums` or
    :func:`f1_overlap_from_sums` of the same sums."""
    return safe_div(m_coder, n_coder), safe_div(m_ref, n_ref)
