"""The cells of a Stata format-118 file, one chunk of rows at a time.

A column of a chunk goes in as Stata values and comes out as the numpy
array of its fixed-width cells, ready to be placed in the chunk's record
array (``stata.write_dta_chunks``); the text of ``strL`` columns also
becomes the ``GSO`` records of the ``<strls>`` section. What a column
takes:

- ``byte``/``int``/``long``/``date``: an integer numpy array (dates as days
  since 1960-01-01); a masked array (``numpy.ma``) for missing cells;
- ``double``/``datetime``: a numeric numpy array (date-times as milliseconds
  since 1960-01-01 00:00 UTC), masked for missing cells;
- ``str``/``strl``: a sequence of UTF-8 ``bytes`` (``b""`` when empty), or
  for ``str`` a numpy ``S`` array.

Missing numbers become Stata's system missing ``.`` (long 2147483621, byte
101, double 2**1023). :func:`row_chunks` turns rows of Python values
(``None`` for missing, ``date``/naive UTC ``datetime``, ``str``) into such
chunks, for callers that have rows.

Example::

    >>> from annotations.exporters.stata import DtaColumn
    >>> n = DtaColumn("n", "N", "long")
    >>> column_cells(n, np.ma.masked_equal([7, 0], 0), 0).tolist()
    [7, 2147483621]
    >>> next(row_chunks([n], [(1,), (None,)]))[0].tolist()
    [1, None]
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .stata import DtaColumn

DTYPES = {
    "byte": "i1", "int": "<i2", "long": "<i4", "double": "<f8", "date": "<i4",
    "datetime": "<f8", "strl": "<u8",
}  # fmt: skip
MISSING = {
    "byte": 101, "int": 32741, "long": 2147483621, "date": 2147483621,
    "double": 2.0**1023, "datetime": 2.0**1023,
}  # fmt: skip
RANGE = {
    "byte": (-127, 100), "int": (-32767, 32740), "long": (-2147483647, 2147483620),
    "date": (-2147483647, 2147483620),
}  # fmt: skip
STATA_EPOCH = dt.datetime(1960, 1, 1)
STATA_EPOCH_DATE = dt.date(1960, 1, 1)
UNIX_EPOCH_MS = 315_619_200_000  # 1970-01-01 00:00 in Stata milliseconds
# One strL cell in <strls>: "GSO", variable, observation, type 130 (text
# ending in NUL), length with the NUL; then the bytes and the NUL.
GSO = np.dtype([("gso", "S3"), ("v", "<u4"), ("o", "<u8"), ("t", "u1"), ("n", "<u4")])
ROW_CHUNK = 10_000


def record_dtype(columns: Sequence[DtaColumn]) -> np.dtype:
    """One observation of ``<data>``: the cells side by side, no padding,
    little-endian; field ``v1`` is the first variable."""
    return np.dtype(
        [
            (f"v{v}", f"S{c.width}" if c.kind == "str" else DTYPES[c.kind])
            for v, c in enumerate(columns, start=1)
        ]
    )


def column_cells(column: DtaColumn, cells, first: int) -> np.ndarray:
    """The cells of a variable other than strL for the observations after
    the first ``first``.

    Raises ``ValueError`` naming the row (1-based) and the variable for a
    value that does not fit.
    """
    if column.kind == "str":
        return _str_cells(column, cells, first)
    mask = None
    if isinstance(cells, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(cells)
        cells = cells.data
    cells = np.asarray(cells)
    if column.kind in RANGE:
        if cells.dtype.kind not in "iub":
            raise ValueError(f"{column.name}: integers expected, not {cells.dtype}")
        low, high = RANGE[column.kind]
        bad = (cells < low) | (cells > high)
        if mask is not None:
            bad &= ~mask
        if bad.any():
            i = int(bad.argmax())
            raise ValueError(
                f"row {first + i + 1}: {column.name}: {cells[i]} is out of range "
                f"for {column.kind}"
            )
    stored = cells.astype(DTYPES[column.kind])
    if mask is not None:
        stored[mask] = MISSING[column.kind]
    return stored


def _str_cells(column: DtaColumn, cells, first: int) -> np.ndarray:
    width = column.width
    fits = isinstance(cells, np.ndarray) and cells.dtype.kind == "S"
    if fits and cells.dtype.itemsize <= width:
        return cells
    lengths = np.fromiter(map(len, cells), np.int64, len(cells))
    too_long = np.flatnonzero(lengths > width)
    if too_long.size:
        i = int(too_long[0])
        raise ValueError(
            f"row {first + i + 1}: {column.name}: {lengths[i]} bytes do not fit "
            f"in str{width}"
        )
    return np.array(cells, dtype=f"S{width}")


class StrlColumn(NamedTuple):
    """The text of one strL variable ``v`` in a chunk, and its byte lengths."""

    v: int
    cells: Sequence[bytes]
    lengths: np.ndarray


def strl_column(v: int, cells: Sequence[bytes]) -> StrlColumn:
    return StrlColumn(v, cells, np.fromiter(map(len, cells), np.int64, len(cells)))


def strl_refs(text: StrlColumn, first: int) -> np.ndarray:
    """The cells of a strL variable: ``v + o * 2**16`` (``o`` the 1-based
    observation), 0 for empty text."""
    refs = np.zeros(len(text.lengths), DTYPES["strl"])
    filled = np.flatnonzero(text.lengths)
    obs = filled.astype(np.uint64) + np.uint64(first + 1)
    refs[filled] = (obs << np.uint64(16)) | np.uint64(text.v)
    return refs


def gso_records(texts: Sequence[StrlColumn], first: int) -> bytes:
    """The ``GSO`` records of the non-empty strL cells of a chunk, by
    observation and then variable (the order Stata writes and readers may
    rely on: readstat looks them up by binary search)."""
    if not texts:
        return b""
    filled = [np.flatnonzero(t.lengths) for t in texts]
    obs = np.concatenate(filled) + (first + 1)
    vs = np.concatenate(
        [np.full(f.size, t.v) for f, t in zip(filled, texts, strict=True)]
    )
    sizes = np.concatenate([t.lengths[f] for f, t in zip(filled, texts, strict=True)])
    data: list[bytes] = []
    for t in texts:
        data += itertools.compress(t.cells, (t.lengths > 0).tolist())
    if sum(f.size > 0 for f in filled) > 1:
        order = np.lexsort((vs, obs))
        obs, vs, sizes = obs[order], vs[order], sizes[order]
        data = [data[i] for i in order.tolist()]
    k = len(data)
    if not k:
        return b""
    heads = np.empty(k, GSO)
    heads["gso"], heads["v"], heads["o"], heads["t"] = b"GSO", vs, obs, 130
    heads["n"] = sizes + 1
    raw, size = heads.tobytes(), GSO.itemsize
    parts: list[bytes] = [b""] * (3 * k)
    parts[0::3] = [raw[j : j + size] for j in range(0, size * k, size)]
    parts[1::3] = data
    parts[2::3] = [b"\0"] * k
    return b"".join(parts)


# ---------------------------------------------------------------- Python rows


def stata_days(value: dt.date) -> int:
    """Days since 1960-01-01 (``%td``)."""
    return (value - STATA_EPOCH_DATE).days


def stata_ms(value: dt.datetime) -> int:
    """Milliseconds since 1960-01-01 00:00 (``%tc``) of a naive UTC time,
    rounded down (Stata keeps milliseconds)."""
    if value.tzinfo is not None:
        raise ValueError("convert date-times to naive UTC")
    return (value - STATA_EPOCH) // dt.timedelta(milliseconds=1)


def row_chunks(
    columns: Sequence[DtaColumn], rows: Iterable[Sequence], size: int = ROW_CHUNK
) -> Iterator[list]:
    """Rows of Python values (``None`` for missing) as chunks of columns in
    the form :func:`column_cells` takes."""
    it = iter(rows)
    first = 0
    while batch := list(itertools.islice(it, size)):
        for i, row in enumerate(batch):
            if len(row) != len(columns):
                raise ValueError(
                    f"row {first + i + 1}: {len(row)} values for {len(columns)} "
                    "variables"
                )
        cells = zip(*batch, strict=True) if columns else ()
        yield [
            _python_cells(column, list(values), first)
            for column, values in zip(columns, cells, strict=True)
        ]
        first += len(batch)


def _python_cells(column: DtaColumn, values: list, first: int):
    kind = column.kind
    if kind == "str":
        return [b"" if x is None else str(x).encode("utf-8") for x in values]
    if kind == "strl":
        return [str(x).encode("utf-8") if x else b"" for x in values]
    if kind == "date":
        values = _each(stata_days, values, column, first)
    elif kind == "datetime":
        values = _each(stata_ms, values, column, first)
    missing = [x is None for x in values]
    if any(missing):
        values = [0 if x is None else x for x in values]
    if kind in ("double", "datetime"):
        try:
            cells = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            cells = np.array(_each(float, values, column, first), dtype=np.float64)
    else:
        cells = np.array(values)
        if cells.dtype.kind not in "iub":  # floats, text, ints beyond int64
            cells = _python_ints(column, values, first)
    return np.ma.MaskedArray(cells, mask=missing) if any(missing) else cells


def _python_ints(column: DtaColumn, values: list, first: int) -> np.ndarray:
    low, high = RANGE[column.kind]
    for i, x in enumerate(values):
        problem = (
            f"{x!r} is not an integer" if not isinstance(x, int | np.integer)
            else f"{x} is out of range for {column.kind}" if not low <= x <= high
            else ""
        )  # fmt: skip
        if problem:
            raise ValueError(f"row {first + i + 1}: {column.name}: {problem}")
    return np.array(values, dtype=np.int64)


def _each(convert: Callable, values: list, column: DtaColumn, first: int) -> list:
    """``convert`` on every value but None; a failure names its row."""
    out = []
    for i, x in enumerate(values):
        try:
            out.append(None if x is None else convert(x))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"row {first + i + 1}: {column.name}: {exc}") from None
    return out
