"""Redo on the coding page: what Undo reverted comes back through the same
services (history rows, done-lock, stale versions, own segments only), a new
change clears it, and it answers htmx with fragments and plain forms with a
redirect."""

import pytest

from annotations.models import Assignment, HistoryEvent, Segment
from annotations.services import coding as services
from annotations.services.errors import ConflictError
from annotations.views.coding import REDO_KEY, UNDO_KEY
from tests.web.test_coding import HX, assert_fragment, create, page_url


def edit(client, study, doc, segment, **data):
    return client.post(
        page_url(study, doc, f"segments/{segment.pk}/edit/"), data, headers=HX
    )


def undo(client, study, doc, htmx=True):
    return client.post(page_url(study, doc, "undo/"), headers=HX if htmx else {})


def redo(client, study, doc, htmx=True):
    return client.post(page_url(study, doc, "redo/"), headers=HX if htmx else {})


def actions(segment):
    """The segment's history, oldest first: (action, user id, before, after)."""
    return [
        (e.action, e.user_id, e.before, e.after)
        for e in HistoryEvent.objects.filter(
            entity="segment", entity_id=segment.pk
        ).order_by("pk")
    ]


def frozen():
    """Everything a refused redo must leave as it was."""
    return (
        list(Segment.objects.order_by("pk").values()),
        HistoryEvent.objects.count(),
    )


# ---------------------------------------------------------------- each step


def test_redo_brings_back_an_undone_create(client, coder, study, doc):
    assert create(client, study, doc, study.codes["actor"], 0, 7).status_code == 201
    seg = Segment.objects.get()
    body = assert_fragment(undo(client, study, doc), "status", "text-block")
    assert f'data-segs="{seg.pk}"' not in body
    # The status bar offers Redo, under its own key, named for the change.
    assert 'id="redo-button"' in body and "Redo: add actor “Europol”" in body
    assert 'aria-keyshortcuts="Control+Shift+Z Control+Y Meta+Shift+Z"' in body
    assert page_url(study, doc, "redo/") in body

    response = redo(client, study, doc)
    assert response.status_code == 200
    body = assert_fragment(response, "status", "text-block", "segment-list", "panel")
    assert "Redone: add actor “Europol”" in body
    assert f'data-segs="{seg.pk}"' in body
    # Undo offers the step again; nothing is left to redo.
    assert "Undo: add actor" in body and 'id="redo-button"' not in body
    seg.refresh_from_db()
    assert (seg.deleted_at, seg.start, seg.end, seg.quote) == (None, 0, 7, "Europol")
    assert [(a, u) for a, u, *_ in actions(seg)] == [
        ("create", coder.pk), ("delete", coder.pk), ("restore", coder.pk),
    ]  # fmt: skip
    assert actions(seg)[-1][2]["deleted"] and not actions(seg)[-1][3]["deleted"]
    # And round again: undo, redo.
    undo(client, study, doc)
    redo(client, study, doc)
    seg.refresh_from_db()
    assert seg.deleted_at is None
    assert [a for a, *_ in actions(seg)][-2:] == ["delete", "restore"]


def test_redo_deletes_again_an_undone_delete(client, coder, study, doc, seg):
    client.post(
        page_url(study, doc, f"segments/{seg.pk}/delete/"), {"version": 1}, headers=HX
    )
    undo(client, study, doc)
    seg.refresh_from_db()
    assert seg.deleted_at is None
    body = assert_fragment(redo(client, study, doc), "text-block", "status")
    assert "Redone: delete actor" in body and f'data-segs="{seg.pk}"' not in body
    seg.refresh_from_db()
    assert seg.deleted_at is not None and seg.version == 4
    assert [a for a, *_ in actions(seg)] == ["create", "delete", "restore", "delete"]


def test_redo_reapplies_a_code_change(client, coder, study, doc, seg):
    actor, platform = study.codes["actor"], study.codes["platform"]
    edit(client, study, doc, seg, code=platform.pk, version=1)
    undo(client, study, doc)
    seg.refresh_from_db()
    assert seg.code_id == actor.pk
    body = assert_fragment(redo(client, study, doc), "segment-list", "status")
    assert "Redone: change platform" in body
    seg.refresh_from_db()
    assert seg.code_id == platform.pk and seg.version == 4
    *_, (action, user, before, after) = actions(seg)
    assert (action, user) == ("update", coder.pk)
    assert (before["code"], after["code"]) == (actor.pk, platform.pk)


