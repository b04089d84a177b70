"""consensus.csv (how the consensus was reached) and assignments.csv (the
coders' statuses, times and notes, and each document's adjudication), on an
adjudication made through the services: three coders on one document, two
on another; every kind of decision, an undone rejection and a deleted
consensus segment that must not appear, notes that need quoting."""

import csv
import datetime as dt
import io
import json
import tracemalloc
import zipfile
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.exporters import consensus as consensus_exporter
from annotations.exporters.csv_export import CsvLines
from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusRejection,
    ConsensusSegment,
    Segment,
)
from annotations.selectors import consensus_export
from annotations.services import adjudication as adj
from annotations.services import exports
from annotations.services.coding import (
    assignment_set_status,
    segment_create,
    segment_update,
)
from tests import factories
from tests.exports.test_bundle import RSCRIPT, rscript_in_locales

# Commas, quotes, a newline, Arabic and an emoji: every cell must round-trip.
TRICKY_NOTE = 'Only coder3 saw it, "the purge";\nقناة مغلقة 🎉'
CODER_NOTE = 'Hard one, "IS" or not?\nسؤال 🇪🇺'
REASON = "coder3 left, mid-way"


@dataclass
class Adjudicated:
    study: object
    coder3: object
    doc: object  # three coders
    uni: object  # two coders
    segs: dict  # name -> Segment
    made: dict  # name -> ConsensusSegment
    rejections: dict  # name -> ConsensusRejection
    gone: list  # consensus segments and rejections that were undone
    state: object


def span(text: str, word: str) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


