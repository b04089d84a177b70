"""Krippendorff's unitizing alphas over all codes.

Definition implemented: Krippendorff, Mathet, Bouvry & Widlöcher (2016) "On
the reliability of unitizing textual continua: Further developments",
Quality & Quantity 50: 2347-2364, as restated in Krippendorff (2019),
Content Analysis, 4th ed., section 12.6 (the formulas that the R package
quallmer's ``compute_alpha_u`` and the PyPI package
``krippendorff-unitized-alpha`` implement). It differs from the older alpha_U of
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
overlap. Overlapping units of *one* code are merged; touching ones stay two
units. Where a coder applied *different* codes to the same characters, each
stretch between two of that coder's unit boundaries is one unit whose value
is its combination of codes (so a coder who applied A and B where another
applied only A disagrees there); a note counts these characters.

Per code (``code`` set in the record): u-alpha of the continuum on which the
code, or any of its subcodes, is the only value and everything else is gap;
with one value u-alpha and |u-alpha coincide. Its observed coincidences are
those of the character level; only the expected ones differ (units pair with
themselves by their squared length). The family's cu-alpha and (k)u-alpha,
which condition on the intersections of coded units, are not computed.

Worked example, Krippendorff (2019, fig. 12.11, p. 340), the Alex/Paul/Suzan
continuum of length 60 shipped with pygamma-agreement: u-alpha = .510 and
|u-alpha = .413.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import NO_DOCUMENTS, Context, Emitter, Features
from annotations.stats.intervals import sweep

_HASH_SEED = 8_675_309  # fixed: combination ids must not depend on the run
CHUNK_UNITS = 1 << 18  # units per chunk of documents: bounds the memory used


@dataclass(frozen=True)
class Margins:
    """Sparse per-document margins: ``amount`` characters of ``value`` in
    ``doc`` (one entry per (document, value) pair)."""

    doc: np.ndarray
    value: np.ndarray
    amount: np.ndarray


def unitizing_features(ctx: Context) -> tuple[Features, Margins, int]:
    """Per-document sufficient statistics of u-alpha and |u-alpha, the
    sparse margins of the valued sections, and the number of characters
    carrying combined codes. Works through the documents in chunks, so memory
    stays bounded however large the corpus."""
    n_docs, n_coders = ctx.n_docs, max(ctx.n_coders, 1)
    n_codes = len(ctx.data.codes)
    lsum = ctx.m * ctx.length
    mm1 = np.maximum(ctx.m - 1.0, 1.0)

    # Units of each code as applied (u-alpha's values are the codes, not
    # rolled up); each code's are ordered by document, so a chunk of
    # documents is a slice of every code's units.
    parts = [ctx.own(k) for k in range(n_codes)]
    per_doc = np.zeros(n_docs + 1, dtype=np.int64)
    for p in parts:
        per_doc[1:] += np.bincount(p[0], minlength=n_docs)
    doc_bounds = np.cumsum(per_doc)

    # A section's value is the set of its active codes, identified by two
    # independent 64-bit hash sums (a collision has probability < 2^-100).
    rng = np.random.default_rng(_HASH_SEED)
    h1 = rng.integers(1, 2**63, n_codes, dtype=np.uint64)
    h2 = rng.integers(1, 2**63, n_codes, dtype=np.uint64)

    trace = np.zeros(n_docs)
    gap_gap = np.zeros(n_docs)
    valued = np.zeros(n_docs)
    selfpairs = np.zeros(n_docs)
    entries: list[tuple[np.ndarray, ...]] = []
    n_combo_chars = 0
    lo = 0
    while lo < n_docs:
        hi = int(np.searchsorted(doc_bounds, doc_bounds[lo] + CHUNK_UNITS, "right"))
        hi = min(max(hi - 1, lo + 1), n_docs)
        d, c, s, e, k = _chunk(parts, lo, hi)
        p_dc, p_start, p_len, p_cnt, p_ksum, p_h1, p_h2 = _sections(
            (d - lo) * n_coders + c, s, e, k, h1, h2
        )
        p_doc = p_dc // n_coders
        p_end = p_start + p_len.astype(np.int64)
        width = hi - lo
        # Agreement on gaps: where n coders have a section, m - n have a gap
        # (swept in the coder order _sections returns: long ordered runs).
        a1, a2 = sweep(p_doc, p_start, p_end).moments(width)
        # A single code is its own value; combinations get ids after the codes.
        combo = p_cnt >= 2
        n_combo_chars += int(p_len[combo].sum())
        vid = p_ksum.copy()
        combo_ids, v1, v2 = _value_ids(p_h1[combo], p_h2[combo])
        vid[combo] = n_codes + combo_ids
        n_v = n_codes + int(v1.size)
        # Order sections by (document, value, start): runs of one key are the
        # (document, value) entries, and their starts come out ordered.
        key = p_doc * n_v + vid
        big = np.int64(p_end.max(initial=0)) + 1
        order = np.argsort(key * big + p_start)
        key, p_start, p_end, p_len = (
            key[order],
            p_start[order],
            p_end[order],
            p_len[order],
        )
        new = np.ones(key.size, dtype=bool)
        new[1:] = key[1:] != key[:-1]
        entry = np.cumsum(new) - 1
        n_entries = int(new.sum())
        e_doc, e_vid = key[new] // n_v, key[new] % n_v
        e_len = np.bincount(entry, weights=p_len, minlength=n_entries)
        is_combo = e_vid >= n_codes
        cv = np.where(is_combo, e_vid - n_codes, 0)
        entries.append(
            (
                e_doc + lo,
                np.where(is_combo, -1, e_vid),
                np.where(is_combo, v1[cv] if v1.size else 0, 0).astype(np.uint64),
                np.where(is_combo, v2[cv] if v2.size else 0, 0).astype(np.uint64),
                e_len,
            )
        )

        width = hi - lo
        valued[lo:hi] = np.bincount(e_doc, weights=e_len, minlength=width)
        selfpairs[lo:hi] = np.bincount(key // n_v, weights=p_len**2, minlength=width)
        # Agreement on values: sweep the sections of one value across
        # coders (a coder's sections are disjoint).
        t1, t2 = sweep(entry, p_start, p_end).moments(n_entries)
        agree_valued = np.bincount(e_doc, weights=t2 - t1, minlength=width)
        m, length = ctx.m[lo:hi], ctx.length[lo:hi]
        agree_gap = length * m * (m - 1.0) - (2.0 * m - 1.0) * a1 + a2
        trace[lo:hi] = (agree_valued + agree_gap) / mm1[lo:hi]
        gap_gap[lo:hi] = agree_gap / mm1[lo:hi]
        lo = hi

    feats = Features(n_docs)
    feats["trace"] = trace
    feats["gap_gap"] = gap_gap
    feats["valued"] = valued
    # units pair with themselves by squared length, gap characters singly
    feats["selfpairs"] = selfpairs + (lsum - valued)
    feats["lsum"] = lsum
    if entries:
        e_doc, value, e1, e2, e_len = (
            np.concatenate(x) for x in zip(*entries, strict=True)
        )
    else:
        e_doc = value = np.zeros(0, np.int64)
        e_len = np.zeros(0)
        e1 = e2 = np.zeros(0, np.uint64)
    combo = value < 0
    value[combo] = n_codes + _value_ids(e1[combo], e2[combo])[0]
    return feats, Margins(e_doc.astype(np.int64), value, e_len), n_combo_chars


def _chunk(parts: list[tuple[np.ndarray, ...]], lo: int, hi: int) -> list[np.ndarray]:
    """Units of documents ``lo..hi-1`` from every code: doc, coder, start,
    end, code."""
    cols: list[list[np.ndarray]] = [[], [], [], [], []]
    for code, (d, c, s, e) in enumerate(parts):
        i, j = np.searchsorted(d, [lo, hi])
        for col, x in zip(cols, (d[i:j], c[i:j], s[i:j], e[i:j]), strict=False):
            col.append(x)
        cols[4].append(np.full(j - i, code, dtype=np.int64))
    return [np.concatenate(col) if col else np.zeros(0, np.int64) for col in cols]


def _value_ids(
    h1: np.ndarray, h2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense ids for the distinct ``(h1, h2)`` pairs: ``(ids, h1, h2)``."""
    if h1.size == 0:
        return np.zeros(0, np.int64), h1, h2
    order = np.argsort(h1)
    s1, s2 = h1[order], h2[order]
    new = np.ones(s1.size, dtype=bool)
    new[1:] = s1[1:] != s1[:-1]
    if not (s2[1:][~new[1:]] == s2[:-1][~new[1:]]).all():
        # h1 collided for different sets: fall back to the pair
        pairs = np.stack([h1, h2], axis=1)
        uniq, ids = np.unique(pairs, axis=0, return_inverse=True)
        return ids.ravel(), uniq[:, 0], uniq[:, 1]
    ids = np.empty(h1.size, dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids, s1[new], s2[new]


def _sections(
    dc: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    code: np.ndarray,
    h1: np.ndarray,
    h2: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Sections of each (document, coder) group with their active codes:
    ``(group, start, length, count, code sum, hash1, hash2)``: every stretch
    between two of the coder's own boundaries with at least one active code.
    With one active code the code sum is the code; the hash sums identify a
    set of several."""
    n = dc.size
    grp = np.concatenate([dc, dc])
    pos = np.concatenate([start, end])
    big = np.int64(pos.max(initial=0)) + 1
    order = np.argsort(grp * big + pos)
    grp, pos = grp[order], pos[order]
    sign = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])[order]
    cnt = np.cumsum(sign)
    ksum = np.cumsum(sign * np.concatenate([code, code])[order])
    zero = np.uint64(0)
    s1 = np.cumsum(np.concatenate([h1[code], zero - h1[code]])[order], dtype=np.uint64)
    s2 = np.cumsum(np.concatenate([h2[code], zero - h2[code]])[order], dtype=np.uint64)
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


def summed_squares(margins: Margins, weights: np.ndarray | None) -> np.ndarray:
    """``sum_v (sum_d w_d x_dv)^2`` for unit weights (row 0) and each
    resample's document weights (rows 1..B).

    Values found in many documents go through a dense matrix product; the
    many rare ones (combinations of codes) through a gather of the weight
    rows of their few documents, which costs their entries times ``B``.
    """
    doc, value, amount = margins.doc, margins.value, margins.amount
    n_values = int(value.max()) + 1 if value.size else 0
    point = (np.bincount(value, weights=amount, minlength=n_values) ** 2).sum()
    if weights is None or not weights.shape[0]:
        return np.array([point])
    n_resamples, n_docs = weights.shape
    out = np.zeros(n_resamples)
    docs_per_value = np.bincount(value, minlength=n_values)
    # A dense column costs ~B*D*2 flops in BLAS, a sparse entry a gather and
    # a segment sum of B numbers, ~300 times dearer per number.
    dense = docs_per_value > max(4, n_docs // 300)
    dense_values = np.flatnonzero(dense)
    column = np.full(n_values, -1, dtype=np.int64)
    column[dense_values] = np.arange(dense_values.size)
    in_dense = dense[value]
    d, c, a = doc[in_dense], column[value[in_dense]], amount[in_dense]
    order = np.argsort(c, kind="stable")
    d, c, a = d[order], c[order], a[order]
    width = max(1, min(1024, (1 << 24) // max(n_docs, 1)))
    block = np.zeros((n_docs, width), weights.dtype)
    for lo in range(0, dense_values.size, width):
        hi = min(lo + width, dense_values.size)
        i, j = np.searchsorted(c, [lo, hi])
        block[:] = 0.0
        block[d[i:j], c[i:j] - lo] = a[i:j]
        out += ((weights @ block[:, : hi - lo]) ** 2).sum(axis=1)
    sel = ~in_dense
    order = np.argsort(value[sel], kind="stable")
    d, v, a = doc[sel][order], value[sel][order], amount[sel][order]
    if d.size:
        wt = np.ascontiguousarray(weights.T)
        starts = np.flatnonzero(np.diff(v, prepend=-1))
        bounds = np.append(starts, d.size)
        chunk = 1024  # rows of B numbers: small buffers stay in cache
        buf = np.empty((chunk + int(docs_per_value.max()), n_resamples), wt.dtype)
        lo = 0
        while lo < starts.size:
            # whole values per chunk
            hi = int(np.searchsorted(bounds, bounds[lo] + chunk, side="right")) - 1
            hi = min(max(hi, lo + 1), starts.size)
            first, last = bounds[lo], bounds[hi]
            rows = buf[: last - first]
            np.take(wt, d[first:last], axis=0, out=rows)
            rows *= a[first:last, None]
            sums = np.add.reduceat(rows, starts[lo:hi] - first, axis=0)
            out += np.einsum("ij,ij->j", sums, sums)
            lo = hi
    return np.concatenate([[point], out])


def emit_unitizing_all(
    ctx: Context,
    em: Emitter,
    s: dict[str, np.ndarray],
    valued_sq: np.ndarray,
    n_combo_chars: int,
) -> None:
    """u-alpha over all codes and gaps, and |u-alpha (coded vs not)."""
    lsum = s["lsum"]
    valued = s["valued"]
    gap = lsum - valued
    margins_sq = valued_sq + gap**2
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
