"""Fuzzing the import parsers and services with hypothesis.

Every input ends in a correct import or an InputError with a readable
message; never another exception, never a partial write."""

import csv
import io
import json
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations.importers.codebook import parse_codebook_file
from annotations.importers.documents import parse_document_files
from annotations.importers.segments import parse_segment_file
from annotations.models import Assignment, Code, Document, HistoryEvent, Segment
from annotations.services.errors import InputError
from annotations.services.imports import (
    codebook_import,
    documents_import,
    segments_import,
)

# FUZZ_EXAMPLES=2000 for a deeper run than CI's.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with what breaks things: quotes, separators, newlines, NUL, lone
# surrogates, markup, right-to-left and astral characters.
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(list(',"\n\r\t\x00;\\<>&\u2028\ufeff🎉\u202e')),
    ),
    max_size=40,
)
cell = st.one_of(
    nasty_text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["", " ", "NaN", "inf", "-1", "0", "1e400", "2024-13-45", "#zzzzzz"]
    ),
    st.just("x" * 5000),
)
json_value = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True), nasty_text,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
DOC_COLUMNS = [
    "external_id",
    "title",
    "text",
    "source",
    "url",
    "published",
    "extra",
    "",
]
CODE_COLUMNS = [
    "name", "parent", "description", "definition", "color", "key", "order",
    "value", "level", "when_to_use",
]  # fmt: skip
SEGMENT_COLUMNS = ["document", "coder", "code", "start", "end", "quote", "memo"]


def csv_bytes(columns, rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode(encoding, "surrogatepass")


def table_files(columns: list[str], value=cell):
    """CSV or JSON Lines files with a random subset of the columns."""
    cols = st.lists(
        st.sampled_from(columns), min_size=0, max_size=len(columns), unique=True
    )
    as_csv = cols.flatmap(
        lambda cs: st.lists(
            st.lists(value, min_size=len(cs), max_size=len(cs) + 1), max_size=5
        ).map(lambda rows: ("f.csv", csv_bytes(cs, rows)))
    )
    as_jsonl = st.lists(
        st.one_of(
            st.dictionaries(
                st.sampled_from(columns), st.one_of(json_value, value), max_size=8
            ).map(
                lambda d: json.dumps(d, ensure_ascii=False).encode(
                    "utf-8", "surrogatepass"
                )
            ),
            json_value.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=30),
        ),
        max_size=5,
    ).map(lambda lines: ("f.jsonl", b"\n".join(lines)))
    raw = st.tuples(
        st.sampled_from(["f.csv", "f.jsonl", "f.json", "f.txt"]),
        st.binary(max_size=200),
    )
    return st.one_of(as_csv, as_jsonl, raw)


def assert_readable(exc: InputError) -> None:
    assert exc.problems, "an InputError names at least one problem"
    for problem in exc.problems:
        text = str(problem)
        assert text.strip()
        assert len(problem.message) < 1000, problem.message[:200]


# --- pure parsers ------------------------------------------------------------


@FUZZ
@given(files=st.lists(table_files(DOC_COLUMNS), min_size=1, max_size=3))
def test_document_parser_never_crashes(files):
    try:
        rows = parse_document_files(files)
    except InputError as exc:
        assert_readable(exc)
        return
    for row in rows:
        assert row.text and row.external_id and row.title
        row.text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in row.text + row.title + row.external_id
        assert "\r" not in row.text


@FUZZ
@given(file=table_files(CODE_COLUMNS))
def test_codebook_parser_never_crashes(file):
    name, data = file
    if name.endswith(".jsonl"):
        name = "f.json"
        data = b"[" + b",".join(data.splitlines()) + b"]"
    try:
        rows = parse_codebook_file(name, data)
    except InputError as exc:
        assert_readable(exc)
        return
    for row in rows:
        assert row.name and "/" not in row.name and len(row.name) <= 100
        assert row.value is None or abs(row.value) < float("inf")