@pytest.fixture
def adjudicated(study) -> Adjudicated:
    """Decisions of every kind, made as a PI makes them on the page."""
    s, pi, codes = study, study.pi, study.codes
    coder3 = factories.UserFactory(username="coder3")
    factories.MembershipFactory(project=s.project, user=coder3)
    doc, uni = s.documents[0], s.documents[3]
    Assignment.objects.create(document=doc, coder=coder3)

    def code(document, coder, name, word):
        start, end = span(document.text, word)
        segment, _ = segment_create(
            document=document, coder=coder, code=codes[name], start=start, end=end,
            quote=document.text[start:end], memo=f"{coder.username} memo",
        )  # fmt: skip
        return segment

    c1, c2, c3 = s.coder1, s.coder2, coder3
    segs = {
        "europol1": code(doc, c1, "actor", "Europol"),
        "europol2": code(doc, c2, "actor", "Europol"),
        "europol3": code(doc, c3, "actor", "Europol"),
        "telegram1": code(doc, c1, "platform", "Telegram"),
        "telegram2": code(doc, c2, "platform", "Telegram"),
        "thousands3": code(doc, c3, "action", "Thousands"),
        "long1": code(doc, c1, "action", "coordinated a referral action day"),
        "short2": code(doc, c2, "action", "referral action day"),
        "is1": code(doc, c1, "actor", "Islamic State"),
        "is2": code(doc, c2, "platform", "Islamic State"),
        "removed1": code(doc, c1, "action", "were removed"),
        "removed2": code(doc, c2, "platform", "were removed"),
        "accounts3": code(doc, c3, "actor", "accounts"),
        "arabic1": code(uni, c1, "platform", "قناة مغلقة"),
        "flag2": code(uni, c2, "platform", "🇪🇺"),
    }
    for d, coders in ((doc, (c1, c2)), (uni, (c1, c2))):
        for coder in coders:
            assignment_set_status(
                assignment=Assignment.objects.get(document=d, coder=coder),
                status="done", actor=coder,
            )  # fmt: skip
    Assignment.objects.filter(document=doc, coder=c2).update(note=CODER_NOTE)
    Assignment.objects.filter(document=uni, coder=c1).update(note='قناة, "x"')

    def ids(*names):
        return [segs[n].pk for n in names]

    # Document 1, three coders; coder3 is not done, so a reason is needed.
    adj.adjudication_start(
        document=doc, actor=pi, overlap=0.9, override_reason=REASON
    )  # accepts Europol (all three agree) as "auto"
    (auto,) = ConsensusSegment.objects.filter(document=doc, decision="auto")
    undone_rejection = adj.consensus_reject(
        document=doc, actor=pi, segment_ids=ids("telegram1", "telegram2")
    )
    adj.decision_undo(document=doc, actor=pi, segment_ids=ids("telegram1"))
    (telegram,) = adj.consensus_accept(
        document=doc, actor=pi, segment_ids=ids("telegram1", "telegram2"),
        note="two of three",
    )  # fmt: skip
    (thousands,) = adj.consensus_accept(
        document=doc, actor=pi, segment_ids=ids("thousands3"), note=TRICKY_NOTE
    )
    start, end = span(doc.text, "referral action")
    adjusted = adj.consensus_adjust(
        document=doc, actor=pi, segment_ids=ids("long1", "short2"), start=start,
        end=end, note="without 'day'",
    )  # fmt: skip
    changed = adj.consensus_change_code(
        document=doc, actor=pi, segment_ids=ids("is1", "is2"),
        code=codes["law_enforcement"],
    )  # fmt: skip
    start, end = span(doc.text, "propaganda")
    added = adj.consensus_add(
        document=doc, actor=pi, code=codes["action"], start=start, end=end,
        note="everyone missed it",
    )  # fmt: skip
    removed = adj.consensus_reject(
        document=doc, actor=pi, segment_ids=ids("removed1", "removed2"),
        note="not an action",
    )  # fmt: skip
    (deleted,) = adj.consensus_accept(
        document=doc, actor=pi, segment_ids=ids("accounts3")
    )
    adj.decision_undo(document=doc, actor=pi, segment_ids=ids("accounts3"))
    accounts = adj.consensus_reject(
        document=doc, actor=pi, segment_ids=ids("accounts3")
    )
    state = adj.adjudication_mark(document=doc, actor=pi)
    # coder3 changes a segment the consensus took: the document needs another look.
    segment_update(segment=segs["thousands3"], actor=c3, memo="changed my mind")

    # Document 2, two coders: one reading accepted, the other rejected.
    adj.adjudication_start(document=uni, actor=pi)
    (arabic,) = adj.consensus_accept(document=uni, actor=pi, segment_ids=ids("arabic1"))
    flag = adj.consensus_reject(
        document=uni, actor=pi, segment_ids=ids("flag2"), note="emoji 🇪🇺, no"
    )
    made = {
        "auto": auto, "telegram": telegram, "thousands": thousands,
        "adjusted": adjusted, "changed": changed, "added": added, "arabic": arabic,
    }  # fmt: skip
    rejections = {"removed": removed, "accounts": accounts, "flag": flag}
    for obj in [*made.values(), *rejections.values(), state]:
        obj.refresh_from_db()
    undone_rejection.refresh_from_db()
    deleted.refresh_from_db()
    assert undone_rejection.deleted_at is not None and deleted.deleted_at is not None
    return Adjudicated(
        s, coder3, doc, uni, segs, made, rejections, [deleted, undone_rejection],
        state,
    )  # fmt: skip


def iso(value) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export(project, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=project, **filters)
    path = tmp_path / name
    rows = exports.export_write(project=project, name=name, filt=filt, path=path)
    return path, rows


