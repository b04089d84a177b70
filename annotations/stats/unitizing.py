"""Krippendorff's unitizing alphas over all codes.

Definition implemented: Krippendorff, Mathet, Bouvry & Widlöcher (2016) "On
the reliability of unitizing textual continua: Further developments",
Quality & Quantity 50: 2347-2364, as restated in Krippendorff (2019),
Content Analysis, 4th ed., section 12.6 (the same definition as the R
package quallmer's ``compute_alpha_u`` and the PyPI package
``krippendorff-unitized-alpha``). It differs from the older alpha_U of
Krippendorff (1995, 2004), implemented in DKPro Statistics'
``KrippendorffAlphaUnitizingAgreement``, which measures distances between
unit boundaries and misbehaves with more than two coders (the reason for the
2016 revision).

Each of the ``m`` coders partitions a document (the continuum, length ``L``)
into *units* (segments with a value ``c``) and *gaps* (value ``0``). With
``|s_icg ∩ s_jkh|`` the overlap of coder ``i``'s section ``g`` valued ``c``
and coder ``j``'s section ``h`` valued ``k``:

* observed coincidences
  ``l_ck = 1/(m - 1) sum_i sum_{j != i} sum_g sum_h |s_icg ∩ s_jkh|``, so
  ``l.. = m L``;
* expected coincidences exclude each section's pairing with itself,
  ``e_ck = l.. (l_c. l_.k - [c = k] S_c) / (l..^2 - S)`` with ``S_c`` the sum
  over sections valued ``c`` of their squared length for units and of their
  plain length for gaps (a gap is divisible: every character of it is its own
  stretch of irrelevant matter), ``S = sum_c S_c``;
* ``u-alpha = 1 - (l.. - sum_c l_cc) / (l.. - sum_c e_cc)``, nominal;
* ``|u-alpha`` (binary_u_alpha): coded versus not coded,
  ``1 - l_V0 / e_V0`` with ``V`` all valued units together.

A corpus is a concatenation of documents: coincidences and self-pairing sums
add over documents, each document normalised by its own ``m - 1`` (coders
not assigned to it are missing, as in alpha for missing data).

Overlapping codes. The 2016 definition assumes a coder's units do not
overlap. Overlapping units of *one* code are merged. Where a coder applied
*different* codes to the same characters, the stretch is one unit whose value
is that combination of codes (so a coder who applied A and B where another
applied only A disagrees there); a note counts these characters.

Worked example, Krippendorff (2019, fig. 12.11, p. 340), the Alex/Paul/Suzan
continuum of length 60 shipped with pygamma-agreement: u-alpha = .510 and
|u-alpha = .413.
"""

from __future__ import annotations

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import NO_DOCUMENTS, Context, Emitter, Features
from annotations.stats.intervals import merge_overlaps, sweep

_HASH_SEED = 8_675_309  # fixed: combination ids must not depend on the run


def unitizing_features(ctx: Context) -> tuple[Features, int]:
    """Per-document sufficient statistics of u-alpha and |u-alpha, and the
    number of characters carrying combined codes."""
    n_docs, n_coders = ctx.n_docs, max(ctx.n_coders, 1)
    n_codes = len(ctx.data.codes)
    feats = Features(n_docs)
    lsum = ctx.m * ctx.length

    # 1. Units: each coder's segments per code, overlaps merged (no roll-up:
    # the values of u-alpha are the codes as applied).
    group = (ctx.seg_doc * n_coders + ctx.seg_coder) * max(n_codes, 1) + ctx.seg_code
    g, s, e = merge_overlaps(group, ctx.seg_start, ctx.seg_end)
    k = g % max(n_codes, 1)
    dc = g // max(n_codes, 1)

    # 2. Sections: sweep each coder's units of all codes; every stretch
    # between two of the coder's boundaries is one section whose value is
    # the set of active codes (a single code, or a combination).
    rng = np.random.default_rng(_HASH_SEED)
    h1 = rng.integers(0, 2**63, n_codes, dtype=np.uint64)
    h2 = rng.integers(0, 2**63, n_codes, dtype=np.uint64)
    pieces = _sections(dc, s, e, k, h1, h2)
    p_dc, p_start, p_len, p_cnt, p_ksum, p_h1, p_h2 = pieces
    value = p_ksum.copy()
    combo = p_cnt >= 2
    n_combo_chars = int(p_len[combo].sum())
    if combo.any():
        _, inv = np.unique(
            np.stack([p_h1[combo], p_h2[combo]], axis=1), axis=0, return_inverse=True
        )
        value[combo] = n_codes + inv.ravel()
    n_values = int(value.max()) + 1 if value.size else 0
    p_doc = p_dc // n_coders
    p_coder = p_dc % n_coders

    # 3. Margins and self-pairings.
    r = np.bincount(
        p_doc * n_values + value, weights=p_len, minlength=n_docs * n_values
    ).reshape(n_docs, n_values)
    valued = r.sum(axis=1)
    selfpairs = np.bincount(p_doc, weights=p_len**2, minlength=n_docs) + (lsum - valued)

    # 4. Observed agreement on values: sweep sections of one value across
    # coders (a coder's sections are disjoint).
    mm1 = np.maximum(ctx.m - 1.0, 1.0)
    vs = sweep(p_doc * n_values + value, p_start, p_start + p_len.astype(np.int64))
    t1, t2 = vs.moments(n_docs * n_values)
    agree_valued = (t2 - t1).reshape(n_docs, n_values).sum(axis=1)
    # ... and on gaps: n coders cover a stretch, m - n leave it a gap.
    a1, a2 = sweep(p_doc, p_start, p_start + p_len.astype(np.int64)).moments(n_docs)
    m, length = ctx.m, ctx.length
    agree_gap = length * m * (m - 1.0) - (2.0 * m - 1.0) * a1 + a2
    del p_coder

    feats["trace"] = (agree_valued + agree_gap) / mm1
    feats["gap_gap"] = agree_gap / mm1
    feats["valued"] = valued
    feats["margins"] = r
    feats["selfpairs"] = selfpairs
    feats["lsum"] = lsum
    return feats, n_combo_chars


