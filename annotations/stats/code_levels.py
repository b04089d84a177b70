"""Per-code features and coefficients of the document, character,
unitizing (per code) and span levels.

For one code (rolled up: the code or any of its subcodes) every level's
statistics are sums over documents of per-document features, built here from
the code's units (each coder's segments of the code, overlapping ones
merged). The same features summed over all codes give the rows for all codes
together (``code=None``), except for unitizing, whose all-codes coefficients
live in :mod:`annotations.stats.unitizing`.

Definitions (``m`` coders on a document of ``L`` characters):

* document: unit = (document, code); value 1 if the coder applied the code
  anywhere, 0 if assigned but not; unassigned coders are missing.
* character: unit = character; value 1 inside a unit of the code. From a
  sweep over unit boundaries: with ``n`` coders covering an elementary
  interval of length ``l``, the coincidences are ``o_11 = sum l n (n - 1) /
  (m - 1)`` and ``o_00 = sum l (m - n)(m - n - 1) / (m - 1)``, the pairwise
  tables ``n_11(a, b) = |units_a & units_b|``.
* unitizing: u-alpha for the code against everything else (see
  :mod:`annotations.stats.unitizing` for the definition); observed
  coincidences equal the character level's, expected ones exclude each unit's
  pairing with itself (``sum of squared unit lengths``).
* span: units matched between two coders: exactly (same start and end) or by
  overlap (share at least one character).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import NO_DOCUMENTS, Context, Emitter, Features
from annotations.stats.intervals import ONE, covering_masks, sweep

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
    sw: object,
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
        cover = covering_masks(sw, d, s, e)  # type: ignore[arg-type]
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


# -- coefficients --


def _binary_note(coded: float, total: float, unit: str, scope: str) -> str:
    if total <= 0:
        return f"no {unit}s to compare"
    if coded <= 0:
        return f"no coder applied {scope}, so every {unit} falls in one category"
    if coded >= total:
        return f"every coder applied {scope} to every {unit}: one category only"
    return "chance agreement is 1, so the coefficient is 0/0 (undefined)"


def _pair_note(a1: float, b1: float, n: float, unit: str, scope: str) -> str:
    if n <= 0:
        return f"the two coders share no {unit}s"
    if a1 <= 0 and b1 <= 0:
        return f"neither coder applied {scope} to their shared {unit}s"
    if a1 >= n and b1 >= n:
        return f"both coders applied {scope} to every shared {unit}"
    return "chance agreement is 1, so the coefficient is 0/0 (undefined)"


def _emit_pairs(
    ctx: Context,
    em: Emitter,
    level: str,
    code: Hashable | None,
    name: str,
    values: np.ndarray,
    n_units: np.ndarray,
    n_docs: np.ndarray,
    notes: list[str],
    total_units: float,
    total_documents: float | None = None,
) -> None:
    """The mean-over-pairs row, then one row per pair."""
    labels = ctx.pair_labels()
    mean = _mean_pairs(values)
    defined = int(np.isfinite(values[0]).sum()) if values.shape[1] else 0
    em.emit(
        level,
        code,
        name,
        ctx.coder_ids,
        None,
        mean,
        n_units=total_units,
        n_documents=ctx.n_docs if total_documents is None else total_documents,
        undefined=(
            NO_DOCUMENTS
            if ctx.n_docs == 0
            else "undefined for every coder pair"
            if values.shape[1]
            else "no two coders share a document"
        ),
        note=f"mean over {defined} of {len(labels)} coder pairs",
    )
    for p, pair in enumerate(labels):
        em.emit(
            level,
            code,
            name,
            pair,
            pair,
            values[:, p],
            n_units=n_units[p],
            n_documents=n_docs[p],
            undefined=notes[p],
        )


def _mean_pairs(values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values)
    cnt = ok.sum(axis=-1)
    tot = np.where(ok, values, 0.0).sum(axis=-1)
    return np.divide(tot, cnt, out=np.full(tot.shape, np.nan), where=cnt > 0)


def emit_document(
    ctx: Context,
    em: Emitter,
    code: Hashable | None,
    s: dict[str, np.ndarray],
    com: dict[str, np.ndarray],
    n_codes: int,
) -> None:
    """Document level: all nominal coefficients for one code (or, with
    ``n_codes`` > 1 and pooled sums, for all codes together)."""
    level = "document"
    scope = "this code" if code is not None else "any code"
    n2 = com["one"] * n_codes
    pooled = s["doc_pooled"]
    note = _binary_note(pooled[0, 1], pooled[0].sum(), "unit", scope)
    if ctx.n_docs == 0:
        note = NO_DOCUMENTS
    kw = {
        "n_units": n2[0],
        "n_documents": ctx.n_docs,
        "undefined": note,
    }
    coders = ctx.coder_ids
    em.emit(
        level,
        code,
        "percent_agreement",
        coders,
        None,
        f.percent_agreement_from_sums(n2, s["doc_pa"]),
        **kw,
    )
    xa, xb = ctx.margins(s, "doc_x")
    pair_n = com["pair_n"] * n_codes
    kappa = f.kappa_from_table(f.binary_table(s["doc_n11"], xa, xb, pair_n))[0]
    notes = [
        _pair_note(xa[0, p], xb[0, p], pair_n[0, p], "unit", scope)
        for p in range(ctx.n_pairs)
    ]
    _emit_pairs(
        ctx,
        em,
        level,
        code,
        "cohen_kappa",
        kappa,
        pair_n[0],
        com["pair_n"][0],
        notes,
        n2[0],
    )
    em.emit(
        level,
        code,
        "scott_pi",
        coders,
        None,
        f.scott_pi_from_sums(n2, s["doc_pa"], pooled),
        **kw,
    )
    em.emit(
        level,
        code,
        "bennett_s",
        coders,
        None,
        f.bennett_s_from_sums(n2, s["doc_pa"], 2),
        **kw,
    )
    em.emit(
        level,
        code,
        "fleiss_kappa",
        coders,
        None,
        f.fleiss_kappa_from_sums(n2, s["doc_pa"], n2, s["doc_pi"]),
        **kw,
    )
    em.emit(
        level,
        code,
        "krippendorff_alpha",
        coders,
        None,
        f.alpha_nominal_from_sums(pooled, s["doc_odiag"]),
        **kw,
    )
    em.emit(
        level,
        code,
        "gwet_ac1",
        coders,
        None,
        f.gwet_ac1_from_sums(n2, s["doc_pa"], n2, s["doc_pi"], 2),
        **kw,
    )


def emit_character(
    ctx: Context,
    em: Emitter,
    code: Hashable | None,
    s: dict[str, np.ndarray],
    com: dict[str, np.ndarray],
    n_codes: int,
) -> None:
    """Character level: percent agreement, nominal alpha, Cohen's kappa."""
    level = "character"
    scope = "this code" if code is not None else "any code"
    n = com["length"] * n_codes
    coded = s["chr_t1"]
    pooled = np.stack([com["m_length"] * n_codes - coded, coded], axis=-1)
    note = _binary_note(coded[0], pooled[0].sum(), "character", scope)
    if ctx.n_docs == 0:
        note = NO_DOCUMENTS
    kw = {"n_units": n[0], "n_documents": ctx.n_docs, "undefined": note}
    coders = ctx.coder_ids
    em.emit(
        level,
        code,
        "percent_agreement",
        coders,
        None,
        f.percent_agreement_from_sums(n, s["chr_pa"]),
        **kw,
    )
    em.emit(
        level,
        code,
        "krippendorff_alpha",
        coders,
        None,
        f.alpha_nominal_from_sums(pooled, s["chr_odiag"]),
        **kw,
    )
    ca, cb = ctx.margins(s, "chr_cov")
    pair_len = com["pair_length"] * n_codes
    kappa = f.kappa_from_table(f.binary_table(s["chr_n11"], ca, cb, pair_len))[0]
    notes = [
        _pair_note(ca[0, p], cb[0, p], pair_len[0, p], "character", scope)
        for p in range(ctx.n_pairs)
    ]
    _emit_pairs(
        ctx,
        em,
        level,
        code,
        "cohen_kappa",
        kappa,
        pair_len[0],
        com["pair_n"][0],
        notes,
        n[0],
    )