def read(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def expected_consensus(a: Adjudicated) -> list[list]:
    """consensus.csv's rows, in order, written out by hand: the decision
    columns are literals; only ids and times come from the database."""
    doc, uni, segs, made, rej = a.doc, a.uni, a.segs, a.made, a.rejections
    codes = a.study.codes

    def consensus(c, decision, support, coders, sources, changed=0):
        code = codes_by_id[c.code_id]
        ids = ";".join(str(i) for i in sorted(segs[n].pk for n in sources))
        return [
            "takedowns", c.pk, "", c.document_id, external[c.document_id],
            "consensus", code.name, path[code.name], code.pk, version(c),
            c.start, c.end, c.quote, decision, support, n_coders[c.document_id], len(coders),
            ";".join(coders), ids, changed, "pi", iso(c.decided_at),
            iso(c.updated_at), c.note,
        ]  # fmt: skip

    def rejected(r, name, support, coders, sources):
        seg = segs[name]
        code = codes_by_id[seg.code_id]
        ids = ";".join(str(i) for i in sorted(segs[n].pk for n in sources))
        return [
            "takedowns", seg.pk, r.pk, r.document_id, external[r.document_id],
            seg.coder.username, code.name, path[code.name], code.pk, version(seg),
            seg.start, seg.end, seg.quote, "reject", support, n_coders[r.document_id],
            len(coders), ";".join(coders), ids, 0, "pi", iso(r.decided_at),
            iso(r.decided_at), r.note,
        ]  # fmt: skip

    def version(obj) -> int | str:
        """The segment's codebook version as stored now; empty for none."""
        number = type(obj).objects.get(pk=obj.pk).codebook_version
        return "" if number is None else number

    codes_by_id = {c.pk: c for c in codes.values()}
    path = {name: name for name in codes} | {"law_enforcement": "actor/law_enforcement"}
    external = {doc.pk: "d0", uni.pk: "unicode"}
    n_coders = {doc.pk: 3, uni.pk: 2}
    three, two = ["coder1", "coder2", "coder3"], ["coder1", "coder2"]
    by_span = [
        consensus(made["auto"], "auto", "unanimous", three,
                  ["europol1", "europol2", "europol3"]),
        consensus(made["adjusted"], "adjust", "majority", two, ["long1", "short2"]),
        consensus(made["changed"], "change_code", "majority", two, ["is1", "is2"]),
        consensus(made["added"], "manual", "none", [], []),
        consensus(made["telegram"], "accept_all", "majority", two,
                  ["telegram1", "telegram2"]),
        consensus(made["thousands"], "accept", "minority", ["coder3"],
                  ["thousands3"], changed=1),
        rejected(rej["accounts"], "accounts3", "minority", ["coder3"], ["accounts3"]),
        rejected(rej["removed"], "removed1", "majority", two, ["removed1", "removed2"]),
        rejected(rej["removed"], "removed2", "majority", two, ["removed1", "removed2"]),
        consensus(made["arabic"], "accept", "half", ["coder1"], ["arabic1"]),
        rejected(rej["flag"], "flag2", "half", ["coder2"], ["flag2"]),
    ]  # fmt: skip
    return by_span


def csv_text(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


CONSENSUS_HEADER = [
    "project", "segment_id", "rejection_id", "document_id", "external_id",
    "coder", "code", "code_path", "code_id", "codebook_version", "start", "end",
    "quote", "decision", "support", "n_coders", "n_source_coders", "source_coders",
    "source_segment_ids", "sources_changed", "decided_by", "decided_at",
    "updated_at", "note",
]  # fmt: skip


def test_consensus_csv_holds_every_decision_byte_for_byte(adjudicated, tmp_path):
    a = adjudicated
    path, rows = export(a.study.project, "consensus.csv", tmp_path)
    expected = expected_consensus(a)
    # The whole file, so SQLite and PostgreSQL are held to the same bytes.
    assert path.read_text(encoding="utf-8") == csv_text(CONSENSUS_HEADER, expected)
    assert rows == len(expected) == 11
    table = read(path)
    # The question of a methods section, answered by one tabulation.
    consensus = [r for r in table if r["coder"] == "consensus"]
    assert sorted(r["support"] for r in consensus) == [
        "half", "majority", "majority", "majority", "minority", "none", "unanimous",
    ]  # fmt: skip
    # Every quote is the text at its offsets (code points, end exclusive).
    texts = {a.doc.pk: a.doc.text, a.uni.pk: a.uni.text}
    for r in table:
        assert (
            texts[int(r["document_id"])][int(r["start"]) : int(r["end"])] == r["quote"]
        )


def test_consensus_csv_has_the_codebook_version_of_each_row(adjudicated, tmp_path):
    """A consensus row: the version the consensus segment was decided under; a
    rejected row: the version the coder's segment was coded under; empty for
    none."""
    a = adjudicated
    ConsensusSegment.objects.filter(pk=a.made["auto"].pk).update(codebook_version=2)
    ConsensusSegment.objects.filter(pk=a.made["arabic"].pk).update(codebook_version=1)
    Segment.objects.filter(pk=a.segs["removed1"].pk).update(codebook_version=1)
    Segment.objects.filter(pk=a.segs["flag2"].pk).update(codebook_version=3)
    path, _ = export(a.study.project, "consensus.csv", tmp_path)
    assert path.read_text(encoding="utf-8") == csv_text(
        CONSENSUS_HEADER, expected_consensus(a)
    )
    versions = {
        (r["coder"] == "consensus", int(r["segment_id"])): r["codebook_version"]
        for r in read(path)
    }
    assert versions.pop((True, a.made["auto"].pk)) == "2"
    assert versions.pop((True, a.made["arabic"].pk)) == "1"
    assert versions.pop((False, a.segs["removed1"].pk)) == "1"
    assert versions.pop((False, a.segs["flag2"].pk)) == "3"
    assert set(versions.values()) == {""}  # the other 7 rows


def test_undone_decisions_and_deleted_consensus_are_left_out(adjudicated, tmp_path):
    a = adjudicated
    deleted, undone = a.gone
    path, _ = export(a.study.project, "consensus.csv", tmp_path)
    table = read(path)
    consensus_ids = {r["segment_id"] for r in table if r["coder"] == "consensus"}
    assert str(deleted.pk) not in consensus_ids
    assert str(undone.pk) not in {r["rejection_id"] for r in table}
    assert ConsensusSegment.objects.filter(document=a.doc).count() == 7  # 6 live
    # The consensus segments are exactly segments.csv's consensus rows.
    segments, _ = export(a.study.project, "segments.csv", tmp_path)
    assert consensus_ids == {
        r["segment_id"] for r in read(segments) if r["coder"] == "consensus"
    }


def test_notes_round_trip_whatever_they_hold(adjudicated, tmp_path):
    a = adjudicated
    a.made["added"].note = 'line\r\nbreak, "quoted"\rlone ; semicolon'
    a.made["added"].save()
    path, _ = export(a.study.project, "consensus.csv", tmp_path)
    raw = path.read_text(encoding="utf-8")
    # A multi-line note is one quoted cell; quotes are doubled.
    assert '"Only coder3 saw it, ""the purge"";\nقناة مغلقة 🎉"' in raw
    notes = {(r["coder"], r["segment_id"]): r["note"] for r in read(path)}
    assert notes["consensus", str(a.made["thousands"].pk)] == TRICKY_NOTE
    assert notes["consensus", str(a.made["added"].pk)] == (
        'line\r\nbreak, "quoted"\rlone ; semicolon'
    )
    assert notes["coder2", str(a.segs["flag2"].pk)] == "emoji 🇪🇺, no"
    # The row with a lone \r is written by hand: numbers stay bare for R.
    start = f'"takedowns",{a.made["added"].pk},,{a.doc.pk},"d0","consensus",'
    assert any(line.startswith(start) for line in raw.split("\n"))


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({}, 11),
        ({"consensus": True}, 11),
        ({"coder": "coder1", "consensus": True}, 11),  # the coder does not narrow it
        ({"coder": "coder1"}, 0),  # no consensus in the export
        ({"since": "today", "until": "today"}, 11),
        ({"until": "yesterday"}, 0),
        ({"since": "2030-01-01"}, 0),
    ],
)
def test_filters(adjudicated, tmp_path, filters, kept):
    today = dt.datetime.now(dt.UTC).date()
    days = {"today": today, "yesterday": today - dt.timedelta(days=1)}
    filters = {k: days.get(v, v) for k, v in filters.items()}
    path, rows = export(adjudicated.study.project, "consensus.csv", tmp_path, **filters)
    assert rows == kept == len(read(path))
    assert path.read_text().startswith(",".join(CONSENSUS_HEADER) + "\n")


