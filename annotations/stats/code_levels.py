"""Coefficients and records of the document, character, unitizing (per
code) and span levels, from the summed features of
:mod:`annotations.stats.features`.

Rows for one code use the code's sums; rows for all codes together
(``code=None``) use the sums over codes, so their units are (document, code)
pairs, (character, code) pairs or segments of any code. Pairwise
coefficients give one row per coder pair and a row with the mean over pairs
(``pair=None``); the span level's precision and recall against the reference
coder (the consensus) give rows for that coder's pairs only.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import NO_DOCUMENTS, Context, Emitter


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


def emit_pairs(
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
        note=(
            f"mean over {defined} of {len(labels)} coder pairs"
            if np.isfinite(mean[0])
            else None
        ),
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
    emit_pairs(
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
    emit_pairs(
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
    """Span level: F1 of exact and of overlap matches, per pair and mean;
    precision and recall for the pairs with the reference coder."""
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
        emit_pairs(
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
    if ctx.reference >= 0:
        _emit_reference(ctx, em, code, s, com, na, nb, scope)


def _emit_reference(
    ctx: Context,
    em: Emitter,
    code: Hashable | None,
    s: dict[str, np.ndarray],
    com: dict[str, np.ndarray],
    na: np.ndarray,
    nb: np.ndarray,
    scope: str,
) -> None:
    """Precision and recall of each coder against the reference coder, one
    row per such pair and no mean over pairs.

    The reference may be either side of a pair: ``span_ma`` counts the
    first coder's units overlapped by the second, ``span_mb`` the reverse.
    """
    sel = np.flatnonzero((ctx.pair_a == ctx.reference) | (ctx.pair_b == ctx.reference))
    second = ctx.pair_b[sel] == ctx.reference  # the reference is b

    def side(x_a: np.ndarray, x_b: np.ndarray, of_reference: bool) -> np.ndarray:
        take_b = second if of_reference else ~second
        return np.where(take_b, x_b[:, sel], x_a[:, sel])

    n_coder, n_ref = side(na, nb, False), side(na, nb, True)
    over_coder = side(s["span_ma"], s["span_mb"], False)
    over_ref = side(s["span_ma"], s["span_mb"], True)
    tp = s["span_tp"][:, sel]
    p_exact, r_exact = f.span_precision_recall_from_sums(tp, tp, n_coder, n_ref)
    p_over, r_over = f.span_precision_recall_from_sums(
        over_coder, over_ref, n_coder, n_ref
    )
    labels = ctx.pair_labels()
    shared = com["pair_n"][0, sel]
    for name, values, n in (
        ("precision_exact", p_exact, n_coder),
        ("recall_exact", r_exact, n_ref),
        ("precision_overlap", p_over, n_coder),
        ("recall_overlap", r_over, n_ref),
    ):
        measure = name.split("_")[0]
        whose = "coder" if measure == "precision" else "reference"
        for j, p in enumerate(sel.tolist()):
            em.emit(
                "span",
                code,
                name,
                labels[p],
                labels[p],
                values[:, j],
                n_units=n[0, j],
                n_documents=shared[j],
                undefined=(
                    "the two coders share no documents"
                    if shared[j] <= 0
                    else f"the {whose} did not apply {scope} in the shared "
                    f"documents, so {measure} is 0/0 (undefined)"
                ),
                note=_REFERENCE_NOTES[measure],
            )


# Precision and recall are not symmetric: say which way round they are.
_REFERENCE_NOTES = {
    "precision": "share of the coder's segments that match a segment of the reference",
    "recall": "share of the reference's segments that a segment of the coder matches",
}
