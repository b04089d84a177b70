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

from collections.abc import Iterable

import numpy as np

from annotations.stats._engine import Context, Emitter, Features, build_context, summed
from annotations.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    resample_weights,
)
from annotations.stats.code_levels import (
    code_features,
    common_features,
    emit_character,
    emit_document,
    emit_span,
    emit_unitizing_code,
)
from annotations.stats.inputs import AgreementInput
from annotations.stats.results import AgreementRecord
from annotations.stats.unitizing import emit_unitizing_all, unitizing_features
from annotations.stats.variable_level import emit_variable

LEVELS: tuple[str, ...] = ("document", "variable", "character", "unitizing", "span")


def compute_agreement(
    data: AgreementInput,
    *,
    levels: Iterable[str] = LEVELS,
    bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
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

    A code counts as applied wherever it or one of its subcodes is; one
    coder's overlapping segments of a code are merged. Undefined values are
    ``None`` with a note. Rows come level by level, all codes first, then
    codes in ``data.codes`` order.
    """
    wanted = tuple(dict.fromkeys(levels))
    unknown = set(wanted) - set(LEVELS)
    if unknown:
        raise ValueError(f"unknown levels: {sorted(unknown)}; choose from {LEVELS}")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")

    def weights_for(n_docs: int) -> np.ndarray | None:
        return resample_weights(n_docs, bootstrap, seed) if bootstrap else None

    ctx = build_context(data, weights_for)
    em = Emitter(confidence, bootstrap)
    by_level: dict[str, list[AgreementRecord]] = {lv: [] for lv in wanted}
    code_set = frozenset(wanted) & {"document", "character", "unitizing", "span"}

    if code_set:
        _per_code(ctx, em, code_set, by_level)
    if "variable" in wanted:
        for var in data.variables:
            emit_variable(ctx, em, var)
        by_level["variable"] = em.records
        em.records = []
    return [r for lv in wanted for r in by_level[lv]]


def _per_code(
    ctx: Context,
    em: Emitter,
    levels: frozenset[str],
    by_level: dict[str, list[AgreementRecord]],
) -> None:
    com = summed(common_features(ctx), ctx.weights)
    pooled = Features(ctx.n_docs)
    per_code: dict[str, list[AgreementRecord]] = {lv: [] for lv in levels}
    codes = ctx.data.codes
    emitters = {
        "document": lambda code, s, k: emit_document(ctx, em, code, s, com, k),
        "character": lambda code, s, k: emit_character(ctx, em, code, s, com, k),
        "span": lambda code, s, k: emit_span(ctx, em, code, s, com),
    }
    for k, code in enumerate(codes):
        feats = code_features(ctx, k, levels)
        s = summed(feats, ctx.weights)
        for lv in ("document", "character", "unitizing", "span"):
            if lv not in levels:
                continue
            if lv == "unitizing":
                emit_unitizing_code(ctx, em, code, s, com)
            else:
                emitters[lv](code, s, 1)
            per_code[lv].extend(em.records)
            em.records = []
        pooled += feats

    if "unitizing" in levels:
        ufeats, n_combo = unitizing_features(ctx)
        emit_unitizing_all(ctx, em, summed(ufeats, ctx.weights), n_combo)
        by_level["unitizing"] = em.records + per_code["unitizing"]
        em.records = []
    if codes and levels & {"document", "character", "span"}:
        s = summed(pooled, ctx.weights)
        for lv in ("document", "character", "span"):
            if lv in levels:
                emitters[lv](None, s, len(codes))
                by_level[lv] = em.records + per_code[lv]
                em.records = []
    for lv in levels:
        if not by_level[lv]:
            by_level[lv] = per_code[lv]