def test_dates_select_by_when_a_decision_was_made(adjudicated, tmp_path):
    a = adjudicated
    # Made yesterday: the Arabic acceptance and the flag's rejection.
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ConsensusSegment.objects.filter(pk=a.made["arabic"].pk).update(decided_at=yesterday)
    type(a.rejections["flag"]).objects.filter(pk=a.rejections["flag"].pk).update(
        decided_at=yesterday
    )
    old, _ = export(a.study.project, "consensus.csv", tmp_path, until=yesterday.date())
    assert [(r["decision"], r["external_id"]) for r in read(old)] == [
        ("accept", "unicode"), ("reject", "unicode"),
    ]  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    new, _ = export(a.study.project, "consensus.csv", tmp_path, since=today)
    assert {r["external_id"] for r in read(new)} == {"d0"}


def test_assignments_csv_has_each_coders_status_times_and_note(adjudicated, tmp_path):
    a = adjudicated
    path, rows = export(a.study.project, "assignments.csv", tmp_path)
    table = read(path)
    assert list(table[0]) == [
        "project", "document_id", "external_id", "coder", "status", "assigned_at",
        "started_at", "done_at", "note", "adjudicator", "overlap", "override_reason",
    ]  # fmt: skip
    # Four documents x two coders, coder3 on d0, two adjudications.
    assert rows == len(table) == 11
    order = [(r["external_id"], r["coder"]) for r in table]
    assert order[:4] == [
        ("d0", "coder1"), ("d0", "coder2"), ("d0", "coder3"), ("d0", "consensus"),
    ]  # fmt: skip
    assert order[-3:] == [
        ("unicode", "coder1"), ("unicode", "coder2"), ("unicode", "consensus"),
    ]  # fmt: skip
    rows_of = {(r["external_id"], r["coder"]): r for r in table}
    a2 = Assignment.objects.get(document=a.doc, coder=a.study.coder2)
    assert rows_of["d0", "coder2"] == {
        "project": "takedowns", "document_id": str(a.doc.pk), "external_id": "d0",
        "coder": "coder2", "status": "done", "assigned_at": iso(a2.created_at),
        "started_at": iso(a2.started_at), "done_at": iso(a2.done_at),
        "note": CODER_NOTE, "adjudicator": "", "overlap": "", "override_reason": "",
    }  # fmt: skip
    assert rows_of["unicode", "coder1"]["note"] == 'قناة, "x"'
    coder3 = rows_of["d0", "coder3"]
    assert (coder3["status"], coder3["done_at"]) == ("in_progress", "")
    assert coder3["started_at"] != "" and coder3["note"] == ""
    untouched = rows_of["d1", "coder1"]
    assert (untouched["status"], untouched["started_at"]) == ("todo", "")
    # coder3 changed a segment after the document was marked adjudicated.
    assert rows_of["d0", "consensus"] == {
        "project": "takedowns", "document_id": str(a.doc.pk), "external_id": "d0",
        "coder": "consensus", "status": "needs_review", "assigned_at": "",
        "started_at": "", "done_at": iso(a.state.adjudicated_at), "note": "",
        "adjudicator": "pi", "overlap": "0.9", "override_reason": REASON,
    }  # fmt: skip
    uni = rows_of["unicode", "consensus"]
    assert (uni["status"], uni["done_at"], uni["overlap"]) == ("open", "", "")
    assert AdjudicationState.objects.get(document=a.doc).status == "adjudicated"


