"""segments.dta on PostgreSQL reads the segments in binary, a chunk of
columns at a time (``selectors.export.segment_column_chunks``): the file must
be byte for byte the one written from the Python rows (the path SQLite
takes), and read back with the values of the database."""

import datetime as dt
import zoneinfo

import pandas as pd
import pyreadstat
import pytest

from annotations.exporters import dta_tables
from annotations.exporters.rows import segment_columns
from annotations.models import Code, ConsensusSegment, Document, Segment
from annotations.selectors import export as sel
from annotations.services import exports

from .conftest import LONG_MEMO
from .filter_cases import CASES, filter_build

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
LONG_TITLE = "🎉" * 500  # the longest title: 2,000 bytes, a str2000 column


def python_bytes(project, filt, tmp_path) -> bytes:
    run = exports._Export(project, filt, NOW)
    path = tmp_path / "python.dta"
    with open(path, "w+b") as out:
        rows = segment_columns(sel.segment_rows(project, filt), size=4)
        dta_tables.segments_dta(out, run.ctx, rows)
    return path.read_bytes()


def fast_bytes(project, filt, tmp_path) -> bytes:
    path = tmp_path / "fast.dta"
    exports.export_write(
        project=project, name="segments.dta", filt=filt, path=path, now=NOW
    )
    return path.read_bytes()


@pytest.fixture
def tricky(coded):
    """Times the two paths might round differently (microseconds, before
    1970 and 1960, a zone far from UTC), the widest title, text in both strL
    columns of one row, and no publication date next to one."""
    d0, d1, *_ = coded.study.documents
    Document.objects.filter(pk=d0.pk).update(title=LONG_TITLE, published=None)
    Code.objects.filter(pk=coded.study.codes["platform"].pk).update(name="منصة 📱")
    first, second, third = coded.segments[:3]
    Segment.objects.filter(pk=first.pk).update(
        created_at=dt.datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
        updated_at=dt.datetime(
            2024, 5, 2, 8, 0, 0, 1500, tzinfo=zoneinfo.ZoneInfo("Pacific/Kiritimati")
        ),
    )
    Segment.objects.filter(pk=second.pk).update(
        created_at=dt.datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=dt.UTC),
        updated_at=dt.datetime(1955, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
    )
    Segment.objects.filter(pk=third.pk).update(memo="memo beside a quote ✓")
    ConsensusSegment.objects.filter(pk=coded.consensus[0].pk).update(
        memo=LONG_MEMO, quote='q"uote', codebook_version=3
    )
    Segment.objects.filter(pk=first.pk).update(codebook_version=1)
    Segment.objects.filter(pk=third.pk).update(codebook_version=2)
    return coded


def test_fast_file_equals_python_file(tricky, tmp_path):
    filt = exports.export_filter_build(project=tricky.project)
    expected = python_bytes(tricky.project, filt, tmp_path)
    assert fast_bytes(tricky.project, filt, tmp_path) == expected

    path = tmp_path / "fast.dta"
    df = pd.read_stata(path, convert_categoricals=False)
    assert len(df) == tricky.live_count
    first = df[df.segment_id == tricky.segments[0].pk].iloc[0]
    assert first.created == pd.Timestamp("2024-05-01 23:59:59.999")
    assert first.updated == pd.Timestamp("2024-05-01 18:00:00.001")
    assert first.title == LONG_TITLE and pd.isna(first.published)
    second = df[df.segment_id == tricky.segments[1].pk].iloc[0]
    assert second.created == pd.Timestamp("1969-12-31 23:59:59.999")
    assert second.updated == pd.Timestamp("1955-03-04 05:06:07.890")
    raw, _ = pyreadstat.read_dta(str(path))
    assert LONG_MEMO in set(raw.memo) and "memo beside a quote ✓" in set(raw.memo)
    assert "منصة 📱" in set(raw.code_path)
    coders = raw[raw.coder != 0]
    versions = dict(zip(coders.segment_id, coders.codebook_version, strict=True))
    assert versions[tricky.segments[0].pk] == 1 and versions[tricky.segments[2].pk] == 2
    assert pd.isna(versions[tricky.segments[1].pk])
    assert sorted(raw.codebook_version[raw.coder == 0].fillna(0)) == [0, 3]
    assert raw.codebook_version.isna().sum() == tricky.live_count - 3


@pytest.mark.parametrize("filters", CASES)
def test_fast_file_equals_python_file_filtered(tricky, tmp_path, filters):
    filt = filter_build(tricky.project, filters)
    expected = python_bytes(tricky.project, filt, tmp_path)
    assert fast_bytes(tricky.project, filt, tmp_path) == expected


def test_no_coder_and_no_consensus_is_an_empty_table(tricky, tmp_path):
    filt = sel.ExportFilter(coder_ids=(), consensus=False)
    expected = python_bytes(tricky.project, filt, tmp_path)
    assert fast_bytes(tricky.project, filt, tmp_path) == expected
    assert len(pd.read_stata(tmp_path / "fast.dta")) == 0


def test_chunks_come_in_export_order(tricky):
    """Small chunks, each as long as asked, in segment_rows order."""
    filt = exports.export_filter_build(project=tricky.project)
    chunks = list(sel.segment_column_chunks(tricky.project, filt, size=3))
    assert [len(c) for c in chunks] == [3, 3, 3, 2]
    ids = [int(i) for c in chunks for i in c.id]
    assert ids == [r.id for r in sel.segment_rows(tricky.project, filt)]
