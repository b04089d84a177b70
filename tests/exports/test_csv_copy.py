"""segments.csv on PostgreSQL is written by one ``COPY ... TO STDOUT``: the
bytes must be exactly those of the Python writer (still used on SQLite)."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from annotations.exporters import csv_export
from annotations.models import Code, ConsensusSegment, Segment
from annotations.selectors import segments_copy
from annotations.services import exports

from .filter_cases import CASES, filter_build

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def python_bytes(project, filt) -> bytes:
    run = exports._Export(project, filt, NOW)
    return "".join(run.text("segments.csv")).encode("utf-8")


def copy_bytes(project, filt) -> bytes:
    run = exports._Export(project, filt, NOW)
    return b"".join(run.segments_copy())


@pytest.fixture
def tricky(coded):
    """Every value PostgreSQL and Python's csv might quote differently."""
    study = coded.study
    d0, d1, d2, uni = study.documents
    d0.title = 'Title, with "quotes" and\nnewline'
    d0.source = ""
    d0.save()
    d1.title = "عنوان 🎉"
    d1.source = "a\rb"
    d1.external_id = "\\."
    d1.save()
    d2.title = " leading space"
    d2.source = '"'
    d2.save()
    parent = study.codes["actor"]
    parent.name = 'actor, "the"'
    parent.save()
    Code.objects.filter(pk=study.codes["platform"].pk).update(name="منصة 📱")
    segs = coded.segments
    memos = [
        "", "\r", "cr\rin, the middle", 'only "quotes"', "\\.", "x" * 3000,
        "line\nbreak", ",", "",
    ]  # fmt: skip
    for seg, memo in zip(segs, memos, strict=True):
        Segment.objects.filter(pk=seg.pk).update(memo=memo)
    # Fractions of a second and a time zone far from UTC must print as now.
    Segment.objects.filter(pk=segs[0].pk).update(
        created_at=dt.datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
        updated_at=timezone.localtime(timezone.now()),
    )
    ConsensusSegment.objects.filter(pk=coded.consensus[0].pk).update(
        memo="consensus\r\nmemo", quote='q"uote', codebook_version=3
    )
    # Codebook versions beside empty ones, in rows with and without a \r.
    for seg, version in zip(segs[:6], [1, 2, None, 12, None, 1], strict=True):
        Segment.objects.filter(pk=seg.pk).update(codebook_version=version)
    return coded


def test_copy_bytes_equal_python_bytes_unfiltered(tricky):
    filt = exports.export_filter_build(project=tricky.project)
    expected = python_bytes(tricky.project, filt)
    assert b"\r" in expected and "🎉".encode() in expected
    assert b",12," in expected and b",3," in expected
    assert expected.count(b"\n") > tricky.live_count
    assert copy_bytes(tricky.project, filt) == expected


def test_times_are_iso_whatever_the_servers_datestyle(tricky):
    from django.db import connection

    filt = exports.export_filter_build(project=tricky.project)
    expected = python_bytes(tricky.project, filt)
    run = exports._Export(tricky.project, filt, NOW)  # reads dates: needs ISO
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO SQL, DMY")
    try:
        assert b"".join(run.segments_copy()) == expected
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET DateStyle")


def test_blocks_hold_whole_rows_and_rows_are_counted(tricky, monkeypatch):
    monkeypatch.setattr(segments_copy, "COPY_BLOCK", 1)  # one row per block
    filt = exports.export_filter_build(project=tricky.project)
    run = exports._Export(tricky.project, filt, NOW)
    blocks = list(run.segments_copy())
    assert b"".join(blocks) == python_bytes(tricky.project, filt)
    assert run.copied.rows == tricky.live_count == len(blocks) - 1  # + header


@pytest.mark.parametrize("filters", CASES)
def test_copy_bytes_equal_python_bytes_filtered(tricky, filters):
    filt = filter_build(tricky.project, filters)
    expected = python_bytes(tricky.project, filt)
    assert copy_bytes(tricky.project, filt) == expected


def test_no_coder_and_no_consensus_is_the_header_alone(tricky):
    filt = exports.sel.ExportFilter(coder_ids=(), consensus=False)
    header = ",".join(csv_export.SEGMENT_COLUMNS).encode() + b"\n"
    assert python_bytes(tricky.project, filt) == header
    assert copy_bytes(tricky.project, filt) == header


def test_file_stream_and_rows_use_copy(tricky, tmp_path):
    filt = exports.export_filter_build(project=tricky.project)
    expected = python_bytes(tricky.project, filt)
    path = tmp_path / "segments.csv"
    rows = exports.export_write(
        project=tricky.project, name="segments.csv", filt=filt, path=path, now=NOW
    )
    assert rows == tricky.live_count
    assert path.read_bytes() == expected
    chunks = exports.export_stream(
        project=tricky.project, name="segments.csv", filt=filt, now=NOW
    )
    first = list(itertools.islice(chunks, 1))
    assert b"".join(first + list(chunks)) == expected