def test_redo_reapplies_a_memo_change(client, coder, study, doc, seg):
    edit(client, study, doc, seg, memo="Named as\nthe agency.", version=1)
    undo(client, study, doc)
    seg.refresh_from_db()
    assert seg.memo == ""
    redo(client, study, doc)
    seg.refresh_from_db()
    assert seg.memo == "Named as\nthe agency."
    *_, (action, _user, before, after) = actions(seg)
    assert (action, before["memo"], after["memo"]) == (
        "update", "", "Named as\nthe agency.",
    )  # fmt: skip


def test_redo_replays_several_undone_steps_in_order(client, coder, study, doc):
    actor, platform = study.codes["actor"], study.codes["platform"]
    create(client, study, doc, actor, 0, 7)
    seg = Segment.objects.get()
    edit(client, study, doc, seg, code=platform.pk, memo="note", version=1)
    client.post(
        page_url(study, doc, f"segments/{seg.pk}/delete/"), {"version": 2}, headers=HX
    )
    for _ in range(3):
        assert undo(client, study, doc).status_code == 200
    seg.refresh_from_db()
    assert seg.deleted_at is not None and (seg.code_id, seg.memo) == (actor.pk, "")
    assert len(client.session[REDO_KEY][str(doc.pk)]) == 3
    redo(client, study, doc)  # create -> restored
    seg.refresh_from_db()
    assert seg.deleted_at is None and (seg.code_id, seg.memo) == (actor.pk, "")
    redo(client, study, doc)  # change -> platform, "note"
    seg.refresh_from_db()
    assert (seg.code_id, seg.memo) == (platform.pk, "note")
    redo(client, study, doc)  # delete -> deleted
    seg.refresh_from_db()
    assert seg.deleted_at is not None
    assert len(client.session[UNDO_KEY][str(doc.pk)]) == 3
    assert client.session[REDO_KEY][str(doc.pk)] == []
    # Back where it was before the undos; Undo walks back again.
    assert [a for a, *_ in actions(seg)] == [
        "create", "update", "delete",  # the changes
        "restore", "update", "delete",  # three undos
        "restore", "update", "delete",  # three redos
    ]  # fmt: skip
    undo(client, study, doc)
    seg.refresh_from_db()
    assert seg.deleted_at is None and seg.memo == "note"


def test_redo_replays_steps_on_two_segments_interleaved(client, coder, study, doc):
    """Each redo step expects the version its segment is at once the steps
    above it are redone, whichever segments those were."""
    actor, action = study.codes["actor"], study.codes["action"]
    create(client, study, doc, actor, 0, 7)
    create(client, study, doc, action, 8, 19)
    a, b = Segment.objects.order_by("start")
    edit(client, study, doc, a, memo="a1", version=1)
    edit(client, study, doc, b, memo="b1", version=1)
    edit(client, study, doc, a, memo="a2", version=2)
    for _ in range(5):
        assert undo(client, study, doc).status_code == 200
    assert not Segment.objects.filter(deleted_at__isnull=True).exists()
    for _ in range(5):
        assert redo(client, study, doc).status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.deleted_at, a.memo, b.deleted_at, b.memo) == (None, "a2", None, "b1")
    assert redo(client, study, doc).status_code == 409


def test_restore_refuses_a_stale_version(study, doc, seg):
    services.segment_delete(segment=seg, actor=study.coder1)
    with pytest.raises(ConflictError):
        services.segment_restore(segment=seg, actor=study.coder1, expected_version=1)
    seg.refresh_from_db()
    assert seg.deleted_at is not None
    restored = services.segment_restore(
        segment=seg, actor=study.coder1, expected_version=2
    )
    assert restored.deleted_at is None and restored.version == 3
    # Restoring twice is no conflict, whatever version the retry names.
    again = services.segment_restore(
        segment=seg, actor=study.coder1, expected_version=2
    )
    assert again.version == 3


# ---------------------------------------------------------------- clearing


def test_a_new_change_clears_redo(client, coder, study, doc):
    actor = study.codes["actor"]
    create(client, study, doc, actor, 0, 7)
    first = Segment.objects.get()
    undo(client, study, doc)
    assert client.session[REDO_KEY][str(doc.pk)]
    body = assert_fragment(create(client, study, doc, actor, 8, 19), "status")
    assert 'id="redo-button"' not in body
    assert str(doc.pk) not in client.session[REDO_KEY]
    before = frozen()
    response = redo(client, study, doc)
    assert response.status_code == 409
    assert "Nothing to redo." in assert_fragment(response, "status")
    assert frozen() == before
    first.refresh_from_db()
    assert first.deleted_at is not None


