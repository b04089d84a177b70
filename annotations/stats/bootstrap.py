"""Bootstrap over documents, vectorised.

Documents are the unit of sampling: a report's coefficients are sums over
documents of per-document statistics (coincidence counts, contingency tables,
overlap lengths), so a resample is a vector of document weights (how often
each document was drawn) and all ``B`` resamples of a statistic are one
matrix product ``W @ F`` of the ``B x D`` weight matrix and the ``D x f``
per-document features. No document is ever copied.

The weights come from ``numpy.random.default_rng(seed)``, so a report is
reproducible from its seed; the same weights serve every level and code, so
their intervals are computed on the same resamples.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20240917
_CHUNK_ROWS = 128


def resample_weights(n_documents: int, resamples: int, seed: int) -> np.ndarray:
    """``resamples x n_documents`` matrix of multinomial draw counts.

    Row ``b`` counts how often each document occurs in the ``b``-th sample of
    ``n_documents`` documents drawn with replacement.
    """
    rng = np.random.default_rng(seed)
    w = np.zeros((resamples, n_documents))
    if n_documents == 0:
        return w
    for lo in range(0, resamples, _CHUNK_ROWS):
        hi = min(lo + _CHUNK_ROWS, resamples)
        draws = rng.integers(0, n_documents, size=(hi - lo, n_documents))
        flat = draws + (np.arange(hi - lo) * n_documents)[:, None]
        w[lo:hi] = np.bincount(flat.ravel(), minlength=(hi - lo) * n_documents).reshape(
            hi - lo, n_documents
        )
    return w


def percentile_interval(
    replicates: np.ndarray, confidence: float = 0.95
) -> tuple[float | None, float | None, int]:
    """Percentile interval of the defined (finite) replicates.

    Returns ``(low, high, n_undefined)``; ``(None, None, n)`` when no replicate
    is defined.
    """
    ok = np.isfinite(replicates)
    n_bad = int(replicates.size - ok.sum())
    if not ok.any():
        return None, None, n_bad
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.percentile(replicates[ok], [tail, 100.0 - tail])
    return float(lo), float(hi), n_bad


def percentile_intervals(
    replicates: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`percentile_interval` for every row of ``replicates`` at once
    (numpy's default linear interpolation). Returns ``(low, high,
    n_undefined)`` arrays; NaN where a row has no defined replicate."""
    reps = np.asarray(replicates, dtype=float)
    n_rows = reps.shape[0]
    lows = np.full(n_rows, np.nan)
    highs = np.full(n_rows, np.nan)
    ok = np.isfinite(reps)
    n_ok = ok.sum(axis=1)
    tail = (1.0 - confidence) / 2.0
    for lo in range(0, n_rows, 2048):
        hi = min(lo + 2048, n_rows)
        # undefined replicates sort last, after every finite one
        s = np.sort(np.where(ok[lo:hi], reps[lo:hi], np.inf), axis=1)
        n = n_ok[lo:hi]
        rows = np.arange(hi - lo)
        for q, target in ((tail, lows), (1.0 - tail, highs)):
            pos = np.maximum(n - 1, 0) * q
            i = np.floor(pos).astype(np.int64)
            j = np.minimum(i + 1, np.maximum(n - 1, 0))
            a, b = s[rows, i], s[rows, j]
            with np.errstate(invalid="ignore"):  # inf - inf on empty rows
                val = a + (pos - i) * np.where(j > i, b - a, 0.0)
            target[lo:hi] = np.where(n > 0, val, np.nan)
    return lows, highs, reps.shape[1] - n_ok