def emit_unitizing_code(
    ctx: Context,
    em: Emitter,
    code: Hashable,
    s: dict[str, np.ndarray],
    com: dict[str, np.ndarray],
) -> None:
    """Unitizing level, one code: u-alpha of the code against everything
    else (with one valued category, u-alpha and |u-alpha coincide)."""
    lsum = com["m_length"]
    valued = s["chr_t1"]
    off = valued - s["chr_o11"]
    selfpairs = s["unit_q"] + (lsum - valued)
    value = f.binary_u_alpha_from_sums(lsum, valued, off, selfpairs)
    note = _binary_note(valued[0], lsum[0], "character", "this code")
    em.emit(
        "unitizing",
        code,
        "u_alpha",
        ctx.coder_ids,
        None,
        value,
        n_units=com["length"][0],
        n_documents=ctx.n_docs,
        undefined=NO_DOCUMENTS if ctx.n_docs == 0 else note,
    )


def emit_span(
    ctx: Context,
    em: Emitter,
    code: Hashable | None,
    s: dict[str, np.ndarray],
    com: dict[str, np.ndarray],
) -> None:
    """Span level: F1 of exact and of overlap matches, per pair and mean."""
    na, nb = ctx.margins(s, "span_n")
    scope = "this code" if code is not None else "any code"
    notes = [
        "the two coders share no documents"
        if com["pair_n"][0, p] <= 0
        else f"neither coder applied {scope} to their shared documents"
        for p in range(ctx.n_pairs)
    ]
    total = s["span_total"][0]
    for name, values in (
        ("f1_exact", f.f1_exact_from_sums(s["span_tp"], na, nb)),
        ("f1_overlap", f.f1_overlap_from_sums(s["span_ma"], s["span_mb"], na, nb)),
    ):
        _emit_pairs(
            ctx,
            em,
            "span",
            code,
            name,
            values,
            (na + nb)[0],
            com["pair_n"][0],
            notes,
            total,
        )
