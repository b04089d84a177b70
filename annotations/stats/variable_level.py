"""The variable level: a parent code whose children are the values.

Unit = document; a coder's value is the child they applied (a subcode of a
child counts as the child). A coder assigned the document who applied no
child, or applied two different children, has no value for it (missing), as
has a coder not assigned the document. Metrics follow the variable's
declared level and order: Krippendorff's alpha at that level; for ordinal
variables also Cohen's weighted kappas (linear and quadratic weights over the
declared order, normalised by the largest possible distance); for nominal
variables Cohen's kappa.
"""

from __future__ import annotations

import numpy as np

from annotations.stats import formulas as f
from annotations.stats._engine import NO_DOCUMENTS, Context, Emitter, Features, summed
from annotations.stats.code_levels import emit_pairs
from annotations.stats.inputs import Variable


def variable_values(ctx: Context, var: Variable) -> tuple[np.ndarray, int]:
    """``(D, C)`` matrix of value positions (``-1`` = missing) and the number
    of (document, coder) pairs with conflicting values."""
    data = ctx.data
    pos = {code: i for i, code in enumerate(data.codes)}
    children = [pos[c] for c, _ in var.values]
    x = np.full((ctx.n_docs, ctx.n_coders), -1, dtype=np.int64)
    if not children:
        return x, 0
    # For every segment code, which child (if any) it belongs to.
    which = np.full(len(data.codes), -1, dtype=np.int64)
    for j, child in enumerate(children):
        which[data.descendants_mask(child)] = j
    v = which[ctx.seg_code] if ctx.seg_code.size else ctx.seg_code
    sel = v >= 0
    d, c, v = ctx.seg_doc[sel], ctx.seg_coder[sel], v[sel]
    n_vals = len(children)
    key = np.unique((d * ctx.n_coders + c) * n_vals + v)
    dc = key // n_vals
    uniq, counts = np.unique(dc, return_counts=True)
    single = uniq[counts == 1]
    vals = key[np.isin(dc, single)] % n_vals
    x.reshape(-1)[single] = vals
    return x, int((counts > 1).sum())


def emit_variable(ctx: Context, em: Emitter, var: Variable) -> None:
    x, conflicts = variable_values(ctx, var)
    v = len(var.values)
    n_docs, n_pairs = ctx.n_docs, ctx.n_pairs
    counts = np.zeros((n_docs, max(v, 1)))
    rows, cols = np.nonzero(x >= 0)
    np.add.at(counts, (rows, x[rows, cols]), 1.0)
    counts = counts[:, :v]
    st = f.nominal_unit_stats(counts)
    feats = Features(n_docs)
    for name in ("n2", "pa", "o_diag"):
        feats[name] = st[name]
    feats["coinc"] = f.unit_coincidences(counts)
    a, b = ctx.pair_a, ctx.pair_b
    xa, xb = x[:, a], x[:, b]
    both = (xa >= 0) & (xb >= 0)
    tables = np.zeros((n_docs, n_pairs, max(v, 1) ** 2))
    dd, pp = np.nonzero(both)
    tables[dd, pp, xa[dd, pp] * v + xb[dd, pp]] = 1.0
    feats["tables"] = tables.reshape(n_docs, n_pairs, max(v, 1), max(v, 1))[
        :, :, :v, :v
    ]
    s = summed(feats, ctx.weights)

    level = "variable"
    code = var.code
    notes = []
    if conflicts:
        notes.append(
            f"{conflicts} (document, coder) pairs applied more than one value "
            "and count as missing"
        )
    note = "; ".join(notes) or None
    n_units = s["n2"][0]
    if n_docs == 0:
        why = NO_DOCUMENTS
    elif n_units == 0:
        why = "no document has a value from two or more coders"
    else:
        why = "only one value occurs, so chance agreement is 1 (undefined)"
    kw = {"n_units": n_units, "n_documents": n_units, "undefined": why, "note": note}
    coders = ctx.coder_ids
    em.emit(
        level,
        code,
        "percent_agreement",
        coders,
        None,
        f.percent_agreement_from_sums(s["n2"], s["pa"]),
        **kw,
    )
    values = np.asarray([float(val) for _, val in var.values])
    alpha = f.alpha_from_coincidences(s["coinc"], var.level, values)[0]
    name = "krippendorff_alpha"
    if var.level != "nominal":
        name += "_" + var.level
    em.emit(level, code, name, coders, None, alpha, **kw)

    pair_units = s["tables"][0].sum(axis=(-1, -2))
    pair_docs = pair_units
    pair_notes = [
        "the two coders share no document with values from both"
        if pair_units[p] == 0
        else "only one value occurs, so chance agreement is 1 (undefined)"
        for p in range(n_pairs)
    ]
    kappas: list[tuple[str, np.ndarray | None]] = []
    if var.level == "nominal":
        kappas.append(("cohen_kappa", None))
    elif var.level == "ordinal":
        kappas.append(("weighted_kappa_linear", f.kappa_weights(v, "linear")))
        kappas.append(("weighted_kappa_quadratic", f.kappa_weights(v, "quadratic")))
    for kname, w in kappas:
        values_k = f.kappa_from_table(s["tables"], w)[0]
        emit_pairs(
            ctx,
            em,
            level,
            code,
            kname,
            values_k,
            pair_units,
            pair_docs,
            pair_notes,
            n_units,
            n_units,
        )
