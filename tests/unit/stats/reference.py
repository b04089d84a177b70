"""Slow, obvious reference implementations for the engine's tests.

Everything here works one character, one section or one segment at a time,
straight from the definitions, so the vectorised engine can be checked
against it on small random data.
"""

from collections import defaultdict

import numpy as np
from hypothesis import strategies as st

from annotations.stats import AgreementInput, SegmentRow

GAP = "<gap>"


def build(corpus) -> AgreementInput:
    """The engine's input for a corpus drawn by :func:`corpora`."""
    segments, lengths, assignments, parents = corpus
    coders = sorted({c for _, c in assignments} | {s.coder for s in segments})
    return AgreementInput.from_rows(
        segments,
        lengths,
        assignments,
        code_parents=parents,
        codes=list(parents),
        coders=coders,
    )


@st.composite
def corpora(draw, *, max_docs=4, max_len=25, max_coders=4, max_codes=3):
    """(segments, lengths, assignments, parents): a small random corpus."""
    n_docs = draw(st.integers(1, max_docs))
    n_coders = draw(st.integers(2, max_coders))
    n_codes = draw(st.integers(1, max_codes))
    lengths = {f"d{i}": draw(st.integers(0, max_len)) for i in range(n_docs)}
    coders = [f"c{i}" for i in range(n_coders)]
    codes = [f"k{i}" for i in range(n_codes)]
    # k1 may be a child of k0, so roll-up is exercised.
    parents = dict.fromkeys(codes)
    if n_codes >= 2 and draw(st.booleans()):
        parents["k1"] = "k0"
    assignments = [
        (d, c) for d in lengths for c in coders if draw(st.integers(0, 9)) < 8
    ]
    segments = []
    for d, length in lengths.items():
        if length == 0:
            continue
        for c in coders:
            for _ in range(draw(st.integers(0, 3))):
                s = draw(st.integers(0, length - 1))
                e = draw(st.integers(s + 1, length))
                segments.append(SegmentRow(d, c, draw(st.sampled_from(codes)), s, e))
    return segments, lengths, assignments, parents


def descendants(code, parents):
    out = {code}
    changed = True
    while changed:
        changed = False
        for k, p in parents.items():
            if p in out and k not in out:
                out.add(k)
                changed = True
    return out


def sample(lengths, assignments):
    """Documents with two or more assigned coders, in input order, and the
    coders assigned to each."""
    by_doc = defaultdict(list)
    for d, c in assignments:
        by_doc[d].append(c)
    return {d: sorted(set(by_doc[d])) for d in lengths if len(set(by_doc[d])) >= 2}


def coders_of(docs):
    return sorted({c for cs in docs.values() for c in cs})


def char_matrix(segments, lengths, assignments, code, parents):
    """Units = every character of every sampled document."""
    docs = sample(lengths, assignments)
    coders = coders_of(docs)
    keep = descendants(code, parents)
    rows = []
    for d, cs in docs.items():
        block = np.full((lengths[d], len(coders)), np.nan)
        for j, c in enumerate(coders):
            if c in cs:
                block[:, j] = 0.0
        for seg in segments:
            if seg.document == d and seg.code in keep and seg.coder in cs:
                block[seg.start : seg.end, coders.index(seg.coder)] = 1.0
        rows.append(block)
    if not rows:
        return np.zeros((0, len(coders))), coders
    return np.vstack(rows), coders


def doc_matrix(segments, lengths, assignments, code, parents):
    """Units = sampled documents; 1 applied, 0 assigned but not, NaN
    unassigned."""
    docs = sample(lengths, assignments)
    coders = coders_of(docs)
    keep = descendants(code, parents)
    out = np.full((len(docs), len(coders)), np.nan)
    for i, (d, cs) in enumerate(docs.items()):
        for c in cs:
            out[i, coders.index(c)] = float(
                any(
                    s.document == d and s.coder == c and s.code in keep
                    for s in segments
                )
            )
    return out, coders


