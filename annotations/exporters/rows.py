"""The plain rows every exporter reads: no Django, no querysets."""

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np

CONSENSUS_KEY = 0
CONSENSUS_NAME = "consensus"


@dataclass(frozen=True)
class CodeInfo:
    """One codebook entry; ``position`` is its place in codebook order."""

    id: int
    name: str
    path: str
    parent_id: int | None
    depth: int
    position: int
    variable: str  # stem of its columns in the wide tables (n_<stem>, has_<stem>)
    description: str = ""
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    color: str = "#ffe08a"
    key: str = ""
    retired: bool = False
    level: str = ""
    value: float | None = None


@dataclass(frozen=True)
class CoderInfo:
    """A coder as exported: the user id, or 0 for the consensus."""

    key: int
    name: str

    @property
    def is_consensus(self) -> bool:
        return self.key == CONSENSUS_KEY


@dataclass(frozen=True)
class DocumentInfo:
    """A document without its text (that is read one document at a time)."""

    id: int
    external_id: str
    title: str
    source: str = ""
    url: str = ""
    published: dt.date | None = None
    length: int = 0
    checksum: str = ""
    created: dt.datetime | None = None
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CodebookVersionInfo:
    """A published codebook version: its number, when, the note on what
    changed, the SHA-256 recorded when it was published, and its snapshot
    (the codebook rows as they were)."""

    number: int
    created_at: dt.datetime
    note: str
    checksum: str
    snapshot: object  # the JSON stored: {"codes": [...]} or a list of codes

    @property
    def codes(self) -> list:
        """The snapshot's code rows, whichever of the two shapes it has."""
        codes = self.snapshot
        if isinstance(codes, dict):
            codes = codes.get("codes")
        return codes if isinstance(codes, list) else []


class SegmentRow(NamedTuple):
    """One coded span (a coder's segment or a consensus segment)."""

    id: int
    document_id: int
    coder: int  # CoderInfo.key
    code_id: int
    start: int
    end: int
    quote: str
    memo: str
    created: dt.datetime
    updated: dt.datetime
    # The codebook version the segment was coded under; None before the first.
    codebook_version: int | None = None


@dataclass(frozen=True)
class SegmentColumns:
    """A chunk of :class:`SegmentRow` (in export order) as columns, for the
    writers that pack a chunk at a time: numbers as int64 arrays, text as
    UTF-8 bytes, times as milliseconds since 1970-01-01 UTC rounded down."""

    id: np.ndarray
    document_id: np.ndarray
    coder: np.ndarray
    code_id: np.ndarray
    start: np.ndarray
    end: np.ndarray
    quote: Sequence[bytes]
    memo: Sequence[bytes]
    created_ms: np.ndarray
    updated_ms: np.ndarray
    # int64, masked where the segment has no codebook version.
    codebook_version: np.ma.MaskedArray

    def __len__(self) -> int:
        return len(self.id)


def segment_columns(
    rows: Iterable[SegmentRow], size: int = 1000
) -> Iterator[SegmentColumns]:
    """Segment rows as chunks of ``size`` rows in columns.

    >>> t = dt.datetime(1970, 1, 1, 0, 0, 1, 999, tzinfo=dt.UTC)
    >>> chunk = next(segment_columns([SegmentRow(7, 1, 2, 3, 0, 4, "é", "", t, t)]))
    >>> chunk.quote, chunk.created_ms.tolist(), chunk.codebook_version.tolist()
    ([b'\\xc3\\xa9'], [1000], [None])
    """
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        (ids, docs, coders, codes, starts, ends, quotes, memos, made, changed,
         versions) = zip(*batch, strict=True)  # fmt: skip
        numbers = (ids, docs, coders, codes, starts, ends)
        yield SegmentColumns(
            *(np.array(c, dtype=np.int64) for c in numbers),
            quote=[q.encode("utf-8") for q in quotes],
            memo=[m.encode("utf-8") for m in memos],
            created_ms=np.array([unix_ms(t) for t in made], dtype=np.int64),
            updated_ms=np.array([unix_ms(t) for t in changed], dtype=np.int64),
            codebook_version=codebook_versions(
                np.array([NO_VERSION if v is None else v for v in versions],
                         dtype=np.int64)
            ),
        )  # fmt: skip


# Stands for "no codebook version" where a number is needed (the PostgreSQL
# read sends it for NULL): versions are positive.
NO_VERSION = -1


def codebook_versions(numbers: np.ndarray) -> np.ma.MaskedArray:
    """Codebook version numbers with :data:`NO_VERSION` masked (missing).

    >>> codebook_versions(np.array([2, -1])).tolist()
    [2, None]
    """
    return np.ma.MaskedArray(numbers, mask=numbers == NO_VERSION)


class CoverageRow(NamedTuple):
    """A (document, coder) pair that belongs in the per-coder tables."""

    document_id: int
    coder: int
    status: str  # assignment status, "adjudicated"/"open" for the consensus


class CountRow(NamedTuple):
    """How many segments of one code a coder made in one document."""

    document_id: int
    coder: int
    code_id: int
    n: int


@dataclass(frozen=True)
class ExportContext:
    """Everything small an exporter needs besides its row streams."""

    project_name: str
    project_slug: str
    exported_at: dt.datetime  # aware, UTC
    software_version: str
    codes: list[CodeInfo]  # codebook order: depth first, siblings by order
    coders: list[CoderInfo]  # the coders selected by the filter
    all_coders: list[CoderInfo]  # every coder of the project (factor levels)
    documents: dict[int, DocumentInfo]
    filter_text: str = "all coders and the consensus"
    project_description: str = ""
    # How the reliability sample was last drawn (share, coders_per_document,
    # seed, stratified_by); None when it never was.
    reliability_sample: dict | None = None
    # The project's published codebook versions, oldest first, and the
    # number of the current one (None before the first is published).
    codebook_versions: list[CodebookVersionInfo] = field(default_factory=list)
    codebook_version: int | None = None

    @cached_property
    def code_by_id(self) -> dict[int, CodeInfo]:
        return {c.id: c for c in self.codes}

    @cached_property
    def coder_by_key(self) -> dict[int, CoderInfo]:
        return {c.key: c for c in self.all_coders}

    @property
    def stamp(self) -> str:
        """The export time as ISO 8601 UTC with a Z."""
        return iso_utc(self.exported_at)


_ZERO = dt.timedelta(0)


def iso_utc(value: dt.datetime | None) -> str:
    """ISO 8601 in UTC to the second with a trailing Z; "" for None.

    >>> iso_utc(dt.datetime(2024, 5, 1, 12, 0, 7, 500, tzinfo=dt.UTC))
    '2024-05-01T12:00:07Z'
    """
    if value is None:
        return ""
    if value.tzinfo is not None and value.utcoffset() != _ZERO:
        value = value.astimezone(dt.UTC)
    # isoformat is C code; this runs twice per exported row.
    return value.isoformat(timespec="seconds")[:19] + "Z"


def naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A naive datetime holding UTC wall-clock time (Stata has no time zones)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


_UNIX_EPOCH = dt.datetime(1970, 1, 1)
_UNIX_EPOCH_UTC = _UNIX_EPOCH.replace(tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)


def unix_ms(value: dt.datetime) -> int:
    """Milliseconds since 1970-01-01 UTC, rounded down (a naive value is UTC).

    >>> unix_ms(dt.datetime(1969, 12, 31, 23, 59, 59, 999999))
    -1
    """
    epoch = _UNIX_EPOCH if value.tzinfo is None else _UNIX_EPOCH_UTC
    return (value - epoch) // _MS
