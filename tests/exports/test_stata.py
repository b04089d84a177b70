"""The .dta files, read back with pandas and with readstat (pyreadstat): both
readers are independent of the streaming writer."""

import datetime as dt
import io
import struct

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from annotations.exporters import dta_tables
from annotations.exporters.names import (
    RESERVED,
    code_variables,
    is_valid_name,
    safe_name,
)
from annotations.exporters.rows import (
    CodeInfo,
    CoderInfo,
    DocumentInfo,
    ExportContext,
    SegmentRow,
    segment_columns,
)
from annotations.exporters.stata import DtaColumn, write_dta, write_dta_chunks
from annotations.exporters.stata_cells import ROW_CHUNK
from annotations.models import Code, Segment
from annotations.services import exports

from .conftest import LONG_MEMO

# ---- the writer alone (no database) ----


def test_writer_round_trip_through_pandas_and_readstat(tmp_path):
    long_text = "نص " * 800 + "🎉"
    columns = [
        DtaColumn("id", "Identifier", "long"),
        DtaColumn("name", "Name", "str", 8),
        DtaColumn("memo", "Memo", "strl"),
        DtaColumn("coder", "Coder", "long", value_labels="coder"),
        DtaColumn("flag", "Flag", "byte"),
        DtaColumn("when", "When (UTC)", "datetime"),
        DtaColumn("day", "Day", "date"),
        DtaColumn("end_", "End", "long"),
    ]
    rows = [
        (
            1,
            "café",
            long_text,
            5,
            1,
            dt.datetime(2024, 1, 2, 3, 4, 5),
            dt.date(2024, 1, 2),
            7,
        ),
        (2, "", "", 6, None, None, None, None),
        (3, "🎉x", "short", 5, 0, dt.datetime(1950, 6, 1), dt.date(1959, 12, 31), -3),
    ]
    path = tmp_path / "x.dta"
    with open(path, "w+b") as f:
        n = write_dta(
            f,
            columns,
            rows,
            label="Demo ✓",
            value_labels={"coder": {5: "alice", 6: "بوب"}},
        )
    assert n == 3
    assert path.read_bytes().startswith(b"<stata_dta><header><release>118</release>")

    df = pd.read_stata(path, convert_categoricals=False)
    assert list(df.id) == [1, 2, 3] and df.id.dtype == "int32"
    assert list(df.name) == ["café", "", "🎉x"]
    assert df.memo[0] == long_text and len(long_text.encode()) > 2045
    assert df.when[0] == pd.Timestamp("2024-01-02 03:04:05")
    assert pd.isna(df.when[1]) and pd.isna(df.day[1]) and pd.isna(df.flag[1])
    assert df.day[2] == pd.Timestamp("1959-12-31") and df.end_[2] == -3

    with pd.io.stata.StataReader(path) as reader:
        reader.read()
        assert reader.data_label == "Demo ✓"
        assert reader.variable_labels()["end_"] == "End"
        assert reader.value_labels() == {"coder": {5: "alice", 6: "بوب"}}

    rs, meta = pyreadstat.read_dta(str(path))
    assert rs.memo[0] == long_text
    assert meta.file_label == "Demo ✓"
    assert meta.column_labels[0] == "Identifier"
    assert meta.variable_to_label == {"coder": "coder"}
    assert meta.value_labels["coder"] == {5: "alice", 6: "بوب"}


def test_writer_matches_pyreadstat_for_the_same_table(tmp_path):
    """pyreadstat.write_dta(version=14) is the reference writer: both files
    read back identically."""
    frame = pd.DataFrame(
        {"n": pd.array([1, -2, 3], dtype="int32"), "s": ["a", "ب", "🎉"]}
    )
    ref = tmp_path / "ref.dta"
    pyreadstat.write_dta(frame, str(ref), version=14, column_labels=["N", "S"])
    ours = tmp_path / "ours.dta"
    with open(ours, "w+b") as f:
        write_dta(
            f, [DtaColumn("n", "N", "long"), DtaColumn("s", "S", "str", 4)],
            frame.itertuples(index=False), label="",
        )  # fmt: skip
    assert ref.read_bytes()[:50] == ours.read_bytes()[:50]  # same release and layout
    pd.testing.assert_frame_equal(pd.read_stata(ref), pd.read_stata(ours))


@pytest.mark.parametrize(
    "column",
    [
        lambda: DtaColumn("in", "reserved", "long"),
        lambda: DtaColumn("x" * 33, "too long", "long"),
        lambda: DtaColumn("ok", "l" * 81, "long"),
        lambda: DtaColumn("s", "str too wide", "str", 2046),
        lambda: DtaColumn("d", "labels on a double", "double", value_labels="x"),
    ],
)
def test_invalid_columns_are_refused(column):
    with pytest.raises(ValueError):
        column()


def test_a_value_out_of_range_stops_the_writer(tmp_path):
    with open(tmp_path / "x.dta", "w+b") as f, pytest.raises(ValueError, match="row 2"):
        write_dta(f, [DtaColumn("n", "N", "long")], [(1,), (2**40,)], label="")