@pytest.mark.parametrize("change", ["update", "delete"])
def test_an_edit_or_delete_clears_redo_too(client, coder, study, doc, seg, change):
    edit(client, study, doc, seg, memo="one", version=1)
    undo(client, study, doc)
    seg.refresh_from_db()
    if change == "update":
        response = edit(client, study, doc, seg, memo="two", version=seg.version)
    else:
        response = client.post(
            page_url(study, doc, f"segments/{seg.pk}/delete/"),
            {"version": seg.version},
            headers=HX,
        )
    assert 'id="redo-button"' not in assert_fragment(response, "status")
    assert str(doc.pk) not in client.session[REDO_KEY]
    response = redo(client, study, doc)
    assert response.status_code == 409 and "Nothing to redo." in assert_fragment(
        response
    )
    seg.refresh_from_db()
    assert seg.memo == ("two" if change == "update" else "")


def test_what_changes_nothing_keeps_redo(client, coder, study, doc, seg):
    """A retried create (same client_id) and an edit that changes nothing are
    not new changes."""
    client_id = "6c0d3d4e-7d1f-4a57-9a43-2d55f1b0c001"
    create(client, study, doc, study.codes["action"], 8, 19, client_id=client_id)
    edit(client, study, doc, seg, memo="one", version=1)
    undo(client, study, doc)
    response = create(
        client, study, doc, study.codes["action"], 8, 19, client_id=client_id
    )
    assert response.status_code == 200  # the retry: nothing new
    seg.refresh_from_db()
    edit(client, study, doc, seg, memo="", version=seg.version)  # no change
    assert redo(client, study, doc).status_code == 200
    seg.refresh_from_db()
    assert seg.memo == "one"


def test_marking_done_clears_both_stacks(client, coder, study, doc, seg):
    edit(client, study, doc, seg, memo="one", version=1)
    edit(client, study, doc, seg, memo="two", version=2)
    undo(client, study, doc)
    client.post(page_url(study, doc, "done/"), headers=HX)
    client.post(page_url(study, doc, "reopen/"), headers=HX)
    assert redo(client, study, doc).status_code == 409
    seg.refresh_from_db()
    assert seg.memo == "one"


# ---------------------------------------------------------------- refusals


def test_empty_redo_is_a_409_with_a_message_and_changes_nothing(
    client, coder, study, doc, seg
):
    before = frozen()
    response = redo(client, study, doc)
    assert response.status_code == 409
    body = assert_fragment(response, "status")
    assert 'class="flash error"' in body and "Nothing to redo." in body
    # Plain form: the page itself, with the message, no redirect.
    response = redo(client, study, doc, htmx=False)
    assert response.status_code == 409
    page = response.content.decode()
    assert "<html" in page and "Nothing to redo." in page
    assert frozen() == before


def test_a_done_article_refuses_redo_and_keeps_the_step(client, coder, study, doc, seg):
    edit(client, study, doc, seg, memo="mine", version=1)
    undo(client, study, doc)
    # Marked done elsewhere (another browser, the API): this session still
    # holds the step.
    assignment = Assignment.objects.get(document=doc, coder=study.coder1)
    services.assignment_set_status(
        assignment=assignment, status=Assignment.Status.DONE, actor=study.coder1
    )
    before = frozen()
    response = redo(client, study, doc)
    assert response.status_code == 400
    body = assert_fragment(response, "status")
    assert "Cannot redo." in body and "reopen" in body
    # Read only: the page offers no Redo either.
    assert 'id="redo-button"' not in body
    assert frozen() == before
    services.assignment_set_status(
        assignment=assignment,
        status=Assignment.Status.IN_PROGRESS,
        actor=study.coder1,
    )
    assert redo(client, study, doc).status_code == 200
    seg.refresh_from_db()
    assert seg.memo == "mine"


def test_redo_refuses_a_segment_changed_elsewhere_since_the_undo(
    client, coder, study, doc
):
    create(client, study, doc, study.codes["actor"], 0, 7)
    seg = Segment.objects.get()
    undo(client, study, doc)
    # Another tab restores and deletes it again: a newer version, same state.
    seg.refresh_from_db()
    services.segment_restore(segment=seg, actor=study.coder1)
    services.segment_delete(segment=seg, actor=study.coder1)
    before = frozen()
    response = redo(client, study, doc)
    assert response.status_code == 409
    assert "Cannot redo: This segment was changed elsewhere" in assert_fragment(
        response, "status"
    )
    assert frozen() == before
    # The stale step is dropped, not offered again.
    assert redo(client, study, doc).status_code == 409
    assert client.session[REDO_KEY][str(doc.pk)] == []


def test_redo_of_a_memo_refuses_to_overwrite_a_change_made_elsewhere(
    client, coder, study, doc, seg
):
    edit(client, study, doc, seg, memo="mine", version=1)
    undo(client, study, doc)
    seg.refresh_from_db()
    services.segment_update(segment=seg, actor=study.coder1, memo="other tab")
    before = frozen()
    assert redo(client, study, doc).status_code == 409
    assert frozen() == before


