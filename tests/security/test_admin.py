"""The admin cannot bypass the services: a coded document's text stays as it
is, and coded data, the codebook, adjudication and the history are only
inspected there (no add, change or delete, no bulk delete action)."""

import pytest
from django.core.exceptions import ValidationError

from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusRejection,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Project,
    Segment,
)
from annotations.services import coding
from tests import factories

NEW_TEXT = "A different article altogether, with other words at every offset."


@pytest.fixture
def coded(study):
    """The study with one coded document (a segment, a consensus segment, a
    rejection and an adjudication state) and one document nobody has coded."""
    doc = study.documents[0]
    segment, _ = coding.segment_create(
        document=doc, coder=study.coder1, code=study.codes["actor"],
        start=0, end=7, quote=doc.text[0:7],
    )  # fmt: skip
    consensus = ConsensusSegment.objects.create(
        document=doc, code=study.codes["actor"], start=0, end=7,
        quote=doc.text[0:7], decision=ConsensusSegment.Decision.ACCEPT,
        decided_by=study.pi,
    )  # fmt: skip
    rejection = ConsensusRejection.objects.create(document=doc, decided_by=study.pi)
    AdjudicationState.objects.create(document=doc, adjudicator=study.pi)
    study.segment, study.consensus, study.rejection = segment, consensus, rejection
    study.coded, study.uncoded = doc, study.documents[1]
    return study


def change_url(obj) -> str:
    return f"/admin/annotations/{obj._meta.model_name}/{obj.pk}/change/"


def delete_url(obj) -> str:
    return f"/admin/annotations/{obj._meta.model_name}/{obj.pk}/delete/"


def document_form(doc: Document, **changes) -> dict:
    data = {
        "external_id": doc.external_id, "title": doc.title, "source": doc.source,
        "url": doc.url, "published": "", "metadata": "{}", "text": doc.text,
        "_save": "Save",
    }  # fmt: skip
    return data | changes


def test_a_coded_documents_text_is_shown_read_only(admin_client, coded):
    body = admin_client.get(change_url(coded.coded)).content.decode()
    assert 'name="title"' in body
    assert 'name="text"' not in body and 'name="external_id"' not in body
    assert coded.coded.text[:40] in body  # shown, as text
    assert "delete/" not in body  # no delete link either


def test_an_uncoded_documents_text_is_editable(admin_client, coded):
    body = admin_client.get(change_url(coded.uncoded)).content.decode()
    assert 'name="text"' in body and 'name="external_id"' in body
    assert 'name="project"' not in body  # its codes and history stay in its project


def test_posting_a_new_text_for_a_coded_document_keeps_the_text(admin_client, coded):
    doc = coded.coded
    before = (doc.text, doc.checksum, doc.external_id, doc.project_id)
    title = doc.title
    other = factories.ProjectFactory(slug="elsewhere")
    response = admin_client.post(
        change_url(doc),
        document_form(doc, title="Retitled", text=NEW_TEXT, external_id="moved",
                      project=other.pk),
    )  # fmt: skip
    assert response.status_code == 302
    doc.refresh_from_db()
    assert (doc.text, doc.checksum, doc.external_id, doc.project_id) == before
    assert doc.title == "Retitled"  # the description can still be edited
    event = HistoryEvent.objects.get(entity="document", action="update")
    assert event.via == "admin" and event.entity_id == doc.pk
    assert (event.before, event.after) == ({"title": title}, {"title": "Retitled"})


def test_an_uncoded_documents_new_text_is_stored_as_imports_store_it(
    admin_client, coded
):
    doc = coded.uncoded
    old_checksum = doc.checksum
    text = " Line one\r\nLine two\r\n"
    response = admin_client.post(change_url(doc), document_form(doc, text=text))
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.text == " Line one\nLine two\n" and doc.length == len(doc.text)
    event = HistoryEvent.objects.get(entity="document", action="update")
    assert event.before == {"checksum": old_checksum}
    assert event.after == {"checksum": doc.checksum}


def test_saving_an_uncoded_document_unchanged_keeps_its_text(admin_client, coded):
    doc = coded.uncoded
    doc.text = "Ends with a newline\nand a space \n"
    doc.save()
    # What a browser sends back: CRLF in the textarea.
    form = document_form(doc, text=doc.text.replace("\n", "\r\n"))
    assert admin_client.post(change_url(doc), form).status_code == 302
    assert Document.objects.get(pk=doc.pk).text == "Ends with a newline\nand a space \n"
    assert not HistoryEvent.objects.filter(entity="document").exists()


def test_documents_are_not_added_in_the_admin(admin_client, coded):
    assert admin_client.get("/admin/annotations/document/add/").status_code == 403