@FUZZ
@given(file=table_files(SEGMENT_COLUMNS))
def test_segment_parser_never_crashes(file):
    try:
        rows = parse_segment_file(*file)
    except InputError as exc:
        assert_readable(exc)
        return
    for row in rows:
        assert 0 <= row.start < row.end


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("a.csv", b"", "empty"),
        ("a.jsonl", b"", "no documents found"),
        (
            "a.csv",
            "external_id,title,text\n1,t,caf\xe9\n".encode("latin-1"),
            "not valid UTF-8",
        ),
        ("a.csv", "external_id,title,text\n1,t,x\n".encode("utf-16"), "UTF-8"),
        (
            "a.jsonl",
            b'{"external_id": 1, "title": "t", "text": {"a": 1}}',
            "text must be text",
        ),
        ("a.jsonl", b"[" * 100_000, "invalid JSON"),
        (
            "a.jsonl",
            b'{"external_id": "1", "title": "t", "text": "x", "n": NaN}',
            "NaN",
        ),
        ("a.jsonl", b'{"external_id": "1", "title": "t", "text": "a\\u0000b"}', "NUL"),
        (
            "a.jsonl",
            b'{"external_id": "1", "title": "t", "text": "a\\ud800b"}',
            "surrogate",
        ),
        (
            "a.jsonl",
            b'{"external_id": "1", "title": "t", "text": "x", "n": '
            + b"9" * 5000
            + b"}",
            "invalid JSON",
        ),
        ("a.csv", b"external_id,title,text\n1,t,a\x00b\n", "NUL"),
        (
            "a.csv",
            b"external_id,title,text,url\n1,t,x,http://e.org/" + b"a" * 2000 + b"\n",
            "url",
        ),
        ("a.txt", b"\x00\x01\x02", "NUL"),
    ],
)
def test_document_parser_bad_inputs_have_clear_messages(name, data, message):
    with pytest.raises(InputError) as exc:
        parse_document_files([(name, data)])
    assert message in str(exc.value)
    assert_readable(exc.value)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("c.json", b"[" * 100_000, "invalid JSON"),
        ("c.json", b'[{"name": "a", "value": "nan"}]', "finite number"),
        ("c.json", b'[{"name": "a", "value": 1e999}]', "finite number"),
        ("c.json", b'[{"name": "a", "order": ' + b"9" * 5000 + b"}]", "invalid JSON"),
        ("c.csv", b"name,order\na," + b"9" * 30 + b"\n", "order"),
        ("c.json", b'{"codes": 3}', "expected a list"),
        ("c.csv", b"name\na\x00b\n", "NUL"),
    ],
)
def test_codebook_parser_bad_inputs_have_clear_messages(name, data, message):
    with pytest.raises(InputError) as exc:
        parse_codebook_file(name, data)
    assert message in str(exc.value)
    assert_readable(exc.value)


def test_huge_numbers_in_a_message_are_shortened():
    data = b"document,coder,code,start,end\nd,c,x,1," + b"9" * 5000 + b"\n"
    with pytest.raises(InputError) as exc:
        parse_segment_file("s.csv", data)
    assert_readable(exc.value)


# --- the services: all or nothing ---------------------------------------------


def counts():
    return (
        Document.objects.count(), Code.objects.count(), Segment.objects.count(),
        Assignment.objects.count(), HistoryEvent.objects.count(),
    )  # fmt: skip


def run_isolated(fn):
    """Run one import in a savepoint that is rolled back afterwards, so the
    examples do not see each other; return (result or exception, counts
    before, counts after the import)."""
    with transaction.atomic():
        before = counts()
        try:
            outcome = fn()
        except InputError as exc:
            outcome = exc
        after = counts()
        transaction.set_rollback(True)
    return outcome, before, after


@FUZZ
@given(files=st.lists(table_files(DOC_COLUMNS), min_size=1, max_size=2))
def test_document_import_is_all_or_nothing(study, files):
    def go():
        rows = parse_document_files(files)
        return documents_import(project=study.project, rows=rows)

    outcome, before, after = run_isolated(go)
    if isinstance(outcome, InputError):
        assert_readable(outcome)
        assert after == before
    else:
        assert after[0] == before[0] + outcome["created"]


@FUZZ
@given(file=table_files(CODE_COLUMNS))
def test_codebook_import_is_all_or_nothing(study, file):
    def go():
        rows = parse_codebook_file(*file)
        return codebook_import(project=study.project, rows=rows)

    outcome, before, after = run_isolated(go)
    if isinstance(outcome, InputError):
        assert_readable(outcome)
        assert after == before
    else:
        assert after[1] == before[1] + outcome["created"]


segment_cell = st.one_of(
    cell,
    st.sampled_from(["d0", "d1", "unicode", "Unicode", "coder1", "coder2", "outsider",
                     "actor", "actor/law_enforcement", "platform", "law_enforcement"]),
    st.integers(min_value=-3, max_value=200).map(str),
)  # fmt: skip


@FUZZ
@given(file=table_files(SEGMENT_COLUMNS, value=segment_cell))
def test_segment_import_is_all_or_nothing(study, file):
    def go():
        rows = parse_segment_file(*file)
        return segments_import(project=study.project, rows=rows, source=file[0])

    outcome, before, after = run_isolated(go)
    if isinstance(outcome, InputError):
        assert_readable(outcome)
        assert after == before
    else:
        assert after[2] == before[2] + outcome["created"]


def test_segment_import_of_a_good_file_with_one_bad_row_writes_nothing(study):
    data = (
        b"document,coder,code,start,end\n"
        b"d0,coder1,actor,0,7\n"
        b"d1,coder1,actor,0,7\n"
        b"d1,coder1,actor,0,99999\n"
    )
    before = counts()
    with pytest.raises(InputError, match="line 4"):
        segments_import(
            project=study.project,
            rows=parse_segment_file("s.csv", data),
            source="s.csv",
        )
    assert counts() == before