def merged_units(segments, d, c, codes):
    """A coder's units of a set of codes in a document: overlapping spans
    merged, touching ones kept apart."""
    spans = sorted(
        (s.start, s.end)
        for s in segments
        if s.document == d and s.coder == c and s.code in codes
    )
    out = []
    for s, e in spans:
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def span_counts(segments, lengths, assignments, code, parents, a, b):
    """(exact matches, a's units overlapped by b, b's by a, n_a, n_b)."""
    docs = sample(lengths, assignments)
    keep = descendants(code, parents)
    tp = ma = mb = na = nb = 0
    for d, cs in docs.items():
        if a not in cs or b not in cs:
            continue
        ua = merged_units(segments, d, a, keep)
        ub = merged_units(segments, d, b, keep)
        tp += len(set(ua) & set(ub))
        ma += sum(any(s < e2 and s2 < e for s2, e2 in ub) for s, e in ua)
        mb += sum(any(s < e2 and s2 < e for s2, e2 in ua) for s, e in ub)
        na += len(ua)
        nb += len(ub)
    return tp, ma, mb, na, nb


def partition(units, length):
    """Fill the gaps between non-overlapping (value, start, end) units."""
    out, cur = [], 0
    for v, s, e in sorted(units, key=lambda u: u[1]):
        if s > cur:
            out.append((GAP, cur, s))
        out.append((v, s, e))
        cur = e
    if cur < length:
        out.append((GAP, cur, length))
    return out


def u_alphas(units_by_doc_coder, lengths, coders_by_doc):
    """u-alpha and |u-alpha straight from Krippendorff et al. (2016), eqs.
    for l_ck and e_ck, summed over documents. ``units_by_doc_coder[(d, c)]``
    lists non-overlapping ``(value, start, end)``."""
    l = defaultdict(float)  # noqa: E741
    selfpairs = defaultdict(float)
    lsum = 0.0
    for d, cs in coders_by_doc.items():
        m = len(cs)
        parts = {
            c: partition(units_by_doc_coder.get((d, c), []), lengths[d]) for c in cs
        }
        lsum += m * lengths[d]
        for i in cs:
            for j in cs:
                if i == j:
                    continue
                for v1, s1, e1 in parts[i]:
                    for v2, s2, e2 in parts[j]:
                        overlap = min(e1, e2) - max(s1, s2)
                        if overlap > 0:
                            l[v1, v2] += overlap / (m - 1)
        for c in cs:
            for v, s, e in parts[c]:
                selfpairs[v] += (e - s) if v == GAP else (e - s) ** 2
    values = sorted({v for v, _ in l} | {v for _, v in l}, key=str)
    if len(values) < 2:  # one value only: 0/0, whatever rounding says
        return float("nan"), float("nan")
    r = {v: sum(l[v, k] for k in values) for v in values}
    s_total = sum(selfpairs.values())
    den = lsum**2 - s_total
    e = {
        (c, k): lsum * (r[c] * r[k] - (selfpairs[c] if c == k else 0.0)) / den
        for c in values
        for k in values
    }
    u = 1 - (lsum - sum(l[v, v] for v in values)) / (
        lsum - sum(e[v, v] for v in values)
    )
    if GAP not in values:
        return u, float("nan")  # no gaps: |u-alpha undefined
    off_l = sum(l[GAP, k] for k in values if k != GAP)
    off_e = sum(e[GAP, k] for k in values if k != GAP)
    binary = 1 - off_l / off_e
    return u, binary


def sections_with_combinations(segments, d, c, codes):
    """A coder's sections when codes overlap: cut at every boundary of the
    coder's (merged, per code) units; a section's value is its set of codes."""
    units = {k: merged_units(segments, d, c, {k}) for k in codes}
    cuts = sorted({x for spans in units.values() for span in spans for x in span})
    out = []
    for s, e in zip(cuts, cuts[1:], strict=False):
        active = frozenset(
            k for k, spans in units.items() if any(a <= s and e <= b for a, b in spans)
        )
        if active:
            out.append((active, s, e))
    return out
