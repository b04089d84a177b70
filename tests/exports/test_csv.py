"""The CSV tables and the codebook, read back with pandas and the csv module."""

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from annotations.models import Document
from annotations.services import exports

from .conftest import LONG_MEMO, TRICKY_MEMO


def export(coded, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=coded.project, **filters)
    path = tmp_path / name
    rows = exports.export_write(project=coded.project, name=name, filt=filt, path=path)
    return path, rows


def read(path):
    return pd.read_csv(path, dtype={"external_id": str}, keep_default_na=False)


def test_segments_csv_rows_quotes_and_text(coded, tmp_path):
    path, rows = export(coded, "segments.csv", tmp_path)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw.replace(b"\r\nsecond", b"")  # only inside the memo
    df = read(path)
    assert rows == len(df) == coded.live_count
    assert list(df.columns) == [
        "project", "segment_id", "document_id", "external_id", "title", "source",
        "published", "coder", "code", "code_path", "code_id", "codebook_version",
        "start", "end", "quote", "memo", "created", "updated",
    ]  # fmt: skip
    texts = dict(Document.objects.values_list("id", "text"))
    for row in df.itertuples():
        assert texts[row.document_id][row.start : row.end] == row.quote
    assert coded.deleted.pk not in set(df[df.coder != "consensus"].segment_id)
    assert set(df.coder) == {"coder1", "coder2", "consensus"}
    memos = set(df.memo)
    assert LONG_MEMO in memos and TRICKY_MEMO in memos
    assert "قناة مغلقة" in set(df.quote) and "🇪🇺" in set(df.quote)
    le = df[df.code == "law_enforcement"].iloc[0]
    assert le.code_path == "actor/law_enforcement"
    created = pd.to_datetime(df.created, format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    assert created.notna().all()
    assert set(df[df.external_id == "d1"].published) == {"2024-03-01"}


def test_segments_csv_is_rfc4180_with_lone_carriage_return(coded, tmp_path):
    seg = coded.segments[2]
    seg.memo = "before\rafter, with comma"
    seg.save()
    path, _ = export(coded, "segments.csv", tmp_path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert "before\rafter, with comma" in {r["memo"] for r in rows}
    assert len(rows) == coded.live_count


def test_filters_one_coder_consensus_and_dates(coded, tmp_path):
    path, rows = export(coded, "segments.csv", tmp_path, coder="coder1")
    assert set(read(path).coder) == {"coder1"} and rows == 4
    path, rows = export(coded, "segments.csv", tmp_path, consensus=True)
    assert set(read(path).coder) == {"consensus"} and rows == 2
    path, rows = export(coded, "segments.csv", tmp_path, coder="coder2", consensus=True)
    assert set(read(path).coder) == {"coder2", "consensus"} and rows == 7
    today = dt.date.today()
    # Coders' segments were made yesterday, the consensus today.
    path, rows = export(coded, "segments.csv", tmp_path, since=today, until=today)
    assert set(read(path).coder) == {"consensus"}
    path, rows = export(
        coded, "segments.csv", tmp_path, until=today - dt.timedelta(days=1)
    )
    assert rows == len(coded.segments)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"coder": "outsider"}, "not a member"),
        ({"coder": "nobody"}, "not a member"),
        ({"since": "2024-13-01"}, "must be a date"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "after until"),
    ],
)
def test_bad_filters_are_refused(coded, filters, message):
    with pytest.raises(ValidationError, match=message):
        exports.export_filter_build(project=coded.project, **filters)


def test_unknown_format_is_refused_and_writes_nothing(coded, tmp_path):
    filt = exports.export_filter_build(project=coded.project)
    with pytest.raises(ValidationError, match="Unknown export format"):
        exports.export_write(
            project=coded.project, name="segments.xlsx", filt=filt, path=tmp_path / "x"
        )
    assert list(tmp_path.iterdir()) == []


def test_documents_csv_has_metadata_columns(coded, tmp_path):
    path, rows = export(coded, "documents.csv", tmp_path)
    df = read(path)
    assert rows == len(df) == 4
    d0 = df[df.external_id == "d0"].iloc[0]
    assert d0.meta_section == "World" and d0.meta_tags == '["a", "b"]'
    uni = df[df.external_id == "unicode"].iloc[0]
    assert uni.length == len(coded.study.documents[3].text)


def test_document_codes_csv_rolls_up_parents(coded, tmp_path):
    path, rows = export(coded, "document_codes.csv", tmp_path)
    df = read(path)
    # 4 documents x 2 assigned coders, plus the consensus on d0 and unicode.
    assert rows == len(df) == 10
    row = df[(df.external_id == "d0") & (df.coder == "coder2")].iloc[0]
    assert row.n_law_enforcement == 1 and row.has_law_enforcement == 1
    assert row.n_actor == 1 and row.has_actor == 1  # from its subcode only
    assert row.n_segments == 2
    consensus = df[df.coder == "consensus"]
    assert set(consensus.external_id) == {"d0", "unicode"}
    assert set(consensus.status) == {"adjudicated", "open"}
    only1, _ = export(coded, "document_codes.csv", tmp_path, coder="coder1")
    assert set(read(only1).coder) == {"coder1"}


