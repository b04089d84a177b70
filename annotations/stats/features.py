"""Per-document features of one code for the document, character,
unitizing (per code) and span levels.

Every statistic of these levels is a sum over documents of the features built
here from the code's units (each coder's segments of the code or of a
subcode, overlapping ones merged); :mod:`annotations.stats.code_levels`
turns the sums into coefficients.

With ``m`` coders on a document of ``L`` characters and ``n`` coders covering
an elementary interval of length ``l`` (from the sweep over unit boundaries):

* character coincidences ``o_11 = sum l n (n - 1) / (m - 1)`` and
  ``o_00 = sum l (m - n)(m - n - 1) / (m - 1)``; pairwise tables from
  ``n_11(a, b) = |units_a ∩ units_b|`` and each coder's coverage;
* unitizing: the same observed coincidences, plus the sum of squared unit
  lengths for the expected ones;
* span: per coder pair, exact matches (same start and end), and each coder's
  units overlapped by the other; per coder, the number of units;
* document: the per-unit statistics of the nominal family for the unit
  (document, code), and each pair's "both applied" indicator.
"""

from __future__ import annotations

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import Context, Features
from annotations.stats.intervals import ONE, Sweep, covering_masks, sweep

TEXT_LEVELS = frozenset({"character", "unitizing", "span"})


def code_features(ctx: Context, k: int, levels: frozenset[str]) -> Features:
    """All per-document features of code ``k`` for the requested levels."""
    d, c, s, e = ctx.rolled(k)
    feats = Features(ctx.n_docs)
    n_docs, n_coders = ctx.n_docs, ctx.n_coders
    a, b = ctx.pair_a, ctx.pair_b
    if "document" in levels:
        x = np.zeros((n_docs, n_coders))
        x[d, c] = 1.0
        r1 = x.sum(axis=1)
        st = f.nominal_unit_stats(np.stack([ctx.m - r1, r1], axis=1))
        feats["doc_pa"] = st["pa"]
        feats["doc_pi"] = st["pi"]
        feats["doc_pooled"] = st["pooled"]
        feats["doc_odiag"] = st["o_diag"]
        feats["doc_n11"] = x[:, a] * x[:, b]
        ctx.margin_features(feats, "doc_x", x)
    if not levels & TEXT_LEVELS:
        return feats

    sw = sweep(d, s, e, c)
    t1, t2 = sw.moments(n_docs)
    m, length = ctx.m, ctx.length
    mm1 = np.maximum(m - 1.0, 1.0)
    o11 = (t2 - t1) / mm1
    o00 = (length * m * (m - 1.0) - (2.0 * m - 1.0) * t1 + t2) / mm1
    unit_len = (e - s).astype(float)
    if levels & {"character", "unitizing"}:
        feats["chr_t1"] = t1
        feats["chr_o11"] = o11
    if "character" in levels:
        feats["chr_odiag"] = o11 + o00
        feats["chr_pa"] = (o11 + o00) / np.maximum(m, 1.0)
        feats["chr_n11"] = sw.pair_overlaps(np.stack([a, b], axis=1), n_docs)
        cov = np.bincount(
            d * n_coders + c, weights=unit_len, minlength=n_docs * n_coders
        ).reshape(n_docs, n_coders)
        ctx.margin_features(feats, "chr_cov", cov)
    if "unitizing" in levels:
        feats["unit_q"] = np.bincount(d, weights=unit_len**2, minlength=n_docs)
    if "span" in levels:
        _span_features(ctx, feats, sw, d, c, s, e)
    return feats


def _span_features(
    ctx: Context,
    feats: Features,
    sw: Sweep,
    d: np.ndarray,
    c: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
) -> None:
    n_docs, n_coders = ctx.n_docs, ctx.n_coders
    n_units = np.bincount(d * n_coders + c, minlength=n_docs * n_coders)
    ctx.margin_features(feats, "span_n", n_units.reshape(n_docs, n_coders))
    feats["span_total"] = np.bincount(d, minlength=n_docs)
    tp = np.zeros((n_docs, ctx.n_pairs))
    ma = np.zeros((n_docs, ctx.n_pairs))
    mb = np.zeros((n_docs, ctx.n_pairs))
    if d.size:
        # Exact matches: units with identical (document, start, end); within a
        # coder units do not overlap, so matching is one-to-one.
        big = np.int64(e.max()) + 1
        order = np.argsort((d * big + s) * big + e)
        ds, ss, es = d[order], s[order], e[order]
        new = np.ones(ds.size, dtype=bool)
        new[1:] = (ds[1:] != ds[:-1]) | (ss[1:] != ss[:-1]) | (es[1:] != es[:-1])
        first = np.flatnonzero(new)
        size = np.diff(np.append(first, ds.size))
        shared = size >= 2
        exact = np.bitwise_or.reduceat(ONE << c[order].astype(np.uint64), first)
        exact, gdoc = exact[shared], ds[first][shared]
        for p, (pa, pb) in enumerate(zip(ctx.pair_a, ctx.pair_b, strict=True)):
            both = ((exact >> np.uint64(pa)) & (exact >> np.uint64(pb)) & ONE) > 0
            tp[:, p] = np.bincount(gdoc[both], minlength=n_docs)
        # Overlap matches: which coders cover any character of each unit;
        # hits[b][d, a] counts coder a's units in d that coder b overlaps.
        cover = covering_masks(sw, d, s, e)
        dc = d * n_coders + c
        hits = [
            np.bincount(
                dc, weights=((cover >> np.uint64(b)) & ONE), minlength=n_docs * n_coders
            ).reshape(n_docs, n_coders)
            for b in range(n_coders)
        ]
        for p, (pa, pb) in enumerate(zip(ctx.pair_a, ctx.pair_b, strict=True)):
            ma[:, p] = hits[pb][:, pa]
            mb[:, p] = hits[pa][:, pb]
    feats["span_tp"] = tp
    feats["span_ma"] = ma
    feats["span_mb"] = mb


def common_features(ctx: Context) -> Features:
    """Code-independent per-document features."""
    feats = Features(ctx.n_docs)
    feats["one"] = np.ones(ctx.n_docs)
    feats["length"] = ctx.length
    feats["m_length"] = ctx.m * ctx.length
    pair_docs = ctx.pair_docs
    feats["pair_n"] = pair_docs
    feats["pair_length"] = pair_docs * ctx.length[:, None]
    return feats
