"""The history pages and the audit trail: one HistoryEvent row per change,
whichever way the change came (page, command, API)."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from annotations.models import Assignment, HistoryEvent, Segment
from annotations.services import adjudication as svc
from annotations.services.coding import segment_delete
from tests.factories import PASSWORD

HX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def pi(client, disputed):
    return login(client, disputed.study.pi)


def reopen(d, coder):
    Assignment.objects.filter(document=d.doc, coder=coder).update(status="in_progress")


@pytest.fixture
def with_history(disputed):
    d = disputed
    svc.adjudication_start(document=d.doc, actor=d.study.pi)  # 1 + 2 rows by pi
    reopen(d, d.study.coder1)
    segment_delete(segment=d.missing, actor=d.study.coder1)  # 1 row by coder1
    return d


def test_history_page_filters_by_person_date_and_document(pi, with_history):
    d = with_history
    url = reverse("history", args=["takedowns"])
    html = pi.get(url).content.decode()
    assert "consensus" in html and "coder1" in html and "Restore" in html
    only_coder1 = pi.get(url + "?user=coder1").content.decode()
    assert "Deleted segment" in only_coder1 and "Created consensus" not in only_coder1
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert "No change matches" in pi.get(url + f"?since={tomorrow}").content.decode()
    today = timezone.localdate().isoformat()
    assert (
        "Created consensus"
        in pi.get(url + f"?since={today}&until={today}").content.decode()
    )
    r = pi.get(url + f"?since={tomorrow}&until={today}")
    assert r.status_code == 400 and "after the end date" in r.content.decode()
    assert pi.get(url + "?since=yesterday").status_code == 400
    other = d.study.documents[1]
    doc_page = pi.get(reverse("history_document", args=["takedowns", other.pk]))
    assert (
        doc_page.status_code == 200 and "No change matches" in doc_page.content.decode()
    )
    doc_page = pi.get(reverse("history_document", args=["takedowns", d.doc.pk]))
    assert "Deleted segment" in doc_page.content.decode()


def test_history_csv_export(pi, with_history):
    d = with_history
    r = pi.get(reverse("history_export", args=["takedowns"]) + f"?document={d.doc.pk}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert len(rows) == HistoryEvent.objects.filter(document=d.doc).count() == 4
    deleted = next(row for row in rows if row["action"] == "delete")
    assert deleted["user"] == "coder1" and deleted["entity"] == "segment"
    assert deleted["document_external_id"] == d.doc.external_id
    assert '"deleted": true' in deleted["after"]
    r = pi.get(reverse("history_export", args=["takedowns"]) + "?user=nobody")
    assert len(b"".join(r.streaming_content).decode().strip().splitlines()) == 1
    assert (
        pi.get(reverse("history_export", args=["takedowns"]) + "?since=x").status_code
        == 400
    )


def test_pi_restores_a_deleted_segment_from_the_history(pi, with_history):
    d = with_history
    event = HistoryEvent.objects.get(entity="segment", action="delete")
    r = pi.post(reverse("history_restore", args=["takedowns", event.pk]))
    assert r.status_code == 302
    d.missing.refresh_from_db()
    assert d.missing.deleted_at is None
    restore = HistoryEvent.objects.get(entity="segment", action="restore")
    assert restore.user == d.study.pi and restore.entity_id == d.missing.pk
    # A second restore changes nothing.
    n = HistoryEvent.objects.count()
    assert (
        pi.post(reverse("history_restore", args=["takedowns", event.pk])).status_code
        == 302
    )
    assert HistoryEvent.objects.count() == n
    # Only deletions can be restored.
    create = HistoryEvent.objects.filter(entity="consensus", action="create").first()
    assert (
        pi.post(reverse("history_restore", args=["takedowns", create.pk])).status_code
        == 404
    )


def test_restoring_consensus_of_an_adjudicated_document_is_refused(pi, with_history):
    d = with_history
    consensus = d.doc.consensus_segments.first()
    svc.consensus_delete(consensus=consensus, actor=d.study.pi)
    for g in svc.adjudication_data(d.doc).disagreements:
        svc.consensus_reject(
            document=d.doc, actor=d.study.pi, segment_ids=g.segment_ids
        )
    svc.adjudication_mark(
        document=d.doc, actor=d.study.pi, override_reason="coder1 on leave"
    )
    event = HistoryEvent.objects.get(entity="consensus", action="delete")
    r = pi.post(reverse("history_restore", args=["takedowns", event.pk]))
    assert r.status_code == 400 and "reopen" in r.content.decode()
    consensus.refresh_from_db()
    assert consensus.deleted_at is not None


def delta(before: int) -> list[tuple[str, str, str]]:
    return list(
        HistoryEvent.objects.order_by("id")[before:].values_list(
            "entity", "action", "via"
        )
    )


def test_every_mutation_through_pages_and_commands_is_one_history_row(
    client, disputed, tmp_path
):
    d = disputed
    slug = "takedowns"
    login(client, d.study.pi)

    def step(call) -> list[tuple[str, str, str]]:
        n = HistoryEvent.objects.count()
        call()
        return delta(n)

    # Pages.
    assert step(lambda: client.post(reverse("code_create", args=[slug]), {
        "name": "outcome", "color": "#aabbcc", "key": "o"})) == [("code", "create", "web")]  # fmt: skip
    newcomer = d.study.documents[2]
    Assignment.objects.filter(document=newcomer, coder=d.study.coder2).delete()
    cells = [f"{newcomer.pk}:{d.study.coder1.pk}", f"{newcomer.pk}:{d.study.coder2.pk}"]
    assert step(lambda: client.post(reverse("assignments_save", args=[slug]), {
        "docs": [newcomer.pk], "cell": cells})) == [("assignment", "create", "web")]  # fmt: skip
    adj = lambda name, *a: reverse(name, args=[slug, d.doc.pk, *a])  # noqa: E731
    assert step(lambda: client.post(adj("adjudicate_start"))) == [
        ("adjudication", "create", "web"), ("consensus", "create", "web"),
        ("consensus", "create", "web"),
    ]  # fmt: skip
    ids = {"segments": [s.pk for s in d.boundary]}
    assert step(lambda: client.post(adj("adjudicate_decide"), {**ids, "action": "accept_all"})) == [
        ("consensus", "create", "web"), ("consensus", "create", "web")]  # fmt: skip
    assert step(lambda: client.post(adj("adjudicate_decide"), {**ids, "action": "undo"})) == [
        ("consensus", "delete", "web"), ("consensus", "delete", "web")]  # fmt: skip
    for g in svc.adjudication_data(d.doc).disagreements:
        assert step(lambda g=g: client.post(adj("adjudicate_decide"), {
            "segments": g.segment_ids, "action": "reject"})) == [("rejection", "create", "web")]  # fmt: skip
    assert step(lambda: client.post(adj("adjudicate_status"), {"action": "mark"})) == [
        ("adjudication", "update", "web")]  # fmt: skip
    reopen(d, d.study.coder1)
    segment_delete(segment=d.code[0], actor=d.study.coder1)
    event = HistoryEvent.objects.get(entity="segment", action="delete")
    assert step(lambda: client.post(reverse("history_restore", args=[slug, event.pk]))) == [
        ("segment", "restore", "web")]  # fmt: skip

    # Commands.
    book = tmp_path / "codebook.csv"
    book.write_text("name,color\nskepticism,#ff0000\n", encoding="utf-8")
    assert step(lambda: call_command("import_codebook", slug, str(book), stdout=io.StringIO())) == [
        ("code", "create", "command")]  # fmt: skip
    segs = tmp_path / "segments.csv"
    segs.write_text(
        f"document,coder,code,start,end\n{newcomer.external_id},coder1,actor,0,7\n"
    )
    assert step(lambda: call_command("import_segments", slug, str(segs), stdout=io.StringIO())) == [
        ("segment", "create", "command")]  # fmt: skip
    third = d.study.documents[1]
    Assignment.objects.filter(document=third, coder=d.study.coder2).delete()
    assert step(lambda: call_command(
        "assign", slug, "--coders", "coder2", "--documents", third.external_id,
        stdout=io.StringIO())) == [("assignment", "create", "command")]  # fmt: skip
    Assignment.objects.filter(document=newcomer).update(status="done")
    assert step(lambda: call_command(
        "adjudicate", slug, "--auto", "--documents", newcomer.external_id,
        stdout=io.StringIO())) == [("adjudication", "create", "command")]  # fmt: skip


def test_api_mutations_are_history_rows_too(client, disputed):
    """Runs once the REST API has a segments endpoint."""
    d = disputed
    try:
        url = reverse("api_segment-list", args=["takedowns"])
    except NoReverseMatch:
        pytest.skip("the REST API has no segments endpoint yet")
    login(client, d.study.coder1)
    doc = d.study.documents[1]
    n = HistoryEvent.objects.count()
    r = client.post(url, {"document": doc.pk, "code": d.study.codes["actor"].pk, "start": 0,
                          "end": 7, "quote": "Europol"}, content_type="application/json")  # fmt: skip
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    detail = reverse("api_segment-detail", args=["takedowns", pk])
    assert client.delete(detail).status_code in (200, 204)
    assert delta(n)[-2:] == [("segment", "create", "api"), ("segment", "delete", "api")]
    assert Segment.objects.get(pk=pk).deleted_at is not None


def test_import_segments_mark_done_records_the_status_change(disputed, tmp_path):
    d = disputed
    doc = d.study.documents[1]
    segs = tmp_path / "segments.csv"
    segs.write_text(
        f"document,coder,code,start,end\n{doc.external_id},coder1,actor,0,7\n"
    )
    n = HistoryEvent.objects.count()
    call_command(
        "import_segments", "takedowns", str(segs), "--mark-done", stdout=io.StringIO()
    )
    assert ("assignment", "update", "command") in delta(n)
