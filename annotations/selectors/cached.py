"""Per-project results kept in Django's cache while the project's data is
unchanged (the Analysis tables, the PI pages' counts).

The key holds a name, the project and
:func:`~annotations.selectors.agreement.agreement_fingerprint`, a digest of
the project's data from a few cheap queries (every change of a segment
writes a history row, which changes it; documents, assignments, consensus
and codes are counted too). Any change gives a new key, so an entry is never
served stale, and old entries expire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from ..models import Project
from .agreement import agreement_fingerprint

T = TypeVar("T")
CACHE_SECONDS = 7 * 24 * 3600


def fingerprint_cached(
    project: Project,
    name: str,
    compute: Callable[[str], T],
    *,
    fingerprint: str | None = None,
    use_cache: bool = True,
) -> T:
    """``compute(fingerprint)`` for the project's current data, from the cache
    while the data is unchanged; ``use_cache=False`` recomputes (and stores)
    it. ``name`` says what is cached, with a version to bump when its shape
    changes; ``fingerprint`` saves the fingerprint's queries when the caller
    has just computed it. ``compute`` must not return None (read as a miss).
    """
    fingerprint = fingerprint or agreement_fingerprint(project)
    key = f"{name}:{project.pk}:{fingerprint}"
    if use_cache:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = compute(fingerprint)
    cache.set(key, value, CACHE_SECONDS)
    return value