def test_a_coded_document_cannot_be_deleted(admin_client, coded):
    doc = coded.coded
    for send in (admin_client.get, admin_client.post):
        response = send(delete_url(doc), {"post": "yes"}, follow=True)
        assert response.redirect_chain[-1][0] == change_url(doc)
        assert "This document is coded" in response.content.decode()
    bulk = admin_client.post(
        "/admin/annotations/document/",
        {"action": "delete_selected", "_selected_action": [doc.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert Document.objects.filter(pk=doc.pk).exists()
    assert Segment.objects.filter(pk=coded.segment.pk).exists()


def test_an_assigned_document_cannot_be_deleted_either(admin_client, coded):
    doc = coded.uncoded  # both coders have it
    page = admin_client.get(delete_url(doc)).content.decode()
    assert "permission to delete" in page and "assignment" in page
    assert admin_client.post(delete_url(doc), {"post": "yes"}).status_code == 403
    assert Assignment.objects.filter(document=doc).count() == 2


def test_an_unused_document_is_deleted_with_a_history_event(admin_client, coded):
    doc = factories.DocumentFactory(project=coded.project, external_id="stray")
    response = admin_client.post(delete_url(doc), {"post": "yes"})
    assert response.status_code == 302
    assert not Document.objects.filter(pk=doc.pk).exists()
    event = HistoryEvent.objects.get(entity="document", action="delete")
    assert (event.entity_id, event.via) == (doc.pk, "admin")
    assert event.before["external_id"] == "stray"


def test_a_project_with_coded_data_cannot_be_deleted(admin_client, coded):
    project = coded.project
    page = admin_client.get(f"/admin/annotations/project/{project.pk}/delete/")
    assert "permission to delete" in page.content.decode()
    response = admin_client.post(
        f"/admin/annotations/project/{project.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code in (200, 403)  # the refusal page again, or 403
    assert Project.objects.filter(pk=project.pk).exists()
    assert Segment.objects.filter(document__project=project).count() == 1


INSPECT_ONLY = ["segment", "consensus", "rejection", "history", "state", "assignment",
                "code"]  # fmt: skip


def _row(coded, name):
    return {
        "segment": coded.segment,
        "consensus": coded.consensus,
        "rejection": coded.rejection,
        "history": HistoryEvent.objects.filter(entity="segment").first(),
        "state": coded.coded.adjudication,
        "assignment": Assignment.objects.filter(document=coded.coded).first(),
        "code": coded.codes["platform"],  # unused: only the admin stops it
    }[name]


@pytest.mark.parametrize("name", INSPECT_ONLY)
def test_coded_data_is_only_inspected(admin_client, coded, name):
    obj = _row(coded, name)
    model = type(obj)
    snapshot = model.objects.filter(pk=obj.pk).values().get()
    base = f"/admin/annotations/{model._meta.model_name}/"
    # Shown, as a read-only page.
    view = admin_client.get(change_url(obj))
    assert view.status_code == 200
    assert 'type="submit"' not in view.content.decode().split('id="content"')[1]
    assert admin_client.post(change_url(obj), {}).status_code == 403
    assert admin_client.get(delete_url(obj)).status_code == 403
    assert admin_client.post(delete_url(obj), {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{base}add/").status_code == 403
    listing = admin_client.get(base).content.decode()
    assert "delete_selected" not in listing
    admin_client.post(
        base, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=obj.pk).values().get() == snapshot


def test_the_agreement_cache_can_only_be_cleared(admin_client, coded):
    assert admin_client.get("/admin/annotations/agreementcache/add/").status_code == 403


def test_a_coded_documents_text_cannot_be_saved_changed(coded):
    doc = Document.objects.get(pk=coded.coded.pk)
    doc.text = NEW_TEXT
    with pytest.raises(ValidationError, match="never changes"):
        doc.save()
    doc.save(update_fields=["title"])  # the text is not written
    doc = Document.objects.get(pk=coded.coded.pk)
    doc.title = "Retitled"
    doc.save()  # the same text: fine
    assert Document.objects.get(pk=doc.pk).text == coded.coded.text


def test_a_deleted_segment_still_fixes_the_text(coded):
    doc = coded.uncoded
    segment, _ = coding.segment_create(
        document=doc, coder=coded.coder1, code=coded.codes["actor"],
        start=0, end=7, quote=doc.text[0:7],
    )  # fmt: skip
    coding.segment_delete(segment=segment, actor=coded.coder1)
    doc.text = NEW_TEXT
    with pytest.raises(ValidationError):
        doc.save()


def test_an_uncoded_documents_text_can_be_saved_changed(coded):
    doc = coded.uncoded
    doc.text = NEW_TEXT
    doc.save()
    doc.refresh_from_db()
    assert (doc.text, doc.length) == (NEW_TEXT, len(NEW_TEXT))