def test_assignments_csv_follows_the_coder_and_consensus_filters(adjudicated, tmp_path):
    project = adjudicated.study.project

    def who(**filters):
        path, _ = export(project, "assignments.csv", tmp_path, **filters)
        return [(r["external_id"], r["coder"]) for r in read(path)]

    assert set(who(coder="coder3")) == {("d0", "coder3")}
    assert who(consensus=True) == [("d0", "consensus"), ("unicode", "consensus")]
    both = who(coder="coder3", consensus=True)
    assert both == [("d0", "coder3"), ("d0", "consensus"), ("unicode", "consensus")]
    # Dates select segments, not assignments.
    assert len(who(since="2030-01-01")) == 11


def test_bundles_hold_both_tables_and_the_manifest_lists_them(adjudicated, tmp_path):
    project = adjudicated.study.project
    path, _ = export(project, "bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("MANIFEST.json"))
        readme = z.read("README.txt").decode()
        in_bundle = z.read("consensus.csv")
    assert manifest["files"]["consensus.csv"]["rows"] == 11
    assert manifest["files"]["assignments.csv"]["rows"] == 11
    single, _ = export(project, "consensus.csv", tmp_path)
    assert in_bundle == single.read_bytes()
    assert "consensus.csv: One row per consensus segment" in readme
    assert "assignments.csv: One row per document and coder" in readme
    r_path, _ = export(project, "r_bundle.zip", tmp_path)
    with zipfile.ZipFile(r_path) as z:
        assert {"consensus.csv", "assignments.csv", "load.R"} <= set(z.namelist())
        script = z.read("load.R").decode("ascii")
    assert 'wb_read("consensus.csv"' in script and 'wb_read("assignments.csv"' in script


def test_an_empty_project_has_the_headers_alone(db, tmp_path):
    project = factories.ProjectFactory(slug="empty")
    for name in ("consensus.csv", "assignments.csv"):
        path, rows = export(project, name, tmp_path)
        assert rows == 0 and path.read_text().count("\n") == 1


def api_get(user, name="consensus.csv"):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client.get(f"/api/projects/takedowns/export/{name}")


def test_api_gives_the_pi_the_file_and_others_404(adjudicated, tmp_path):
    a = adjudicated
    response = api_get(a.study.pi)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    assert body == csv_text(CONSENSUS_HEADER, expected_consensus(a))
    notes = api_get(a.study.pi, "assignments.csv")
    assert notes.status_code == 200
    table = csv.DictReader(io.StringIO(b"".join(notes.streaming_content).decode()))
    assert CODER_NOTE in {r["note"] for r in table}
    for user in (a.study.coder1, a.coder3, a.study.outsider):
        assert api_get(user).status_code == 404
        assert api_get(user, "assignments.csv").status_code == 404


def test_export_command_writes_it(adjudicated, tmp_path, capsys):
    out = tmp_path / "c.csv"
    call_command(
        "export", "takedowns", "--format", "consensus.csv", "--output", str(out)
    )
    assert "(11 rows" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8") == csv_text(
        CONSENSUS_HEADER, expected_consensus(adjudicated)
    )


