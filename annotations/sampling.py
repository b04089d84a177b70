"""The reliability sample drawn within strata (outlets, years...), in proportion.

Pure Python, no Django: ``{document id: stratum}`` in, a
:class:`StratifiedSample` out, so the rule can be read, tested and reported in
a methods section without a database.

The rule
--------
1. Documents are grouped by their stratum; those without a value form their
   own stratum, ``(missing)``. Strata are taken in order of their label, the
   missing one last, and the documents of each in order of id, so the input's
   order never matters.
2. **Proportional allocation, largest remainder** (Hamilton's method): the
   sample has ``round(share * N)`` documents, the size a draw over all ``N``
   documents at once would have. Stratum ``h`` with ``N_h`` documents first
   gets ``floor(share * N_h)``; the documents still missing go, one each, to
   the strata with the largest remainders ``share * N_h - floor(share * N_h)``
   (ties broken at random from the seed). Each stratum's sample is therefore
   within one document of ``share * N_h``.
3. Each stratum's documents are drawn at random without replacement,
   ``random.Random(seed)`` throughout, one stratum after the other. With one
   stratum this is exactly the unstratified draw of the same seed.

Reference: Cochran, W. G. (1977) *Sampling Techniques*, 3rd ed., ch. 5
(proportional allocation); Balinski and Young (2001) *Fair Representation*
(the largest-remainder method).

Strata of 10, 20 and 70 documents at 20 % give 2, 4 and 14:

>>> strata = {i: "A" if i < 10 else "B" if i < 30 else "C" for i in range(100)}
>>> drawn = stratified_sample(strata, share=0.2, seed=1)
>>> [(s.label, s.documents, s.sampled) for s in drawn.strata]
[('A', 10, 2), ('B', 20, 4), ('C', 70, 14)]
>>> len(drawn.sample)
20

Uneven ones (quotas 1.5, 0.9 and 0.6 at 30 %: floors 1, 0, 0 and two more
documents for the remainders .9 and .6):

>>> strata = {i: "A" if i < 5 else "B" if i < 8 else "C" for i in range(10)}
>>> [s.sampled for s in stratified_sample(strata, share=0.3, seed=1).strata]
[1, 1, 1]
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

MISSING = "(missing)"

# What a sample can be stratified by, with the words the pages use.
FIELDS = {"source": "outlet", "published_year": "year published"}
METADATA_PREFIX = "metadata."
SPEC_MAX_LENGTH = 100  # Project.reliability_stratify's max_length


@dataclass(frozen=True, slots=True)
class StratifyBy:
    """A parsed stratify spec: ``field`` is ``source``, ``published_year`` or
    ``metadata`` (then ``key`` names the metadata key)."""

    field: str
    key: str = ""

    @property
    def spec(self) -> str:
        """The spec as stored on the project and typed on the command line."""
        return METADATA_PREFIX + self.key if self.field == "metadata" else self.field

    @property
    def label(self) -> str:
        """For sentences: "stratified by <label>"."""
        if self.field == "metadata":
            return f"metadata {self.key!r}"
        return FIELDS[self.field]


def stratify_parse(spec: str) -> StratifyBy:
    """Read ``source``, ``published_year`` or ``metadata.KEY``; ValueError else.

    >>> stratify_parse("metadata.outlet type")
    StratifyBy(field='metadata', key='outlet type')
    >>> stratify_parse("outlet")
    Traceback (most recent call last):
    ...
    ValueError: Cannot stratify by 'outlet': use source, published_year or metadata.KEY.
    """
    # The key is kept as written: metadata keys may end in a space.
    spec = spec.lstrip()
    if len(spec) > SPEC_MAX_LENGTH:
        raise ValueError(f"A stratify spec has at most {SPEC_MAX_LENGTH} characters.")
    if spec.rstrip() in FIELDS:
        return StratifyBy(spec.rstrip())
    if spec.startswith(METADATA_PREFIX) and spec[len(METADATA_PREFIX) :].strip():
        return StratifyBy("metadata", spec[len(METADATA_PREFIX) :])
    raise ValueError(
        f"Cannot stratify by {spec.rstrip()!r}: use source, published_year or "
        "metadata.KEY."
    )


def stratify_label(spec: str) -> str:
    """What a stored spec stratifies by, in words ("" when not stratified).

    >>> stratify_label("source"), stratify_label(""), stratify_label("metadata.lang")
    ('outlet', '', "metadata 'lang'")
    """
    if not spec:
        return ""
    try:
        return stratify_parse(spec).label
    except ValueError:  # not written by a draw: shown as stored
        return spec


def stratum_value(value: object) -> str | None:
    """A stored value as a stratum: text as it is (without surrounding
    spaces), anything else as JSON (``2020``, ``true``); None, empty text
    and no value at all are missing.

    >>> [stratum_value(v) for v in ("  Le Monde ", 2020, True, "", None)]
    ['Le Monde', '2020', 'true', None, None]
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Stratum:
    """One stratum of a draw: its documents, how many were sampled, and the
    exact proportional quota ``share * documents`` they approximate."""

    label: str
    documents: int
    sampled: int
    quota: float