def test_reliability_csv_shape_and_missing(coded, tmp_path, study):
    # coder1 is no longer assigned d2: missing, not 0.
    study.documents[2].assignments.filter(coder=study.coder1).delete()
    d0 = study.documents[0]
    path, _ = export(coded, "reliability.csv", tmp_path)
    df = pd.read_csv(path)
    assert list(df.columns[-2:]) == ["coder1", "coder2"]
    assert "consensus" not in df.columns  # reliability is between coders
    assert len(df) == 4 * 4  # documents x codes
    # coder2 coded d0 but has not marked it done: an unfinished coding is
    # missing, as in the agreement report, not a 0.
    assert d0.assignments.get(coder=study.coder2).status != "done"
    actor_d0 = df[(df.code_path == "actor") & (df.external_id == "d0")].iloc[0]
    assert actor_d0.coder1 == 1 and pd.isna(actor_d0.coder2)
    assert (actor_d0.n_coders, actor_d0.n_done) == (2, 1)
    d0.assignments.filter(coder=study.coder2).update(status="done")
    path, _ = export(coded, "reliability.csv", tmp_path)
    df = pd.read_csv(path)
    actor_d0 = df[(df.code_path == "actor") & (df.external_id == "d0")].iloc[0]
    assert (actor_d0.coder1, actor_d0.coder2, actor_d0.n_done) == (1, 1, 2)
    le_d0 = df[(df.code_path == "actor/law_enforcement") & (df.external_id == "d0")]
    assert (le_d0.iloc[0].coder1, le_d0.iloc[0].coder2) == (0, 1)
    d2 = df[df.external_id == "d2"]
    assert d2.coder1.isna().all() and d2.coder2.isna().all()  # not done either
    assert set(d2.n_coders) == {1} and set(d2.n_done) == {0}
    study.documents[2].assignments.filter(coder=study.coder2).update(status="done")
    path, _ = export(coded, "reliability.csv", tmp_path)
    d2 = pd.read_csv(path).query("external_id == 'd2'")
    assert d2.coder1.isna().all() and (d2.coder2 == 0).all()
    with_consensus, _ = export(coded, "reliability.csv", tmp_path, consensus=True)
    consensus = pd.read_csv(with_consensus).query("external_id == 'd0'").consensus
    assert consensus.notna().all()  # the adjudicated consensus has values


def test_reliability_csv_gives_the_reports_document_alphas(coded, tmp_path, study):
    """The agreement report's document level, recomputed from reliability.csv
    as a reader of the README would (rows with n_done >= 2, the coder
    columns), by an independent implementation (the ``krippendorff``
    package): the same alpha overall and per code."""
    import krippendorff
    import numpy as np

    from annotations.services.agreement import agreement_report

    # A third coder codes d0 (in the sample: two coders done) without marking
    # it done: their codes must not enter, as they do not enter the report.
    from tests import factories

    d0 = study.documents[0]
    d0.assignments.update(status="done")
    coder3 = factories.UserFactory(username="coder3")
    factories.MembershipFactory(project=coded.project, user=coder3)
    factories.AssignmentFactory(document=d0, coder=coder3, status="in_progress")
    action = coded.project.codes.get(name="action")
    factories.SegmentFactory(document=d0, coder=coder3, code=action, start=0, end=4)
    report = agreement_report(coded.project, levels=["document"], use_cache=False)
    alphas = {
        r["code"]: r["value"]
        for r in report["results"]
        if r["level"] == "document" and r["coefficient"] == "krippendorff_alpha"
    }
    assert report["sample"]["documents"] >= 2 and len(alphas) > 2
    assert all("coder3" not in r["coders"] for r in report["results"])

    path, _ = export(coded, "reliability.csv", tmp_path)
    df = pd.read_csv(path).query("n_done >= 2")
    coders = ["coder1", "coder2", "coder3"]
    assert df.coder3.isna().all()  # coded, not done: missing

    def alpha(rows) -> float | None:
        data = rows[coders].to_numpy(dtype=float).T  # coders x units
        if np.unique(data[~np.isnan(data)]).size < 2:
            return None  # one category only: undefined, as the report says
        return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")

    assert alpha(df) == pytest.approx(alphas[None], abs=1e-12)
    for code_path, rows in df.groupby("code_path"):
        expected = alphas[code_path]
        got = alpha(rows)
        assert (got is None) == (expected is None), code_path
        if got is not None:
            assert got == pytest.approx(expected, abs=1e-12), code_path


def test_codebook_csv_counts_per_coder(coded, tmp_path):
    path, rows = export(coded, "codebook.csv", tmp_path)
    df = read(path)
    assert rows == 4
    assert list(df.path) == ["actor", "actor/law_enforcement", "action", "platform"]
    platform = df[df.path == "platform"].iloc[0]
    assert (platform.segments_coder1, platform.segments_coder2) == (2, 1)
    assert platform.segments_consensus == 1 and platform.segments_total == 4
    assert list(df.variable) == ["actor", "law_enforcement", "action", "platform"]


def test_codebook_md_escapes_user_text(coded, tmp_path):
    code = coded.study.codes["action"]
    code.definition = (
        "<script>alert(1)</script> **not bold** | pipe\n    # not a heading"
    )
    code.save()
    path, _ = export(coded, "codebook.md", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*\\*not bold\\*\\*" in text and "\\| pipe" in text
    assert "\n\\# not a heading" in text
    assert "| 1.1 | actor/law\\_enforcement | 0 | 1 | 1 | 2 |" in text


def test_streamed_csv_equals_the_file(coded, tmp_path):
    filt = exports.export_filter_build(project=coded.project)
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    streamed = b"".join(
        exports.export_stream(
            project=coded.project, name="segments.csv", filt=filt, now=now
        )
    )
    exports.export_write(
        project=coded.project, name="segments.csv", filt=filt,
        path=tmp_path / "s.csv", now=now,
    )  # fmt: skip
    assert streamed == (tmp_path / "s.csv").read_bytes()
    assert pd.read_csv(io.BytesIO(streamed)).shape[0] == coded.live_count
