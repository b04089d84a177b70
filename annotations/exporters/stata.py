"""A streaming writer for Stata ``.dta`` format 118 (Stata 14 and later).

Why not ``pyreadstat.write_dta``: it needs the whole table as one DataFrame,
so memory grows with the project (millions of segments with their quotes).
This writer takes rows from an iterator and keeps one chunk of them in
memory, packed a column at a time with numpy (``stata_cells.py``); long
strings go to a side file and are appended at the end. The layout
follows Stata's ``dta`` documentation ("help dta", format 118) and matches
what ``pyreadstat.write_dta(..., version=14)`` and pandas produce, which is
what the tests compare against:

- header: release 118, little-endian, K (uint16), N (uint64, patched at the
  end), dataset label, timestamp; a map of 14 uint64 section offsets
  (patched at the end);
- per variable: type (uint16: 1-2045 ``strN``, 32768 ``strL``, 65526 double,
  65528 long, 65529 int, 65530 byte), name (129 bytes), format (57 bytes),
  value-label name (129 bytes), label (321 bytes), all UTF-8;
- data: fixed-width little-endian records; a ``strL`` cell holds
  ``v + o * 2**16`` (variable and observation numbers, 1-based; 0 for "");
- strls: ``GSO v(u32) o(u64) t(130) len(u32) bytes\\0`` per non-empty cell;
- value labels: ``<lbl>`` len, name, 3 pad bytes, n, txtlen, off[n], val[n],
  text.

Missing numbers use Stata's system missing ``.`` (long 2147483621, byte 101,
double 2**1023). Dates are ``%td`` (days since 1960-01-01, stored as long),
date-times ``%tc`` (milliseconds since 1960-01-01 00:00, stored as double)
and must be naive UTC. Strings are UTF-8; ``strN`` widths are in bytes.

Example (a two-row file)::

    cols = [DtaColumn("id", "Identifier", "long"), DtaColumn("name", "Name", "str", 5)]
    with open("x.dta", "w+b") as f:
        write_dta(f, cols, [(1, "ab"), (2, "café")], label="demo")
"""

import datetime as dt
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Literal

import numpy as np

from .names import is_valid_name
from .stata_cells import (
    column_cells,
    gso_records,
    record_dtype,
    row_chunks,
    strl_column,
    strl_refs,
)

Kind = Literal["byte", "int", "long", "double", "date", "datetime", "str", "strl"]

MAX_STR = 2045  # longest strN in bytes; longer text needs strL
MAX_LABEL = 80  # characters of a variable or dataset label
TYPE_CODES = {
    "byte": 65530, "int": 65529, "long": 65528, "double": 65526,
    "date": 65528, "datetime": 65526, "strl": 32768,
}  # fmt: skip
FORMATS = {
    "byte": "%8.0g", "int": "%8.0g", "long": "%12.0g", "double": "%10.0g",
    "date": "%td", "datetime": "%tc", "strl": "%9s",
}  # fmt: skip
MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]
SECTIONS = [
    "stata_data", "map", "variable_types", "varnames", "sortlist", "formats",
    "value_label_names", "variable_labels", "characteristics", "data", "strls",
    "value_labels", "stata_data_close", "end-of-file",
]  # fmt: skip


@dataclass(frozen=True)
class DtaColumn:
    """One variable: a valid name, a label (80 characters at most), its kind,
    a byte width for ``str``, and the name of its value-label set if any."""

    name: str
    label: str
    kind: Kind
    width: int = 0
    value_labels: str = ""

    def __post_init__(self):
        if not is_valid_name(self.name):
            raise ValueError(f"{self.name!r} is not a valid Stata variable name")
        if len(self.label) > MAX_LABEL:
            raise ValueError(f"the label of {self.name} is over {MAX_LABEL} characters")
        if self.kind == "str" and not 1 <= self.width <= MAX_STR:
            raise ValueError(f"str width of {self.name} must be 1-{MAX_STR} bytes")
        if self.kind != "str" and self.width != 0:
            raise ValueError(f"only str variables have a width ({self.name})")
        if self.value_labels and self.kind not in ("byte", "int", "long"):
            raise ValueError(f"value labels need an integer variable ({self.name})")


