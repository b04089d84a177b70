"""The coder's note on an article (Assignment.note): written on the coding
page, by htmx or a plain POST, read by the PI on the adjudication page."""

import pytest

from annotations.models import Assignment, HistoryEvent, Segment
from annotations.services import coding as services
from tests.web.test_coding import HX, assert_fragment, page_url

EVIL = "<script>alert('note')</script> & more"


def mine(study, doc, coder=None) -> Assignment:
    return Assignment.objects.get(document=doc, coder=coder or study.coder1)


def post_note(client, study, doc, note, *, htmx=True):
    return client.post(
        page_url(study, doc, "note/"), {"note": note}, headers=HX if htmx else {}
    )


def test_page_offers_the_note_form_with_the_saved_note(client, coder, study, doc):
    Assignment.objects.filter(document=doc, coder=study.coder1).update(note="seen")
    body = client.get(page_url(study, doc)).content.decode()
    assert 'id="doc-note"' in body and "Note on this article" in body
    assert f'action="{page_url(study, doc, "note/")}"' in body
    assert 'data-queue="note"' in body and 'maxlength="5000"' in body
    assert ">seen</textarea>" in body


def test_htmx_post_saves_and_returns_the_note_region(client, coder, study, doc):
    response = post_note(client, study, doc, "Line one\r\nline two")
    assert response.status_code == 200
    body = assert_fragment(response, "doc-note", "status")
    assert 'hx-swap-oob="true"' in body and "Saved your note." in body
    # Only what a note changes: not the text, the segments or the codebook.
    assert 'id="text-block"' not in body and 'id="codebook"' not in body
    assert mine(study, doc).note == "Line one\nline two"
    assert ">Line one\nline two</textarea>" in body
    # The other coder's note is untouched.
    assert mine(study, doc, study.coder2).note == ""