@dataclass(frozen=True, slots=True)
class StratifiedSample:
    """The sampled document ids (ascending) and the strata (in draw order)."""

    sample: tuple[int, ...]
    strata: tuple[Stratum, ...]


def stratified_sample(
    strata: Mapping[int, str | None], *, share: float, seed: int
) -> StratifiedSample:
    """Draw ``share`` of the documents of ``strata`` ({id: stratum or None})
    within each stratum, in proportion, reproducibly from ``seed``."""
    if not 0 <= share <= 1:
        raise ValueError("the share must be between 0 and 1")
    groups: dict[str | None, list[int]] = {}
    for doc in sorted(strata):
        groups.setdefault(strata[doc], []).append(doc)
    keys = _strata_order(groups)
    sizes = [len(groups[k]) for k in keys]
    counts = proportional_allocation(sizes, share=share, seed=seed)
    rng = random.Random(seed)
    sample: list[int] = []
    for key, k in zip(keys, counts, strict=True):
        sample.extend(rng.sample(groups[key], k))
    return StratifiedSample(
        sample=tuple(sorted(sample)),
        strata=strata_summary(strata, sample, share=share),
    )


def strata_summary(
    strata: Mapping[int, str | None], sampled: Collection[int], *, share: float
) -> tuple[Stratum, ...]:
    """Documents and sampled documents per stratum, in draw order.

    >>> strata_summary({1: "B", 2: None, 3: "A", 4: "B"}, {1, 3}, share=0.5)[0]
    Stratum(label='A', documents=1, sampled=1, quota=0.5)
    """
    sampled = set(sampled)
    documents: dict[str | None, int] = {}
    in_sample: dict[str | None, int] = {}
    for doc, key in strata.items():
        documents[key] = documents.get(key, 0) + 1
        in_sample[key] = in_sample.get(key, 0) + (doc in sampled)
    return tuple(
        Stratum(
            label=MISSING if key is None else key,
            documents=documents[key],
            sampled=in_sample[key],
            quota=share * documents[key],
        )
        for key in _strata_order(documents)
    )


def _strata_order(keys: Iterable[str | None]) -> list[str | None]:
    return sorted(keys, key=lambda k: (k is None, k or ""))


def proportional_allocation(
    sizes: Sequence[int], *, share: float, seed: int = 0
) -> list[int]:
    """How many of each stratum's ``sizes`` documents to sample: largest
    remainder on the exact quotas ``share * size``, ``round(share * sum)`` in
    all; equal remainders are ordered at random from ``seed``.

    >>> proportional_allocation([10, 20, 70], share=0.2)
    [2, 4, 14]
    >>> proportional_allocation([5, 3, 2], share=0.3)
    [1, 1, 1]
    """
    total = round(share * sum(sizes))  # the size of an unstratified draw
    # Quotas of the share as written (repr: the shortest decimal of the
    # float, 0.57 -> 57/100): the float product 0.57 * 100 is
    # 56.99999999999999, and so is Fraction(0.57) * 100, whose floor would
    # lose a whole document to the remainders.
    exact = [Fraction(repr(share)) * n for n in sizes]
    counts = [math.floor(q) for q in exact]
    order = list(range(len(sizes)))
    random.Random(seed).shuffle(order)
    # A stable sort: equal remainders keep their shuffled order.
    order.sort(key=lambda i: exact[i] - counts[i], reverse=True)
    # 0 <= total - sum(counts) <= the number of strata with a remainder, so
    # each of those gets at most one more.
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