def test_factor_levels_are_the_models_values():
    # load.R's levels are written from these lists: a new decision or status
    # in the models must reach them.
    decisions, statuses = ConsensusSegment.Decision, AdjudicationState.Status
    assert decisions.values == consensus_exporter.DECISIONS
    assert Assignment.Status.values == consensus_exporter.ASSIGNMENT_STATUSES
    assert statuses.values == consensus_exporter.ADJUDICATION_STATUSES


def test_the_csv_line_writer_is_what_the_file_uses():
    # The expected files above are written with csv.writer; CsvLines differs
    # only for a row holding \r (tested above), so the comparison is fair.
    assert CsvLines()(["a", 1, "b,c", 'd"e', "x\ny"]) == csv_text(
        ["a", 1, "b,c", 'd"e', "x\ny"], []
    )


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")
def test_load_r_reads_them_with_types_factors_and_labels(adjudicated, tmp_path):
    path, _ = export(adjudicated.study.project, "r_bundle.zip", tmp_path)
    folder = tmp_path / "r"
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
    (folder / "check.R").write_text(
        r"""
source("load.R", chdir = TRUE)
stopifnot(nrow(consensus) == 11)
stopifnot(is.integer(consensus$segment_id), is.integer(consensus$rejection_id))
stopifnot(is.integer(consensus$start), is.integer(consensus$end))
stopifnot(is.integer(consensus$n_coders), is.integer(consensus$n_source_coders))
stopifnot(is.logical(consensus$sources_changed), sum(consensus$sources_changed) == 1)
stopifnot(sum(is.na(consensus$rejection_id)) == 7)
stopifnot(identical(levels(consensus$decision),
  c("auto", "accept", "accept_all", "adjust", "change_code", "manual", "reject")))
stopifnot(identical(levels(consensus$support),
  c("unanimous", "majority", "half", "minority", "none")))
stopifnot(identical(levels(consensus$coder), wb_coders))
stopifnot(all(levels(consensus$code_path) == codebook$path))
stopifnot(inherits(consensus$decided_at, "POSIXct"))
stopifnot(attr(consensus$decided_at, "tzone") == "UTC", !anyNA(consensus$decided_at))
stopifnot(inherits(consensus$updated_at, "POSIXct"))
stopifnot(grepl("unanimous", attr(consensus$support, "label")))
stopifnot(all(sapply(consensus, function(x) !is.null(attr(x, "label")))))
s <- table(consensus$support[consensus$coder == "consensus"])
stopifnot(s[["unanimous"]] == 1, s[["majority"]] == 3, s[["half"]] == 1,
          s[["minority"]] == 1, s[["none"]] == 1)
r <- table(consensus$decision)
stopifnot(r[["reject"]] == 4, r[["auto"]] == 1, r[["manual"]] == 1)
note <- consensus$note[consensus$decision == "accept" & consensus$external_id == "d0"]
stopifnot(note == "Only coder3 saw it, \"the purge\";\n\u0642\u0646\u0627\u0629 \u0645\u063A\u0644\u0642\u0629 \U0001F389")
stopifnot(consensus$source_coders[consensus$decision == "auto"] == "coder1;coder2;coder3")
stopifnot(nrow(assignments) == 11, is.integer(assignments$document_id))
stopifnot(identical(levels(assignments$status),
  c("todo", "in_progress", "done", "open", "adjudicated", "needs_review")))
stopifnot(identical(levels(assignments$coder), wb_coders))
stopifnot(inherits(assignments$done_at, "POSIXct"), inherits(assignments$assigned_at, "POSIXct"))
stopifnot(is.numeric(assignments$overlap))
stopifnot(assignments$overlap[assignments$coder == "consensus" & assignments$external_id == "d0"] == 0.9)
stopifnot(is.na(assignments$assigned_at[assignments$coder == "consensus"]))
stopifnot(assignments$note[assignments$coder == "coder2" & assignments$external_id == "d0"] ==
  "Hard one, \"IS\" or not?\n\u0633\u0624\u0627\u0644 \U0001F1EA\U0001F1FA")
stopifnot(all(sapply(assignments, function(x) !is.null(attr(x, "label")))))
cat("R OK\n")
""",
        encoding="utf-8",
    )
    for out in rscript_in_locales(folder, "check.R"):
        assert "R OK" in out
        assert "7 consensus segments, 4 rejected segments" in out