def test_plain_post_redirects_back_and_saves(client, coder, study, doc):
    response = post_note(client, study, doc, "Opinion piece, not news.", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == page_url(study, doc)
    assert mine(study, doc).note == "Opinion piece, not news."
    page = client.get(response["Location"]).content.decode()
    assert "Saved your note." in page
    assert ">Opinion piece, not news.</textarea>" in page


def test_csrf_is_required(study, doc):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(study.coder1)
    assert post_note(client, study, doc, "no token").status_code == 403
    assert mine(study, doc).note == ""


def test_history_records_the_change_with_before_and_after(client, coder, study, doc):
    post_note(client, study, doc, "first")
    post_note(client, study, doc, "second")
    post_note(client, study, doc, "second")  # a retry: no new event
    events = list(
        HistoryEvent.objects.filter(entity="assignment", entity_id=mine(study, doc).pk)
        .order_by("pk")
        .values_list("before", "after", "user", "document", "action")
    )
    assert events == [
        ({"note": ""}, {"note": "first", "coder": study.coder1.pk},
         study.coder1.pk, doc.pk, "update"),
        ({"note": "first"}, {"note": "second", "coder": study.coder1.pk},
         study.coder1.pk, doc.pk, "update"),
    ]  # fmt: skip


@pytest.mark.parametrize("htmx", [True, False])
def test_too_long_is_refused_with_a_message_and_nothing_changes(
    client, coder, study, doc, htmx
):
    Assignment.objects.filter(document=doc, coder=study.coder1).update(note="kept")
    limit = services.ASSIGNMENT_NOTE_MAX_LENGTH
    response = post_note(client, study, doc, "x" * (limit + 1), htmx=htmx)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The note was not saved." in body
    assert "5,001 characters long; the limit is 5,000." in body
    if htmx:
        # The status bar only: the text being typed stays in the browser.
        assert_fragment(response, "status")
        assert 'id="doc-note"' not in body
    else:
        # The page again, with the coder's text to shorten.
        assert "<html" in body and "x" * (limit + 1) + "</textarea>" in body
    assert mine(study, doc).note == "kept"
    assert not HistoryEvent.objects.filter(entity="assignment").exists()
    # Exactly the limit is fine.
    assert post_note(client, study, doc, "é" * limit).status_code == 200
    assert mine(study, doc).note == "é" * limit


@pytest.mark.parametrize("who", ["coder2", "outsider", "pi"])
def test_others_get_404_and_nothing_changes(client, study, doc, who):
    """Blind coding: another coder, an outsider, and a PI who is not coding
    the article (no assignment, so no note to write) all get 404."""
    Assignment.objects.filter(document=doc, coder=study.coder1).update(note="mine")
    other = doc if who != "coder2" else study.documents[1]
    Assignment.objects.filter(document=other, coder=study.coder2).delete()
    client.force_login(getattr(study, who))
    for htmx in (True, False):
        assert (
            post_note(client, study, other, "overwritten", htmx=htmx).status_code == 404
        )
    assert mine(study, doc).note == "mine"
    assert not Assignment.objects.filter(note="overwritten").exists()
    assert not HistoryEvent.objects.exists()


def test_another_coder_never_sees_the_note(client, study, doc):
    Assignment.objects.filter(document=doc, coder=study.coder1).update(
        note="secret thoughts"
    )
    client.force_login(study.coder2)
    body = client.get(page_url(study, doc)).content.decode()
    assert 'id="doc-note"' in body and "secret thoughts" not in body
    post_note(client, study, doc, "coder2's own")
    assert mine(study, doc).note == "secret thoughts"
    assert mine(study, doc, study.coder2).note == "coder2's own"


def test_anonymous_is_sent_to_login(client, study, doc):
    response = post_note(client, study, doc, "anon", htmx=False)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert mine(study, doc).note == ""


def test_done_locks_the_note_like_the_segments_until_reopened(
    client, coder, study, doc
):
    post_note(client, study, doc, "before done")
    assert client.post(page_url(study, doc, "done/")).status_code == 302
    page = client.get(page_url(study, doc)).content.decode()
    assert "before done" in page and 'name="note"' not in page
    response = post_note(client, study, doc, "after done")
    assert response.status_code == 400 and "reopen it" in response.content.decode()
    assert mine(study, doc).note == "before done"
    # Reopening brings the form back (its region is in the answer).
    response = client.post(page_url(study, doc, "reopen/"), headers=HX)
    assert 'name="note"' in assert_fragment(response, "doc-note", "work-state")
    assert post_note(client, study, doc, "after reopen").status_code == 200
    assert mine(study, doc).note == "after reopen"


def test_note_is_escaped_for_the_coder(client, coder, study, doc):
    body = assert_fragment(post_note(client, study, doc, EVIL), "doc-note")
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt; &amp; more" in body
    page = client.get(page_url(study, doc)).content.decode()
    assert "<script>alert('note')" not in page
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page
    # Read only once done: still escaped.
    client.post(page_url(study, doc, "done/"))
    page = client.get(page_url(study, doc)).content.decode()
    assert "<script>alert('note')" not in page
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page


def test_pi_reads_each_coders_note_escaped_on_the_adjudication_page(client, study, doc):
    services.assignment_note_set(assignment=mine(study, doc), note=EVIL,
                                 actor=study.coder1)  # fmt: skip
    services.assignment_note_set(
        assignment=mine(study, doc, study.coder2), note="Paywalled.",
        actor=study.coder2,
    )  # fmt: skip
    client.force_login(study.pi)
    response = client.get(f"/p/{study.project.slug}/adjudicate/{doc.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert('note')" not in body
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt; &amp; more" in body
    assert "Paywalled." in body
    # Read only there: no form posts a note.
    assert "note/" not in body.replace("/adjudicate/", "")


def test_page_query_cap_holds_with_a_note(
    client, coder, study, django_assert_max_num_queries
):
    doc = study.documents[1]
    services.assignment_note_set(assignment=mine(study, doc), note="n" * 5_000,
                                 actor=study.coder1)  # fmt: skip
    Segment.objects.bulk_create(
        Segment(document=doc, coder=study.coder1, code=study.codes["actor"],
                start=i, end=i + 5, quote=doc.text[i : i + 5])
        for i in range(20)
    )  # fmt: skip
    with django_assert_max_num_queries(7):
        response = client.get(page_url(study, doc))
    assert response.status_code == 200
    assert "n" * 5_000 + "</textarea>" in response.content.decode()


def test_saving_a_note_costs_a_fixed_handful_of_queries(
    client, coder, study, doc, django_assert_max_num_queries
):
    """Session, user, project with the role, assignment with the document,
    the locked assignment, its update and history row, 2 savepoint
    statements, and the codebook and the coder's segments that the page's
    context reads for every answer: 11. No progress (not in the answer)."""
    with django_assert_max_num_queries(11):
        assert post_note(client, study, doc, "cheap").status_code == 200
