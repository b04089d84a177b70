"""The agreement engine's entry point.

>>> from annotations.stats import AgreementInput, SegmentRow, compute_agreement
>>> data = AgreementInput.from_rows(
...     [SegmentRow("d1", "ann", "econ", 0, 10),
...      SegmentRow("d1", "bob", "econ", 2, 10)],
...     document_lengths={"d1": 20},
...     assignments=[("d1", "ann"), ("d1", "bob")],
... )
>>> rows = compute_agreement(data, levels=("character",), bootstrap=0)
>>> [(r.coefficient, r.pair, round(r.value, 3)) for r in rows if r.code == "econ"][:2]
[('percent_agreement', None, 0.9), ('krippendorff_alpha', None, 0.803)]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np

from annotations.stats._engine import (
    Context,
    Emitter,
    Features,
    build_context,
    summed,
    summed_many,
)
from annotations.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    resample_weights,
)
from annotations.stats.code_levels import (
    emit_character,
    emit_document,
    emit_span,
    emit_unitizing_code,
)
from annotations.stats.features import code_features, common_features
from annotations.stats.inputs import AgreementInput
from annotations.stats.results import AgreementRecord
from annotations.stats.unitizing import (
    emit_unitizing_all,
    summed_squares,
    unitizing_features,
)
from annotations.stats.variable_level import emit_variable

LEVELS: tuple[str, ...] = ("document", "variable", "character", "unitizing", "span")


def compute_agreement(
    data: AgreementInput,
    *,
    levels: Iterable[str] = LEVELS,
    bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
    reference: Hashable | None = None,
) -> list[AgreementRecord]:
    """Every coefficient of every requested level, per code and pair, with
    bootstrap confidence intervals.

    The reliability sample is every document with two or more assigned
    coders (``data.assigned``); a coder not assigned a document is missing
    for it. Confidence intervals are percentile intervals over ``bootstrap``
    resamples of documents drawn with replacement from
    ``numpy.random.default_rng(seed)``; record ``seed`` and ``bootstrap``
    with the report to reproduce it (``bootstrap=0`` skips intervals).

    Rows per level (``code=None`` means all codes together, ``pair=None``
    all coders, for pairwise coefficients the mean over pairs):

    * ``document``: percent_agreement, cohen_kappa (pairs and mean),
      scott_pi, bennett_s, fleiss_kappa, krippendorff_alpha, gwet_ac1; per
      code and for all codes pooled (units = (document, code) pairs).
    * ``variable``: per variable, percent_agreement and
      krippendorff_alpha[_level]; weighted_kappa_linear/_quadratic (ordinal)
      or cohen_kappa (nominal), pairs and mean.
    * ``character``: percent_agreement, krippendorff_alpha, cohen_kappa
      (pairs and mean); per code and pooled.
    * ``unitizing``: u_alpha and binary_u_alpha over all codes; u_alpha per
      code (the code against everything else).
    * ``span``: f1_exact and f1_overlap, pairs and mean; per code and pooled.
      With a ``reference`` coder (the adjudicated consensus), each pair of a
      coder with it also gets precision_exact, recall_exact,
      precision_overlap and recall_overlap (pairs only, no mean), with the
      reference as the truth whichever side of ``pair`` it is on: precision
      is the share of the coder's segments that match a reference segment,
      recall the share of the reference's segments the coder matched, by
      the same matching as f1_exact and f1_overlap (whose value is then
      ``2 P R / (P + R)``). ``n_units`` is the denominator: the coder's
      segments for precision, the reference's for recall.

    A code counts as applied wherever it or one of its subcodes is; one
    coder's overlapping segments of a code are merged. Undefined values are
    ``None`` with a note. Rows come level by level, all codes first, then
    codes in ``data.codes`` order.

    Formulas: the coefficients are those of
    :mod:`annotations.stats.coefficients` (Cohen 1960, 1968; Scott 1955;
    Bennett et al. 1954; Fleiss 1971 with Gwet's 2014 generalisation; Gwet
    2008; Krippendorff 2011) applied to the units of each level, computed
    from additive per-document statistics (:mod:`annotations.stats.features`);
    the unitizing alphas are Krippendorff et al. (2016), see
    :mod:`annotations.stats.unitizing`. Bootstrap: Efron & Tibshirani (1993)
    percentile intervals, documents as the sampling unit; the resampled sums
    are computed in float32 (relative error ~1e-6), point values exactly.

    Worked example (tests/unit/stats): Krippendorff's (2019, fig. 12.11)
    three coders on a continuum of 60 characters give u_alpha .510 and
    binary_u_alpha .413; his (1995) digitized continuum A gives, at the
    character level, cohen_kappa .385 and krippendorff_alpha .329.

    Precision and recall, worked: a coder's segments [0, 5), [10, 15),
    [20, 25) against a consensus of [0, 5), [10, 15), [22, 30), [40, 45)
    match exactly twice (precision 2/3, recall 2/4) and overlap three times
    (3/3 and 3/4):

    >>> from annotations.stats import AgreementInput, SegmentRow
    >>> spans = {"ann": [(0, 5), (10, 15), (20, 25)],
    ...          "cons": [(0, 5), (10, 15), (22, 30), (40, 45)]}
    >>> data = AgreementInput.from_rows(
    ...     [SegmentRow("d1", c, "econ", s, e) for c in spans for s, e in spans[c]],
    ...     document_lengths={"d1": 50},
    ...     assignments=[("d1", "ann"), ("d1", "cons")],
    ... )
    >>> rows = compute_agreement(
    ...     data, levels=("span",), bootstrap=0, reference="cons")
    >>> for r in rows:
    ...     if r.code == "econ" and r.coefficient[0] in "pr":
    ...         print(r.coefficient, r.pair, round(r.value, 3), r.n_units)
    precision_exact ('ann', 'cons') 0.667 3
    recall_exact ('ann', 'cons') 0.5 4
    precision_overlap ('ann', 'cons') 1.0 3
    recall_overlap ('ann', 'cons') 0.75 4
    """
    wanted = tuple(dict.fromkeys(levels))
    unknown = set(wanted) - set(LEVELS)
    if unknown:
        raise ValueError(f"unknown levels: {sorted(unknown)}; choose from {LEVELS}")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")
    if reference is not None and reference not in data.coders:
        raise ValueError(f"unknown reference coder: {reference!r}")

    def weights_for(n_docs: int) -> np.ndarray | None:
        return resample_weights(n_docs, bootstrap, seed) if bootstrap else None

    ctx = build_context(data, weights_for)
    if reference is not None and reference in ctx.coder_ids:
        ctx.reference = ctx.coder_ids.index(reference)
    em = Emitter(confidence, wanted, data.codes)
    code_levels = frozenset(wanted) & {"document", "character", "unitizing", "span"}
    if code_levels:
        _per_code(ctx, em, code_levels)
    if "variable" in wanted:
        for var in data.variables:
            emit_variable(ctx, em, var)
    return em.records()


# Columns x documents of features summed in one matrix product.
_BATCH_FLOATS = 1 << 24


def _per_code(ctx: Context, em: Emitter, levels: frozenset[str]) -> None:
    com = summed(common_features(ctx), ctx.weights)
    codes = ctx.data.codes
    # Sums are additive over codes too: all-codes rows need no product of
    # their own.
    pooled: dict[str, np.ndarray] = {}
    batch: list[tuple[Hashable, Features]] = []

    def emit(code: Hashable | None, s: dict[str, np.ndarray], n_codes: int) -> None:
        if "document" in levels:
            emit_document(ctx, em, code, s, com, n_codes)
        if "character" in levels:
            emit_character(ctx, em, code, s, com, n_codes)
        if "unitizing" in levels and code is not None:
            emit_unitizing_code(ctx, em, code, s, com)
        if "span" in levels:
            emit_span(ctx, em, code, s, com)

    def flush() -> None:
        for (code, _), s in zip(
            batch, summed_many([f for _, f in batch], ctx.weights), strict=True
        ):
            emit(code, s, 1)
            for name, v in s.items():
                pooled[name] = pooled[name] + v if name in pooled else v
        batch.clear()

    size = 0
    for k, code in enumerate(codes):
        feats = code_features(ctx, k, levels)
        batch.append((code, feats))
        size += sum(a.size for a in feats.arrays.values())
        if size >= _BATCH_FLOATS:
            flush()
            size = 0
    flush()
    if codes and levels - {"unitizing"}:
        emit(None, pooled, len(codes))
    if "unitizing" in levels:
        ufeats, margins, n_combo = unitizing_features(ctx)
        valued_sq = summed_squares(margins, ctx.weights)
        emit_unitizing_all(ctx, em, summed(ufeats, ctx.weights), valued_sq, n_combo)