def add_decisions(study, n: int) -> None:
    """n consensus segments, each accepted from a coder's segment, and n
    rejected segments, in bulk (the services are tested above)."""
    docs, code = study.documents[:3], study.codes["actor"]

    def segments():
        return Segment.objects.bulk_create(
            [
                Segment(
                    document=docs[i % 3],
                    coder=study.coder1,
                    code=code,
                    start=0,
                    end=7,
                    quote="Europol",
                    memo=f"memo {i}",
                )  # fmt: skip
                for i in range(n)
            ],
            batch_size=2000,
        )

    accepted, rejected = segments(), segments()
    made = ConsensusSegment.objects.bulk_create(
        [
            ConsensusSegment(
                document=s.document,
                code=code,
                start=0,
                end=7,
                quote="Europol",
                decision="accept",
                decided_by=study.pi,
                note=f"note {i}",
            )  # fmt: skip
            for i, s in enumerate(accepted)
        ],
        batch_size=2000,
    )
    ConsensusSegment.sources.through.objects.bulk_create(
        [
            ConsensusSegment.sources.through(consensussegment=c, segment=s)
            for c, s in zip(made, accepted, strict=True)
        ],
        batch_size=2000,
    )
    rejections = ConsensusRejection.objects.bulk_create(
        [
            ConsensusRejection(document=s.document, decided_by=study.pi)
            for s in rejected
        ],
        batch_size=2000,
    )
    ConsensusRejection.sources.through.objects.bulk_create(
        [
            ConsensusRejection.sources.through(consensusrejection=r, segment=s)
            for r, s in zip(rejections, rejected, strict=True)
        ],
        batch_size=2000,
    )


@pytest.mark.slow
def test_memory_does_not_grow_with_decisions(study, tmp_path, monkeypatch):
    # Batches of 100 rows, so both runs below hold full batches and full
    # server-side cursor chunks (PostgreSQL): what remains is what grows.
    monkeypatch.setattr(consensus_export, "BATCH", 100)

    def peak() -> tuple[int, int]:
        filt = exports.export_filter_build(project=study.project)
        tracemalloc.start()
        try:
            rows = exports.export_write(
                project=study.project, name="consensus.csv", filt=filt,
                path=tmp_path / "c.csv",
            )  # fmt: skip
            return rows, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    add_decisions(study, 300)
    rows, small = peak()
    assert rows == 600
    add_decisions(study, 2_700)
    rows, large = peak()
    assert rows == 6_000
    # Ten times the rows; a list of them would need ten times the memory
    # (about 2 MB more here).
    assert large < small * 1.25 + 200_000, (small, large)
