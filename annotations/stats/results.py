"""Result objects of the agreement engine.

Two shapes leave this package:

* :class:`Coefficient`, returned by the plain coefficient functions in
  :mod:`annotations.stats.coefficients` (one number for one reliability matrix);
* :class:`AgreementRecord`, one row of the tidy result list returned by
  :func:`annotations.stats.agreement.compute_agreement`, the same in JSON, CSV
  and the API.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Coefficient:
    """One agreement coefficient computed from one reliability matrix.

    ``value`` is ``None`` when the coefficient is undefined for the data (one
    category only, fewer than two coders, no unit coded twice); ``note`` then
    says why. ``observed`` and ``expected`` are the observed and chance
    agreement (for kappa-like coefficients) or disagreement (for alpha), so a
    reader can recompute ``value`` by hand.
    """

    name: str
    value: float | None
    n_units: int
    n_coders: int
    categories: tuple[Any, ...]
    observed: float | None = None
    expected: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class AgreementRecord:
    """One row of the agreement report.

    ``code`` is ``None`` for all codes taken together and ``pair`` is ``None``
    for rows over all coders (including the mean of pairwise coefficients).
    ``n_units`` counts the units the coefficient was computed on (documents,
    (document, code) pairs, characters or segments, depending on ``level``);
    ``n_documents`` counts the documents they come from.
    """

    level: str
    code: Hashable | None
    coefficient: str
    coders: tuple[Hashable, ...]
    pair: tuple[Hashable, Hashable] | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n_units: int
    n_documents: int
    note: str | None


RECORD_FIELDS: tuple[str, ...] = (
    "level",
    "code",
    "coefficient",
    "coders",
    "pair",
    "value",
    "ci_low",
    "ci_high",
    "n_units",
    "n_documents",
    "note",
)


def _plain_number(x: float | None) -> float | None:
    # NaN is not valid JSON; the engine never emits it, but guard the boundary.
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def records_to_dicts(
    records: Iterable[AgreementRecord], *, flat: bool = False
) -> list[dict[str, Any]]:
    """Turn records into plain dicts in :data:`RECORD_FIELDS` order.

    With ``flat=False`` (JSON) ``coders`` and ``pair`` are lists and missing
    values are ``None``. With ``flat=True`` (CSV) they are joined with ``";"``
    and missing values become empty strings, so ``csv.DictWriter`` writes a
    tidy table that R's ``read.csv`` reads with ``NA`` for the blanks.

    >>> r = AgreementRecord("document", "c1", "cohen_kappa", ("a", "b"),
    ...                     ("a", "b"), 0.5, 0.2, 0.7, 10, 10, None)
    >>> records_to_dicts([r])[0]["pair"]
    ['a', 'b']
    >>> records_to_dicts([r], flat=True)[0]["coders"]
    'a;b'
    """
    out: list[dict[str, Any]] = []
    for r in records:
        row: dict[str, Any] = {
            "level": r.level,
            "code": r.code,
            "coefficient": r.coefficient,
            "coders": list(r.coders),
            "pair": list(r.pair) if r.pair is not None else None,
            "value": _plain_number(r.value),
            "ci_low": _plain_number(r.ci_low),
            "ci_high": _plain_number(r.ci_high),
            "n_units": int(r.n_units),
            "n_documents": int(r.n_documents),
            "note": r.note,
        }
        if flat:
            row["coders"] = ";".join(str(c) for c in r.coders)
            row["pair"] = ";".join(str(c) for c in r.pair) if r.pair else ""
            row = {k: ("" if v is None else v) for k, v in row.items()}
        out.append(row)
    return out