def str_width(values: Iterable[str]) -> int:
    """The ``strN`` width that holds every value: its longest UTF-8 length,
    at least 1. Longer than :data:`MAX_STR` means the column must be strL."""
    return max((len(v.encode("utf-8")) for v in values), default=0) or 1


def _utf8_cut(text: str, limit: int) -> bytes:
    """UTF-8 bytes of ``text``, cut to ``limit`` bytes on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


def _tag(name: str, payload: bytes) -> bytes:
    return b"<" + name.encode() + b">" + payload + b"</" + name.encode() + b">"


def _fixed(text: str, size: int) -> bytes:
    """A null-terminated UTF-8 field of exactly ``size`` bytes."""
    return _utf8_cut(text, size - 1).ljust(size, b"\0")


def _value_label_table(name: str, labels: Mapping[int, str]) -> bytes:
    items = sorted(labels.items())
    offsets, text = [], b""
    for _, label in items:
        offsets.append(len(text))
        text += _utf8_cut(label, 32000) + b"\0"
    n = len(items)
    body = struct.pack("<ii", n, len(text))
    body += struct.pack(f"<{n}i", *offsets) + struct.pack(
        f"<{n}i", *(v for v, _ in items)
    )
    body += text
    return _tag(
        "lbl", struct.pack("<i", len(body)) + _fixed(name, 129) + b"\0\0\0" + body
    )


def write_dta(
    out: BinaryIO,
    columns: Sequence[DtaColumn],
    rows: Iterable[Sequence],
    *,
    label: str,
    value_labels: Mapping[str, Mapping[int, str]] | None = None,
    timestamp: dt.datetime | None = None,
) -> int:
    """Write rows (one value per column, ``None`` for missing) as format 118 to a
    seekable binary file; return the number of rows.

    Holds one chunk of rows in memory at a time; ``strL`` text is spooled to
    a temporary file. Raises ``ValueError`` for a value that does not fit
    (an integer out of range, a string longer than its ``strN`` width).
    """
    return write_dta_chunks(
        out, columns, row_chunks(columns, rows), label=label,
        value_labels=value_labels, timestamp=timestamp,
    )  # fmt: skip


def write_dta_chunks(
    out: BinaryIO,
    columns: Sequence[DtaColumn],
    chunks: Iterable[Sequence],
    *,
    label: str,
    value_labels: Mapping[str, Mapping[int, str]] | None = None,
    timestamp: dt.datetime | None = None,
) -> int:
    """:func:`write_dta` for rows given as chunks of columns (one sequence of
    cells per column, every column of a chunk as long), in the Stata values
    that :func:`stata_cells.column_cells` takes: numbers as numpy arrays (a
    masked array for missing cells; dates as days and date-times as
    milliseconds since 1960), text as UTF-8 bytes. Each chunk is packed as
    one numpy record array, so the cost per cell is numpy's, not Python's.

    Example (the two rows of the module's example)::

        write_dta_chunks(f, cols, [[np.array([1, 2]), [b"ab", "café".encode()]]],
                         label="demo")
    """
    value_labels = dict(value_labels or {})
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError("variable names must be unique")
    for c in columns:
        if c.value_labels and c.value_labels not in value_labels:
            raise ValueError(f"no value labels named {c.value_labels!r}")
    if len(label) > MAX_LABEL:
        raise ValueError(f"the dataset label is over {MAX_LABEL} characters")
    offsets = dict.fromkeys(SECTIONS, 0)
    n_position = _write_head(out, columns, label, timestamp, offsets)

    offsets["data"] = out.tell()
    out.write(b"<data>")
    record = record_dtype(columns)
    n = 0
    with tempfile.TemporaryFile() as strls:
        for chunk in chunks:
            records, gsos = _pack(columns, record, chunk, n)
            out.write(records)
            strls.write(gsos)
            n += len(records)
        out.write(b"</data>")
        offsets["strls"] = out.tell()
        out.write(b"<strls>")
        _append(out, strls)
        out.write(b"</strls>")
    offsets["value_labels"] = out.tell()
    out.write(
        _tag(
            "value_labels",
            b"".join(_value_label_table(k, v) for k, v in value_labels.items()),
        )
    )
    offsets["stata_data_close"] = out.tell()
    out.write(b"</stata_dta>")
    offsets["end-of-file"] = out.tell()
    out.seek(n_position)
    out.write(struct.pack("<Q", n))
    out.seek(offsets["map"] + len(b"<map>"))
    out.write(struct.pack(f"<{len(SECTIONS)}Q", *(offsets[s] for s in SECTIONS)))
    out.seek(0, 2)
    return n


def _pack(
    columns: Sequence[DtaColumn], record: np.dtype, chunk: Sequence, first: int
) -> tuple[np.ndarray, bytes]:
    """A chunk's ``<data>`` records and the GSO records of its strL text."""
    if len(chunk) != len(columns):
        raise ValueError(f"a chunk has {len(chunk)} columns, not {len(columns)}")
    size = len(chunk[0]) if columns else 0
    records = np.zeros(size, record)
    texts = []
    for v, (column, cells) in enumerate(zip(columns, chunk, strict=True), start=1):
        if len(cells) != size:
            raise ValueError(f"{column.name}: {len(cells)} cells, not {size}")
        if column.kind == "strl":
            texts.append(strl_column(v, cells))
            records[f"v{v}"] = strl_refs(texts[-1], first)
        else:
            records[f"v{v}"] = column_cells(column, cells, first)
    return records, gso_records(texts, first)


def _append(out: BinaryIO, spool: BinaryIO) -> None:
    """Copy all of ``spool`` to the end of ``out``: in the kernel when both
    are real files (``sendfile``), else through a buffer."""
    size = spool.seek(0, 2)
    spool.seek(0)
    try:
        out_fd, spool_fd = out.fileno(), spool.fileno()
    except (AttributeError, OSError):  # io.UnsupportedOperation is an OSError
        shutil.copyfileobj(spool, out, 1024 * 1024)
        return
    out.flush()
    start = out.tell()
    os.lseek(out_fd, start, os.SEEK_SET)
    sent = 0
    while sent < size:
        step = os.sendfile(out_fd, spool_fd, sent, size - sent)
        if not step:
            raise OSError(f"the strL spool ended at {sent} of {size} bytes")
        sent += step
    out.seek(start + size)


def _write_head(
    out: BinaryIO,
    columns: Sequence[DtaColumn],
    label: str,
    timestamp: dt.datetime | None,
    offsets: dict[str, int],
) -> int:
    """Write everything before ``<data>``; note the section offsets and return
    the position of N (patched once the rows are counted)."""
    stamp = timestamp or dt.datetime.now(dt.UTC)
    out.write(b"<stata_dta>")
    header = _tag("release", b"118") + _tag("byteorder", b"LSF")
    header += _tag("K", struct.pack("<H", len(columns)))
    n_position = out.tell() + len(b"<header>") + len(header) + len(b"<N>")
    header += _tag("N", struct.pack("<Q", 0))
    encoded_label = _utf8_cut(label, 320)
    header += _tag("label", struct.pack("<H", len(encoded_label)) + encoded_label)
    ts = f"{stamp:%d} {MONTHS[stamp.month - 1]} {stamp:%Y %H:%M}".encode()
    header += _tag("timestamp", bytes([len(ts)]) + ts)
    out.write(_tag("header", header))
    offsets["map"] = out.tell()
    out.write(_tag("map", b"\0" * 8 * len(SECTIONS)))

    offsets["variable_types"] = out.tell()
    types = [c.width if c.kind == "str" else TYPE_CODES[c.kind] for c in columns]
    out.write(_tag("variable_types", struct.pack(f"<{len(types)}H", *types)))
    offsets["varnames"] = out.tell()
    out.write(_tag("varnames", b"".join(_fixed(c.name, 129) for c in columns)))
    offsets["sortlist"] = out.tell()
    out.write(_tag("sortlist", b"\0" * 2 * (len(columns) + 1)))
    offsets["formats"] = out.tell()
    formats = [f"%-{c.width}s" if c.kind == "str" else FORMATS[c.kind] for c in columns]
    out.write(_tag("formats", b"".join(_fixed(f, 57) for f in formats)))
    offsets["value_label_names"] = out.tell()
    out.write(
        _tag(
            "value_label_names", b"".join(_fixed(c.value_labels, 129) for c in columns)
        )
    )
    offsets["variable_labels"] = out.tell()
    out.write(_tag("variable_labels", b"".join(_fixed(c.label, 321) for c in columns)))
    offsets["characteristics"] = out.tell()
    out.write(_tag("characteristics", b""))
    return n_position