def _sections(
    dc: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    code: np.ndarray,
    h1: np.ndarray,
    h2: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Sections of each (document, coder) group with their active codes:
    ``(group, start, length, count, code sum, hash1, hash2)``. With one active
    code the code sum is the code; with several, the two 64-bit hash sums
    identify the combination."""
    n = dc.size
    grp = np.concatenate([dc, dc])
    pos = np.concatenate([start, end])
    sign = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])
    order = np.lexsort((pos, grp))
    grp, pos, sign = grp[order], pos[order], sign[order]
    kk = np.concatenate([code, code])[order]
    cnt = np.cumsum(sign)
    ksum = np.cumsum(sign * kk)
    hk1 = np.concatenate([h1[code], np.uint64(0) - h1[code]])[order]
    hk2 = np.concatenate([h2[code], np.uint64(0) - h2[code]])[order]
    s1 = np.cumsum(hk1, dtype=np.uint64)
    s2 = np.cumsum(hk2, dtype=np.uint64)
    length = np.zeros(2 * n, dtype=np.int64)
    if n:
        same = grp[1:] == grp[:-1]
        length[:-1] = np.where(same, pos[1:] - pos[:-1], 0)
    keep = (length > 0) & (cnt >= 1)
    return (
        grp[keep],
        pos[keep],
        length[keep].astype(float),
        cnt[keep],
        ksum[keep],
        s1[keep],
        s2[keep],
    )


def emit_unitizing_all(
    ctx: Context, em: Emitter, s: dict[str, np.ndarray], n_combo_chars: int
) -> None:
    """u-alpha over all codes and gaps, and |u-alpha (coded vs not)."""
    lsum = s["lsum"]
    valued = s["valued"]
    gap = lsum - valued
    margins_sq = (s["margins"] ** 2).sum(axis=-1) + gap**2
    note = None
    if n_combo_chars:
        note = (
            f"{n_combo_chars} characters carry more than one code from the same "
            "coder and count as a combined value"
        )
    if ctx.n_docs == 0:
        why = NO_DOCUMENTS
    elif valued[0] <= 0:
        why = "no coder applied any code: the continuum is one gap"
    else:
        why = "only one value occurs on the continuum"
    common = {
        "n_units": float(ctx.length.sum()),
        "n_documents": ctx.n_docs,
        "undefined": why,
        "note": note,
    }
    em.emit(
        "unitizing",
        None,
        "u_alpha",
        ctx.coder_ids,
        None,
        f.u_alpha_from_sums(lsum, s["trace"], margins_sq, s["selfpairs"]),
        **common,
    )
    if ctx.n_docs and valued[0] >= lsum[0]:
        common["undefined"] = "every character was coded by every coder: no gaps"
    em.emit(
        "unitizing",
        None,
        "binary_u_alpha",
        ctx.coder_ids,
        None,
        f.binary_u_alpha_from_sums(lsum, valued, gap - s["gap_gap"], s["selfpairs"]),
        **common,
    )
