"""The import parsers read a file a line at a time, and say exactly what
decoding the whole file would have said.

The memory tests compare what a parse allocates beyond the rows it returns
with the file's size: decoding the whole file (four bytes a character with
emoji) and splitting it into lines costs several times the file, reading a
line at a time costs a line.
"""

import io
import json
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.importers.documents import parse_document_files
from annotations.importers.segments import parse_segment_file
from annotations.importers.text import Utf8Lines, _universal_newlines, decode_utf8
from annotations.services.errors import InputError

TEXT = "Europol 🎉 took down قنوات Amaq. "


def problems_of(fn) -> list[str] | None:
    try:
        fn()
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return None


def extra_bytes(parse) -> int:
    """Peak bytes allocated by ``parse()`` beyond what it returns."""
    tracemalloc.start()
    try:
        result = parse()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result
    return peak - held


def test_documents_parse_holds_a_line_not_the_file(tmp_path):
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(300):
            row = {"external_id": f"d{i}", "title": f"T {i}", "text": TEXT * 60}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    size = path.stat().st_size  # about 1 MB
    with path.open("rb") as stream:
        extra = extra_bytes(lambda: parse_document_files([(path.name, stream)]))
    # Decoding the whole file and splitting it: about 8x its size.
    assert extra < size / 4, (extra, size)


def test_segments_parse_holds_a_line_not_the_file(tmp_path):
    path = tmp_path / "segments.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("document,coder,code,start,end,quote,memo\r\n")
        for i in range(10_000):
            out.write(f"d{i % 50},coder{i % 3},actor,{i},{i + 8},{TEXT[:8]},\r\n")
    size = path.stat().st_size  # about 0.4 MB
    with path.open("rb") as stream:
        extra = extra_bytes(lambda: parse_segment_file(path.name, stream))
    assert extra < size / 4, (extra, size)


# --- decoding a line at a time = decoding the whole file ----------------------

chunks = st.lists(
    st.sampled_from(
        [b"a", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xe2\x82", b"\xe2\x82\xac",
         b"\xef\xbb\xbf", "🎉".encode(), "قناة".encode(), b"\xc3", b"\x85"]
    ) | st.binary(max_size=3),
    max_size=30,
).map(b"".join)  # fmt: skip


@given(data=chunks)
def test_lines_decode_as_the_whole_file_does(data):
    whole = problems_of(lambda: decode_utf8(data, "f"))
    lines = Utf8Lines(data, "f")
    assert problems_of(lambda: list(lines)) == whole
    if whole is None:
        assert "".join(Utf8Lines(data, "f")) == decode_utf8(data, "f")


@given(text=st.text(alphabet=st.sampled_from("ab\r\n\u2028\x0b\x1c\x85🎉")))
def test_csv_lines_split_as_newline_empty_does(text):
    split = list(_universal_newlines(Utf8Lines(text.encode(), "f")))
    assert split == list(io.StringIO(text, newline=""))


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        # An invalid byte on a later line wins over a JSON error before it,
        # as when the file was decoded first; offset counts after the BOM.
        (
            "d.jsonl",
            b'\xef\xbb\xbf{"external_id": "a"\n{}\n{"x": "caf\xe9"}\n',
            "d.jsonl, line 3: not valid UTF-8 (byte 0xe9 at offset 33)",
        ),
        # A NUL anywhere wins over a bad row before it.
        (
            "d.csv",
            b"external_id,title,text\n,,x\nb,B,a\x00b\n",
            "d.csv, line 3: contains NUL characters",
        ),
        # ... and over a malformed row after it.
        (
            "d.csv",
            b"external_id,title,text\nb,B,a\x00b\nc,C,x,one too many\n",
            "d.csv, line 2: contains NUL characters",
        ),
    ],
)
def test_an_unreadable_file_is_reported_alone(name, data, expected):
    for source in (data, io.BytesIO(data)):
        assert [p[: len(expected)] for p in problems_of(
            lambda s=source: parse_document_files([(name, s)])
        )] == [expected]  # fmt: skip


def test_rows_before_a_json_error_are_still_reported():
    data = b'{"external_id": "a", "title": "", "text": "x"}\n{"external_id": \n'
    assert problems_of(lambda: parse_document_files([("d.jsonl", data)])) == [
        "d.jsonl, line 1: missing title",
        "d.jsonl, line 2: invalid JSON: Expecting value",
    ]
