"""Shared machinery of :func:`annotations.stats.agreement.compute_agreement`.

* :class:`Context`: the reliability sample as dense per-document arrays, the
  coder pairs, and the segments rolled up the code hierarchy.
* :class:`Features` and :func:`summed`: additive per-document features and
  their sums, once over all documents (the point estimate, row 0) and once
  per bootstrap resample (rows 1..B), in one matrix product.
* :class:`Emitter`: turns arrays of estimates into :class:`AgreementRecord`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotations.stats.bootstrap import percentile_intervals
from annotations.stats.inputs import AgreementInput
from annotations.stats.intervals import merge_overlaps
from annotations.stats.results import AgreementRecord

NO_DOCUMENTS = "no document in the reliability sample has two or more coders"


# -- per-document features --


class Features:
    """Named per-document arrays, each of shape ``(n_documents, ...)``."""

    def __init__(self, n_documents: int) -> None:
        self.n = n_documents
        self.arrays: dict[str, np.ndarray] = {}

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        arr = np.asarray(value, dtype=float)
        if arr.shape[:1] != (self.n,):
            raise ValueError(f"feature {name!r} has {arr.shape[:1]} rows, not {self.n}")
        self.arrays[name] = arr


def summed(feats: Features, weights: np.ndarray | None) -> dict[str, np.ndarray]:
    """Sums over documents: row 0 unweighted, rows 1..B weighted by each
    resample's draw counts. Returns ``name -> (1 + B, *shape)``."""
    return summed_many([feats], weights)[0]


def summed_many(
    blocks: list[Features], weights: np.ndarray | None
) -> list[dict[str, np.ndarray]]:
    """:func:`summed` for several blocks in one matrix product (BLAS is far
    more efficient on one wide matrix than on many narrow ones).

    Point sums (row 0) are exact float64 column sums. The bootstrap product
    runs in float32, twice as fast: its relative error (about 1e-6) is far
    below the Monte Carlo error of a percentile interval.
    """
    layout: list[tuple[int, str, tuple[int, ...], int]] = []
    for i, feats in enumerate(blocks):
        for k, arr in feats.arrays.items():
            layout.append((i, k, arr.shape[1:], int(np.prod(arr.shape[1:]))))
    out: list[dict[str, np.ndarray]] = [{} for _ in blocks]
    if not layout:
        return out
    n = blocks[0].n
    width = sum(w for *_, w in layout)
    boot = weights is not None and weights.shape[0] > 0
    m = np.empty((n, width), dtype=np.float32 if boot else np.float64)
    point = np.empty(width)
    col = 0
    for i, k, _, w in layout:
        arr = blocks[i].arrays[k].reshape(n, w)
        m[:, col : col + w] = arr
        point[col : col + w] = arr.sum(axis=0)
        col += w
    if boot:
        total = np.empty((weights.shape[0] + 1, width))
        total[0] = point
        total[1:] = weights @ m
    else:
        total = point[None, :]
    col = 0
    for i, k, shape, w in layout:
        out[i][k] = total[:, col : col + w].reshape(total.shape[0], *shape)
        col += w
    return out


# -- context --