def test_redo_to_a_code_retired_since_is_refused(client, coder, study, doc, seg):
    platform = study.codes["platform"]
    edit(client, study, doc, seg, code=platform.pk, version=1)
    undo(client, study, doc)
    platform.retired = True
    platform.save()
    before = frozen()
    response = redo(client, study, doc)
    assert response.status_code == 400 and "retired" in response.content.decode()
    assert frozen() == before


def test_another_coder_cannot_redo_into_my_segments(client, coder, study, doc):
    create(client, study, doc, study.codes["actor"], 0, 7)
    mine = Segment.objects.get()
    undo(client, study, doc)
    # Logging in as someone else starts a new session: no stacks carried over.
    client.force_login(study.coder2)
    before = frozen()
    assert redo(client, study, doc).status_code == 409
    # A session made to name my segment (coder2 has this article too): 404,
    # as for any segment one may not change, and the step is dropped.
    session = client.session
    session[REDO_KEY] = {
        str(doc.pk): [{"op": "create", "id": mine.pk, "label": "x", "version": 2}]
    }
    session.save()
    response = redo(client, study, doc)
    assert response.status_code == 404
    assert "That segment is gone." in assert_fragment(response, "status")
    assert client.session[REDO_KEY][str(doc.pk)] == []
    assert frozen() == before
    mine.refresh_from_db()
    assert mine.deleted_at is not None
    # Outsiders do not get the article at all.
    client.force_login(study.outsider)
    assert redo(client, study, doc).status_code == 404
    assert frozen() == before


def test_redo_needs_a_login_and_a_post(client, study, doc):
    response = redo(client, study, doc)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(study.coder1)
    assert client.get(page_url(study, doc, "redo/")).status_code == 405


# ---------------------------------------------------------------- htmx vs plain


def test_plain_post_redo_redirects_back_with_the_message(client, coder, study, doc):
    create(client, study, doc, study.codes["action"], 8, 19)
    seg = Segment.objects.get()
    undo(client, study, doc, htmx=False)
    page = client.get(page_url(study, doc)).content.decode()
    # The page's status bar carries the Redo form, a plain POST to redo/.
    assert f'<form method="post" action="{page_url(study, doc, "redo/")}"' in page
    assert "Redo: add action “coordinated”" in page
    response = redo(client, study, doc, htmx=False)
    assert response.status_code == 302 and response["Location"] == page_url(study, doc)
    page = client.get(response["Location"]).content.decode()
    assert "Redone: add action “coordinated”" in page
    assert 'id="redo-button"' not in page
    seg.refresh_from_db()
    assert seg.deleted_at is None


def test_read_only_page_offers_no_redo(client, coder, study, doc, seg):
    edit(client, study, doc, seg, memo="mine", version=1)
    undo(client, study, doc)
    assert 'id="redo-button"' in client.get(page_url(study, doc)).content.decode()
    Assignment.objects.filter(document=doc, coder=study.coder1).update(status="done")
    assert 'id="redo-button"' not in client.get(page_url(study, doc)).content.decode()


# ------------------------------------------------- retried requests (outbox)


def test_a_retried_undo_or_redo_is_applied_once(client, coder, study, doc):
    """The page's outbox resends a request whose answer was lost with the
    same ``step`` id: the server must not undo (or redo) one step more."""
    for start in (0, 10):
        r = create(client, study, doc, study.codes["actor"], start, start + 5)
        assert r.status_code == 201
    first, second = Segment.objects.filter(document=doc).order_by("start")
    step = {"step": "9f1c0e7a-undo-once"}

    def post(kind, data):
        return client.post(page_url(study, doc, f"{kind}/"), data, headers=HX)

    assert post("undo", step).status_code == 200
    before = frozen()
    again = post("undo", step)  # the retry: answered, nothing more undone
    assert again.status_code == 200 and "Undone." in again.content.decode()
    assert frozen() == before
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.deleted_at is not None and first.deleted_at is None

    redo_step = {"step": "9f1c0e7a-redo-once"}
    assert post("redo", redo_step).status_code == 200
    before = frozen()
    assert post("redo", redo_step).status_code == 200
    assert frozen() == before
    second.refresh_from_db()
    assert second.deleted_at is None

    # A new step id is a new request: undone as usual, one step.
    assert post("undo", {"step": "another"}).status_code == 200
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.deleted_at is not None and first.deleted_at is None


def test_without_a_step_id_each_request_is_a_new_step(client, coder, study, doc):
    for start in (0, 10):
        create(client, study, doc, study.codes["actor"], start, start + 5)
    assert undo(client, study, doc).status_code == 200
    assert undo(client, study, doc).status_code == 200
    assert not Segment.objects.filter(document=doc, deleted_at__isnull=True).exists()