@pytest.fixture
def split_everything(monkeypatch):
    """Split even a four-document project into two streams, and count them."""
    started = []
    original = segments_copy._SecondHalf.start

    def start(self):
        started.append(self)
        original(self)

    monkeypatch.setattr(segments_copy, "SPLIT_DOCUMENTS", 2)
    monkeypatch.setattr(segments_copy._SecondHalf, "start", start)
    return started


@pytest.mark.django_db(transaction=True)
def test_two_streams_write_the_same_bytes(transactional_db, tricky, split_everything):
    filt = exports.export_filter_build(project=tricky.project)
    expected = python_bytes(tricky.project, filt)
    run = exports._Export(tricky.project, filt, NOW)
    assert b"".join(run.segments_copy()) == expected
    assert len(split_everything) == 1 and split_everything[0].rows > 0
    assert run.copied.rows == tricky.live_count


@pytest.mark.django_db(transaction=True)
def test_a_failing_second_stream_fails_the_export(
    transactional_db, tricky, split_everything, monkeypatch, tmp_path
):
    def broken(self):
        self.ready.set()
        self.error = RuntimeError("the second stream failed")

    monkeypatch.setattr(segments_copy._SecondHalf, "run", broken)
    filt = exports.export_filter_build(project=tricky.project)
    path = tmp_path / "segments.csv"
    with pytest.raises(RuntimeError, match="second stream"):
        exports.export_write(
            project=tricky.project, name="segments.csv", filt=filt, path=path, now=NOW
        )
    assert not path.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------- CopyOut: libpq's copy loop itself


@pytest.fixture
def raw_connection(db):
    """The psycopg connection under Django's, inside a savepoint rolled back
    afterwards (a failed COPY aborts the transaction)."""
    from django.db import connection, transaction

    connection.ensure_connection()
    savepoint = transaction.savepoint()
    yield connection.connection
    transaction.savepoint_rollback(savepoint)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_copy_out_counts_rows_and_blocks_hold_whole_rows(raw_connection, monkeypatch):
    monkeypatch.setattr(segments_copy, "COPY_BLOCK", 10)
    statement = (
        "COPY (SELECT g, 'é' FROM generate_series(1, 1000) g) TO STDOUT (FORMAT csv)"
    )
    copied = segments_copy.CopyOut(raw_connection, statement, None)
    blocks = list(copied)
    assert copied.rows == 1000
    assert all(b.endswith(b"\n") and len(b) >= 10 for b in blocks[:-1])
    expected = "".join(f"{g},é\n" for g in range(1, 1001)).encode()
    assert b"".join(blocks) == expected


def test_copy_out_binds_parameters_like_psycopg(raw_connection):
    from psycopg import sql

    statement = sql.SQL("COPY (SELECT {x}::text, {ids}::bigint[]) TO STDOUT").format(
        x=sql.Placeholder("x"), ids=sql.Placeholder("ids")
    )
    params = {"x": "it's; DROP TABLE x --", "ids": [1, 2]}
    assert b"".join(segments_copy.CopyOut(raw_connection, statement, params)) == (
        b"it's; DROP TABLE x --\t{1,2}\n"
    )


def test_copy_out_raises_the_servers_error_from_the_middle(raw_connection, monkeypatch):
    from psycopg import errors

    monkeypatch.setattr(segments_copy, "COPY_BLOCK", 1000)
    statement = (
        "COPY (SELECT 1 / (g - 50000) FROM generate_series(1, 100000) g) TO STDOUT"
    )
    copied = segments_copy.CopyOut(raw_connection, statement, None)
    got = []
    with pytest.raises(errors.DivisionByZero):
        for block in copied:
            got.append(block)
    assert got  # rows came before the error
    assert copied.rows == 0


def test_copy_out_raises_an_error_before_the_copy(raw_connection):
    from psycopg import errors

    copied = segments_copy.CopyOut(raw_connection, "COPY (SELEC 1) TO STDOUT", None)
    with pytest.raises(errors.SyntaxError):
        list(copied)


def test_leaving_a_copy_early_cancels_it(raw_connection):
    from psycopg import pq

    statement = (
        "COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 5000000) g) TO STDOUT"
    )
    blocks = iter(segments_copy.CopyOut(raw_connection, statement, None))
    assert next(blocks).startswith(b"1\txxx")
    blocks.close()
    # The server stopped (the transaction is aborted by the cancel) and the
    # line is empty: the connection is idle, ready for the rollback.
    assert raw_connection.info.transaction_status == pq.TransactionStatus.INERROR