@dataclass
class Context:
    """The reliability sample in dense form.

    Documents and coders are renumbered: ``d`` runs over documents with two
    or more assigned coders, ``c`` over coders assigned to at least one of
    them. ``pair_a``, ``pair_b`` list the coder pairs sharing a document.
    ``reference`` is the position of the reference coder (the adjudicated
    consensus), ``-1`` when there is none: pairs with it also get precision
    and recall at the span level.
    """

    data: AgreementInput
    doc_ids: np.ndarray
    coder_ids: tuple[Hashable, ...]
    asg: np.ndarray
    m: np.ndarray
    length: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    weights: np.ndarray | None
    seg_doc: np.ndarray
    seg_coder: np.ndarray
    seg_code: np.ndarray
    full: bool = False
    reference: int = -1
    _own: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    _rolled: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    @property
    def n_docs(self) -> int:
        return int(self.asg.shape[0])

    @property
    def n_coders(self) -> int:
        return int(self.asg.shape[1])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_a.size)

    def pair_labels(self) -> list[tuple[Hashable, Hashable]]:
        return [
            (self.coder_ids[a], self.coder_ids[b])
            for a, b in zip(self.pair_a.tolist(), self.pair_b.tolist(), strict=True)
        ]

    @property
    def pair_docs(self) -> np.ndarray:
        """``(D, P)``: 1 where both coders of the pair are assigned."""
        return (self.asg[:, self.pair_a] & self.asg[:, self.pair_b]).astype(float)

    def margin_features(self, feats: Features, name: str, x: np.ndarray) -> None:
        """Add each pair's per-coder totals of ``x`` (``(D, C)``), restricted
        to the documents the pair shares. When every coder is assigned every
        document the coder totals serve all pairs, which saves columns."""
        if self.full:
            feats[name] = x
        else:
            feats[name + "_a"] = x[:, self.pair_a] * self.asg[:, self.pair_b]
            feats[name + "_b"] = x[:, self.pair_b] * self.asg[:, self.pair_a]

    def margins(
        self, s: dict[str, np.ndarray], name: str
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.full:
            return s[name][:, self.pair_a], s[name][:, self.pair_b]
        return s[name + "_a"], s[name + "_b"]

    def rolled(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Units of code ``k`` or any subcode: ``(doc, coder, start, end)``
        after merging each coder's overlapping segments."""
        return self._rolled[k]  # type: ignore[return-value]

    def own(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Units of code ``k`` itself, as applied (no subcodes)."""
        return self._own[k]  # type: ignore[return-value]


def build_context(data: AgreementInput, weights_for: object) -> Context:
    """Restrict ``data`` to the reliability sample and roll segments up.

    ``weights_for(n_docs)`` returns the bootstrap weight matrix (or ``None``).
    """
    m_all = data.assigned.sum(axis=1)
    docs = np.flatnonzero(m_all >= 2)
    asg_docs = data.assigned[docs]
    coders = np.flatnonzero(asg_docs.any(axis=0))
    asg = asg_docs[:, coders]
    doc_map = np.full(len(data.documents), -1, dtype=np.int64)
    doc_map[docs] = np.arange(docs.size)
    coder_map = np.full(len(data.coders), -1, dtype=np.int64)
    coder_map[coders] = np.arange(coders.size)

    keep = doc_map[data.seg_document] >= 0
    seg_doc = doc_map[data.seg_document[keep]]
    seg_coder = coder_map[data.seg_coder[keep]]
    seg_code = data.seg_code[keep]
    seg_start = data.seg_start[keep]
    seg_end = data.seg_end[keep]
    # One sort by (code, document, coder, start): every code's segments are
    # then a contiguous, already ordered slice.
    n_codes, n_docs, n_c = len(data.codes), max(docs.size, 1), max(coders.size, 1)
    big = int(seg_end.max(initial=0)) + 1
    if n_codes * n_docs * n_c * big < 2**62:
        key = ((seg_code * n_docs + seg_doc) * n_c + seg_coder) * big + seg_start
        order = np.argsort(key)
    else:
        order = np.lexsort((seg_start, seg_coder, seg_doc, seg_code))
    seg_doc, seg_coder, seg_code = seg_doc[order], seg_coder[order], seg_code[order]
    seg_start, seg_end = seg_start[order], seg_end[order]

    a, b = np.triu_indices(coders.size, k=1)
    shared = (asg[:, a] & asg[:, b]).any(axis=0) if docs.size else np.zeros(0, bool)
    ctx = Context(
        data=data,
        doc_ids=docs,
        coder_ids=tuple(data.coders[i] for i in coders),
        asg=asg,
        m=asg.sum(axis=1).astype(float),
        length=data.document_lengths[docs].astype(float),
        pair_a=a[shared],
        pair_b=b[shared],
        weights=_as_float32(weights_for(docs.size)),  # type: ignore[operator]
        seg_doc=seg_doc,
        seg_coder=seg_coder,
        seg_code=seg_code,
        full=bool(asg.all()) if asg.size else False,
    )
    # Offsets live on only as merged units.
    ctx._own, ctx._rolled = _units(ctx, seg_start, seg_end)
    return ctx


def _as_float32(weights: np.ndarray | None) -> np.ndarray | None:
    # Draw counts are small integers, exact in float32.
    return None if weights is None else weights.astype(np.float32)


Units = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _units(
    ctx: Context, seg_start: np.ndarray, seg_end: np.ndarray
) -> tuple[list[Units], list[Units]]:
    """Per code, each coder's units ``(doc, coder, start, end)``: of the
    code itself, and of the code or any descendant (rolled up)."""
    data = ctx.data
    n_codes = len(data.codes)
    n_c = max(ctx.n_coders, 1)
    bounds = np.searchsorted(ctx.seg_code, np.arange(n_codes + 1))
    own: list[Units] = []
    for k in range(n_codes):
        sl = slice(bounds[k], bounds[k + 1])
        g, s, e = merge_overlaps(
            ctx.seg_doc[sl] * n_c + ctx.seg_coder[sl],
            seg_start[sl],
            seg_end[sl],
        )
        own.append((g // n_c, g % n_c, s, e))
    rolled: list[Units] = []
    for k in range(n_codes):
        members = np.flatnonzero(data.descendants_mask(k))
        if members.size == 1:
            rolled.append(own[k])
            continue
        parts = [own[j] for j in members]
        d, c, s, e = (np.concatenate([p[i] for p in parts]) for i in range(4))
        g, s, e = merge_overlaps(d * n_c + c, s, e)
        rolled.append((g // n_c, g % n_c, s, e))
    return own, rolled


# -- records --


@dataclass
class _Pending:
    key: tuple[int, int, int]
    fields: dict[str, Any]
    estimates: np.ndarray
    note: str | None
    undefined: str


class Emitter:
    """Collects estimates (row 0 the point value, rows 1..B the bootstrap
    replicates) and turns them into records, ordered by level (in
    ``levels`` order), code (all codes first, then ``codes`` order) and
    emission order; percentile intervals are computed for all rows at once.
    """

    def __init__(
        self,
        confidence: float,
        levels: tuple[str, ...],
        codes: tuple[Hashable, ...],
    ) -> None:
        self.confidence = confidence
        self._level = {lv: i for i, lv in enumerate(levels)}
        self._code = {c: i for i, c in enumerate(codes)}
        self._pending: list[_Pending] = []

    def emit(
        self,
        level: str,
        code: Hashable | None,
        coefficient: str,
        coders: tuple[Hashable, ...],
        pair: tuple[Hashable, Hashable] | None,
        estimates: np.ndarray,
        *,
        n_units: float,
        n_documents: float,
        undefined: str,
        note: str | None = None,
    ) -> None:
        key = (
            self._level[level],
            -1 if code is None else self._code[code],
            len(self._pending),
        )
        fields = {
            "level": level,
            "code": code,
            "coefficient": coefficient,
            "coders": coders,
            "pair": pair,
            "n_units": int(round(float(n_units))),
            "n_documents": int(round(float(n_documents))),
        }
        est = np.asarray(estimates, dtype=float).reshape(-1)
        self._pending.append(_Pending(key, fields, est, note, undefined))

    def records(self) -> list[AgreementRecord]:
        pending = sorted(self._pending, key=lambda p: p.key)
        points = np.array([p.estimates[0] for p in pending])
        n_boot = pending[0].estimates.size - 1 if pending else 0
        lows = np.full(len(pending), np.nan)
        highs = np.full(len(pending), np.nan)
        bad = np.zeros(len(pending), dtype=np.int64)
        if n_boot:
            reps = np.vstack([p.estimates[1:] for p in pending])
            lows, highs, bad = percentile_intervals(reps, self.confidence)
        out = []
        for i, p in enumerate(pending):
            notes = [p.note] if p.note else []
            value = ci_low = ci_high = None
            if np.isfinite(points[i]):
                value = float(points[i])
                if np.isfinite(lows[i]):
                    ci_low, ci_high = float(lows[i]), float(highs[i])
                if bad[i]:
                    notes.append(
                        f"{bad[i]} of {n_boot} bootstrap resamples were "
                        "undefined; the interval uses the others"
                    )
            else:
                notes.insert(0, p.undefined)
            out.append(
                AgreementRecord(
                    **p.fields,
                    value=value,
                    ci_low=ci_low,
                    ci_high=ci_high,
                    note="; ".join(notes) if notes else None,
                )
            )
        return out