@pytest.mark.parametrize(
    ("column", "cells", "message"),
    [
        (DtaColumn("n", "N", "byte"), [1, 101], "n: 101 is out of range for byte"),
        (DtaColumn("n", "N", "long"), [1, 1.5], "n: 1.5 is not an integer"),
        (DtaColumn("s", "S", "str", 3), ["abc", "abcd"], "s: 4 bytes do not fit in str3"),
        (DtaColumn("s", "S", "str", 3), ["", "éé"], "s: 4 bytes do not fit in str3"),
        (
            DtaColumn("t", "T", "datetime"),
            [None, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
            "t: convert date-times to naive UTC",
        ),
    ],
)  # fmt: skip
def test_a_value_that_does_not_fit_names_its_row(column, cells, message):
    """The rows of the first chunk fit; the second cell of the next chunk
    does not: the message counts rows across chunks."""
    ok = {"str": "a", "datetime": None}.get(column.kind, 1)
    rows = [(ok,)] * ROW_CHUNK + [(c,) for c in cells]
    with pytest.raises(ValueError, match=f"^row {ROW_CHUNK + 2}: {message}$"):
        write_dta(io.BytesIO(), [column], rows, label="")


def test_a_chunk_value_that_does_not_fit_names_its_row():
    columns = [DtaColumn("n", "N", "byte"), DtaColumn("s", "S", "str", 2)]
    first = [np.arange(10), [b"ab"] * 10]
    for second, message in [
        ([np.array([1, -128]), [b"", b""]], "row 12: n: -128 is out of range for byte"),
        ([np.array([1, 2]), [b"", b"abc"]], "row 12: s: 3 bytes do not fit in str2"),
    ]:
        with pytest.raises(ValueError, match=f"^{message}$"):
            write_dta_chunks(io.BytesIO(), columns, [first, second], label="")


def test_chunks_of_columns_write_the_bytes_of_rows():
    """The columnar entry point, with masked arrays for missing cells, writes
    exactly what write_dta writes from the same rows."""
    columns = [
        DtaColumn("id", "Id", "long"), DtaColumn("s", "S", "str", 4),
        DtaColumn("day", "Day", "date"), DtaColumn("t", "T", "datetime"),
        DtaColumn("x", "X", "double"), DtaColumn("memo", "Memo", "strl"),
    ]  # fmt: skip
    rows = [
        (1, "ab", dt.date(1960, 1, 2), dt.datetime(1960, 1, 1, 0, 0, 1), 0.5, "m"),
        (2, "", None, None, None, ""),
        (None, "é", dt.date(1959, 12, 31), dt.datetime(1959, 12, 31, 23, 59), 2, "x"),
    ]
    stamp = dt.datetime(2026, 1, 2, 3, 4)
    expected = io.BytesIO()
    write_dta(expected, columns, rows, label="t", timestamp=stamp)
    missing = [False, True, False]
    chunks = [
        [
            np.ma.MaskedArray([1, 2, 0], mask=[False, False, True]),
            [b"ab", b"", "é".encode()],
            np.ma.MaskedArray([1, 0, -1], mask=missing),
            np.ma.MaskedArray([1000, 0, -60_000], mask=missing),
            np.ma.MaskedArray([0.5, 0, 2], mask=missing),
            [b"m", b"", b"x"],
        ]
    ]
    ours = io.BytesIO()
    assert write_dta_chunks(ours, columns, chunks, label="t", timestamp=stamp) == 3
    assert ours.getvalue() == expected.getvalue()


def test_strl_records_go_by_observation_then_variable(tmp_path):
    """Two strL columns with text in both: the GSO records are in (o, v)
    order across chunks, and both readers find every cell."""
    columns = [DtaColumn("a", "A", "strl"), DtaColumn("b", "B", "strl")]
    rows = [(f"a{i}" * (i % 3), f"b{i}" if i % 2 else "") for i in range(2500)]
    path = tmp_path / "x.dta"
    with open(path, "w+b") as f:
        write_dta(f, columns, rows, label="")
    data = path.read_bytes()
    strls = data[data.index(b"<strls>") + 7 : data.index(b"</strls>")]
    keys, at = [], 0
    while at < len(strls):
        assert strls[at : at + 3] == b"GSO"
        v, o, _, n = struct.unpack_from("<IQBI", strls, at + 3)
        keys.append((o, v))
        at += 20 + n
    assert keys == sorted(keys) and len(keys) == sum(bool(x) for r in rows for x in r)
    frame, _ = pyreadstat.read_dta(str(path))
    assert list(frame.itertuples(index=False, name=None)) == rows
    assert pd.read_stata(path).b.tolist() == [b for _, b in rows]


def test_segments_dta_gathers_strl_document_text(tmp_path):
    """A document column wider than str2045 is strL: each observation gets
    its own copy of the document's text."""
    made = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    title = "t" * 3000
    ctx = ExportContext(
        project_name="P", project_slug="p", exported_at=made, software_version="x",
        codes=[CodeInfo(5, "c", "c", None, 0, 0, "c")], coders=[],
        all_coders=[CoderInfo(3, "u"), CoderInfo(0, "consensus")],
        documents={7: DocumentInfo(7, "e", title), 8: DocumentInfo(8, "f", "")},
    )  # fmt: skip
    segments = [
        SegmentRow(i, doc, 3, 5, 0, 1, "q", "", made, made)
        for i, doc in enumerate([7, 8, 7, 7, 8], start=1)
    ]
    path = tmp_path / "x.dta"
    with open(path, "w+b") as f:
        assert dta_tables.segments_dta(f, ctx, segment_columns(segments, size=2)) == 5
    df = pd.read_stata(path, convert_categoricals=False)
    assert df.title.tolist() == [title, "", title, title, ""]
    assert df.external_id.tolist() == ["e", "f", "e", "e", "f"]
    with pytest.raises(KeyError):
        bad = [segments[0]._replace(document_id=9)]
        dta_tables.segments_dta(io.BytesIO(), ctx, segment_columns(bad))


def test_names():
    for word in (
        "in",
        "if",
        "byte",
        "int",
        "long",
        "float",
        "double",
        "_n",
        "_N",
        "end",
        "str80",
        "strL",
    ):
        assert not is_valid_name(word)
        assert is_valid_name(safe_name(word, set()))
    assert "end" in RESERVED
    taken: set[str] = set()
    names = [safe_name("a" * 40, taken) for _ in range(3)]
    assert len(set(names)) == 3 and all(len(n) <= 32 for n in names)
    stems = code_variables(
        [(1, "Actor", "Actor"), (2, "actor", "x/actor"), (3, "🎉", "🎉")]
    )
    assert stems == {1: "actor", 2: "x_actor", 3: "code3"}


# ---- the exports ----


def export(coded, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=coded.project, **filters)
    path = tmp_path / name
    exports.export_write(project=coded.project, name=name, filt=filt, path=path)
    return path


def test_segments_dta_labels_value_labels_and_text(coded, tmp_path):
    path = export(coded, "segments.dta", tmp_path)
    assert path.read_bytes().startswith(b"<stata_dta><header><release>118</release>")
    df = pd.read_stata(path)
    assert len(df) == coded.live_count
    assert {"end_", "start", "quote", "memo", "coder", "code"} <= set(df.columns)
    assert LONG_MEMO in set(df.memo) and len(LONG_MEMO.encode()) > 2045
    assert "قناة مغلقة" in set(df.quote) and "🇪🇺" in set(df.quote)
    assert set(df.coder.astype(str)) == {"coder1", "coder2", "consensus"}
    assert "actor/law_enforcement" in set(df.code.astype(str))
    texts = {d.pk: d.text for d in coded.study.documents}
    for row in df.itertuples():
        assert texts[row.document_id][row.start : row.end_] == row.quote
    with pd.io.stata.StataReader(path) as reader:
        reader.read()
        labels = reader.variable_labels()
        assert all(labels[c] for c in df.columns)
        assert all(len(v) <= 80 for v in labels.values())
        assert "UTC" in labels["created"]
        assert reader.data_label.startswith("Takedowns: segments, exported ")
        assert len(reader.data_label) <= 80
    raw, meta = pyreadstat.read_dta(str(path))
    types = meta.readstat_variable_types
    assert types["coder"] == types["code"] == "int32"
    assert types["quote"] == types["memo"] == "string"
    assert meta.value_labels["coder"][0] == "consensus"
    created = raw.created[raw.segment_id == coded.segments[0].pk].iloc[0]
    expected = (
        coded.segments[0].__class__.objects.get(pk=coded.segments[0].pk).created_at
    )
    assert abs(created - expected.replace(tzinfo=None)) < dt.timedelta(seconds=1)


def test_document_codes_dta(coded, tmp_path):
    path = export(coded, "document_codes.dta", tmp_path)
    df = pd.read_stata(path)
    assert len(df) == 10
    row = df[(df.external_id == "d0") & (df.coder == "coder2")].iloc[0]
    assert row.n_actor == 1 and row.has_actor == 1 and row.n_law_enforcement == 1
    with pd.io.stata.StataReader(path) as reader:
        reader.read()
        assert reader.variable_labels()["has_law_enforcement"] == (
            "Applied: actor/law_enforcement (+subcodes)"
        )


def test_a_failed_dta_export_leaves_no_file(coded, tmp_path):
    """An id beyond Stata's long range fails mid-write: no file, no temp file,
    and an earlier file at the target stays as it was."""
    huge = Code.objects.create(project=coded.project, name="huge", pk=3_000_000_000)
    Segment.objects.filter(pk=coded.segments[-1].pk).update(code=huge)
    target = tmp_path / "segments.dta"
    target.write_bytes(b"previous export")
    filt = exports.export_filter_build(project=coded.project)
    with pytest.raises(ValueError, match="out of range"):
        exports.export_write(
            project=coded.project, name="segments.dta", filt=filt, path=target
        )
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["segments.dta"]
