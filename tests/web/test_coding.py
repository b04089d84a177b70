"""The coding page and its htmx endpoints, with their plain-POST fallbacks."""

import uuid

import pytest

from annotations.models import Assignment, Code, Document, HistoryEvent, Segment
from annotations.services import coding as services
from tests import factories

HX = {"HX-Request": "true"}


def page_url(study, doc, suffix=""):
    return f"/p/{study.project.slug}/d/{doc.pk}/{suffix}"


def create(client, study, doc, code, start, end, quote=None, htmx=True, **extra):
    data = {"code": code.pk, "start": start, "end": end, **extra}
    data["quote"] = doc.text[start:end] if quote is None else quote
    return client.post(
        page_url(study, doc, "segments/"), data, headers=HX if htmx else {}
    )


def assert_fragment(response, *ids):
    body = response.content.decode()
    assert "<html" not in body and "<body" not in body
    for id_ in ids:
        assert f'id="{id_}"' in body, id_
    return body


# ---------------------------------------------------------------- the page


def test_page_shows_article_codebook_and_only_offered_codes(client, coder, study):
    unicode_doc = study.documents[3]
    Code.objects.create(project=study.project, name="old_code", key="o", retired=True)
    body = client.get(page_url(study, unicode_doc)).content.decode()
    # The text block holds the text, escaped: <script> is shown, never run.
    assert 'id="text-block"' in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; end" in body
    assert "<script>alert(1)" not in body
    assert "Telegram 🎉 قناة مغلقة 🇪🇺" in body
    # Codes with keys and definitions; subcodes nested; retired not offered.
    assert 'data-key="a"' in body and "law_enforcement" in body
    assert 'class="code depth-1' in body
    assert "old_code" not in body
    assert body.count('class="code-btn"') == 4


def test_page_text_block_holds_exactly_the_stored_text(client, coder, study):
    from tests.web.test_coding_text import parse

    doc = study.documents[3]
    services.segment_create(document=doc, coder=study.coder1, code=study.codes["platform"],
                            start=0, end=8, quote="Telegram")  # fmt: skip
    body = client.get(page_url(study, doc)).content.decode()
    start = body.index('<div id="text-block"')
    block = body[body.index(">", start) + 1 : body.index("</div>", start)]
    assert parse(block).text == doc.text


def test_anonymous_is_sent_to_login(client, study, doc):
    response = client.get(page_url(study, doc))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unassigned_article_and_outsiders_get_404(client, study, coder):
    lonely = factories.DocumentFactory(project=study.project, external_id="lonely")
    assert client.get(page_url(study, lonely)).status_code == 404
    client.force_login(study.outsider)
    assert client.get(page_url(study, study.documents[0])).status_code == 404


def test_page_reads_a_long_article_in_a_fixed_number_of_queries(
    client, coder, study, django_assert_max_num_queries
):
    words = " ".join(f"word{i}" for i in range(10_000))
    doc = factories.DocumentFactory(
        project=study.project, external_id="long", text=words
    )
    Assignment.objects.create(document=doc, coder=study.coder1)
    codes = list(study.codes.values())
    Segment.objects.bulk_create(
        Segment(
            document=doc,
            coder=study.coder1,
            code=codes[i % 4],
            start=i * 100,
            end=i * 100 + 150,
            quote=words[i * 100 : i * 100 + 150],
        )  # fmt: skip
        for i in range(500)
    )
    # Session, user, project with the role, assignment with the document,
    # codebook, segments, progress.
    with django_assert_max_num_queries(7):
        response = client.get(page_url(study, doc))
    assert response.status_code == 200
    assert response.content.decode().count('class="anchor"') == 500


# ---------------------------------------------------------------- create


def test_create_by_htmx_returns_the_changed_regions(client, coder, study, doc):
    response = create(client, study, doc, study.codes["actor"], 0, 7)
    assert response.status_code == 201
    # The first segment starts the article: its work state changes too.
    body = assert_fragment(
        response, "text-block", "segment-list", "status", "work-state"
    )
    assert 'hx-swap-oob="true"' in body
    segment = Segment.objects.get()
    assert (segment.start, segment.end, segment.quote, segment.coder) == (
        0, 7, "Europol", study.coder1,
    )  # fmt: skip
    assert f'data-segs="{segment.pk}"' in body
    assert "Undo: add actor" in body
    assert "In progress" in body
    assert (
        Assignment.objects.get(document=doc, coder=study.coder1).status == "in_progress"
    )
    # What a segment cannot change is not sent again.
    assert 'id="codebook"' not in body and 'id="hint"' not in body
    response = create(client, study, doc, study.codes["action"], 8, 19)
    body = assert_fragment(response, "text-block", "segment-list", "status")
    assert 'id="work-state"' not in body and 'id="codebook"' not in body
    assert body.count('class="anchor"') == 2 and "Undo: add action" in body


def test_create_costs_a_fixed_handful_of_queries(
    client, coder, study, doc, django_assert_max_num_queries
):
    """Session, user, project with the role, assignment with the document,
    codebook, the segment and its history row, the coder's segments for the
    answer, the session's undo stack: 9, plus 4 statements opening and
    closing the two transactions (savepoints here). The first segment of an
    article also starts it (a conditional UPDATE and its history row) and
    sends the work state (the coder's progress). 23 + 4 before."""
    Segment.objects.bulk_create(
        Segment(document=doc, coder=study.coder1, code=study.codes["actor"],
                start=i, end=i + 5, quote=doc.text[i : i + 5])
        for i in range(40)
    )  # fmt: skip
    with django_assert_max_num_queries(16):
        assert create(client, study, doc, study.codes["actor"], 0, 7).status_code == 201
    with django_assert_max_num_queries(13):
        response = create(client, study, doc, study.codes["action"], 8, 19)
    assert response.status_code == 201
    assert HistoryEvent.objects.filter(entity="segment", action="create").count() == 2
    assert HistoryEvent.objects.filter(entity="assignment").count() == 1


def test_coding_starts_once_even_from_a_stale_assignment(study, doc):
    """Two first segments at once both see "to do": one records the start."""
    stale = Assignment.objects.get(document=doc, coder=study.coder1)
    fresh = Assignment.objects.get(pk=stale.pk)
    for assignment, start in ((fresh, 0), (stale, 8)):
        services.segment_create(
            document=doc, coder=study.coder1, code=study.codes["actor"],
            start=start, end=start + 5, quote=doc.text[start : start + 5],
            assignment=assignment,
        )  # fmt: skip
    saved = Assignment.objects.get(pk=stale.pk)
    assert saved.status == "in_progress" and saved.started_at is not None
    assert HistoryEvent.objects.filter(entity="assignment").count() == 1


def test_create_by_plain_post_redirects_back_with_a_message(client, coder, study, doc):
    response = create(client, study, doc, study.codes["action"], 8, 19, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == page_url(study, doc)
    page = client.get(response["Location"]).content.decode()
    assert "Added action" in page
    assert Segment.objects.get().quote == "coordinated"


def test_create_without_a_quote_uses_the_typed_offsets(client, coder, study, doc):
    """The no-JS form: the coder types code-point offsets and picks a code."""
    response = client.post(page_url(study, doc, "segments/"),
                           {"code": study.codes["actor"].pk, "start": 0, "end": 7})  # fmt: skip
    assert response.status_code == 302
    assert Segment.objects.get().quote == "Europol"


def test_create_counts_code_points_after_emoji_and_arabic(client, coder, study):
    doc = study.documents[3]
    start = doc.text.index("مغلقة")
    response = create(client, study, doc, study.codes["actor"], start, start + 5)
    assert response.status_code == 201
    assert Segment.objects.get().quote == "مغلقة"
    # UTF-16 offsets (one more for each emoji before) do not match the quote.
    response = create(client, study, doc, study.codes["actor"], start + 1, start + 6,
                      quote="مغلقة")  # fmt: skip
    assert response.status_code == 400
    assert Segment.objects.count() == 1


def test_retried_create_with_the_same_client_id_makes_one_segment(
    client, coder, study, doc
):
    client_id = str(uuid.uuid4())
    first = create(client, study, doc, study.codes["actor"], 0, 7, client_id=client_id)
    again = create(client, study, doc, study.codes["actor"], 0, 7, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert Segment.objects.count() == 1
    assert str(Segment.objects.get().client_id) == client_id


@pytest.mark.parametrize(
    ("start", "end", "quote", "message"),
    [
        (0, 9999, None, "outside the text"),
        (7, 0, "", "reversed"),
        (0, 7, "Interpol", "does not match"),
        (-1, 7, None, "start"),
        ("x", 7, None, "start"),
    ],
)
def test_bad_spans_are_refused_with_a_message(
    client, coder, study, doc, start, end, quote, message
):
    if quote is None and isinstance(start, int) and start >= 0:
        quote = doc.text[start:end]
    response = client.post(page_url(study, doc, "segments/"),
                           {"code": study.codes["actor"].pk, "start": start, "end": end,
                            "quote": quote or ""}, headers=HX)  # fmt: skip
    assert response.status_code == 400
    body = assert_fragment(response, "status")
    assert message in body and "not saved" in body
    assert not Segment.objects.exists()


def test_codes_from_another_project_retired_or_unknown_are_refused(
    client, coder, study, doc
):
    other = factories.CodeFactory(project=factories.ProjectFactory(), name="foreign")
    retired = Code.objects.create(project=study.project, name="old", retired=True)
    for code_id, message in [
        (other.pk, f"There is no code {other.pk} in this project"),
        (retired.pk, "retired"),
        (999999, "There is no code"),
    ]:
        response = client.post(page_url(study, doc, "segments/"),
                               {"code": code_id, "start": 0, "end": 7, "quote": "Europol"},
                               headers=HX)  # fmt: skip
        assert response.status_code == 400, message
        assert message in response.content.decode()
    assert not Segment.objects.exists()


def test_plain_post_errors_render_the_page_with_the_message(client, coder, study, doc):
    response = create(
        client, study, doc, study.codes["actor"], 0, 7, quote="nope", htmx=False
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "<html" in body and "does not match" in body
    assert not Segment.objects.exists()


def test_pi_who_is_not_assigned_cannot_code_the_article(client, study, doc):
    client.force_login(study.pi)
    response = create(client, study, doc, study.codes["actor"], 0, 7)
    assert response.status_code == 400
    assert "not assigned" in response.content.decode()
    assert not Segment.objects.exists()


# ---------------------------------------------------------------- blind coding


def test_coders_never_see_each_others_segments(client, coder, study, doc):
    theirs, _ = services.segment_create(
        document=doc, coder=study.coder2, code=study.codes["actor"], start=0, end=7,
        quote="Europol", memo="coder2's secret memo",
    )  # fmt: skip
    body = client.get(page_url(study, doc)).content.decode()
    assert "secret memo" not in body and f'data-segs="{theirs.pk}"' not in body
    base = page_url(study, doc, f"segments/{theirs.pk}/")
    assert client.get(base, headers=HX).status_code == 404
    assert client.get(page_url(study, doc) + f"?seg={theirs.pk}").status_code == 404
    for action in ("edit/", "delete/", "restore/"):
        response = client.post(base + action, {"memo": "x", "version": 1}, headers=HX)
        assert response.status_code == 404, action
    # Asking to see others changes nothing while the project is blind.
    body = client.get(page_url(study, doc) + "?others=1").content.decode()
    assert "secret memo" not in body
    theirs.refresh_from_db()
    assert (theirs.memo, theirs.deleted_at, theirs.version) == (
        "coder2's secret memo",
        None,
        1,
    )


def test_open_coding_shows_others_read_only_on_request(client, coder, study, doc):
    study.project.blind = False
    study.project.save()
    theirs, _ = services.segment_create(
        document=doc, coder=study.coder2, code=study.codes["actor"], start=0, end=7,
        quote="Europol", memo="visible memo",
    )  # fmt: skip
    assert (
        f'data-segs="{theirs.pk}"'
        not in client.get(page_url(study, doc)).content.decode()
    )
    body = client.get(page_url(study, doc) + "?others=1").content.decode()
    assert f'data-segs="{theirs.pk}"' in body and "only-other" in body
    assert "Other coders" in body
    panel = client.get(page_url(study, doc, f"segments/{theirs.pk}/"), headers=HX)
    assert panel.status_code == 200
    assert (
        "visible memo" in panel.content.decode()
        and "panel-memo" not in panel.content.decode()
    )
    response = client.post(page_url(study, doc, f"segments/{theirs.pk}/edit/"),
                           {"memo": "mine now"}, headers=HX)  # fmt: skip
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.memo == "visible memo"


def test_pi_sees_every_coders_segments_read_only(client, study, doc, seg):
    client.force_login(study.pi)
    body = client.get(page_url(study, doc)).content.decode()
    assert f'data-segs="{seg.pk}"' in body and "coder1" in body


# ---------------------------------------------------------------- panel and edits


def test_segment_panel_fragment_and_its_plain_link(client, coder, study, doc, seg):
    url = page_url(study, doc, f"segments/{seg.pk}/")
    response = client.get(url, headers=HX)
    body = assert_fragment(response, "panel", "panel-memo")
    assert 'name="version" value="1"' in body
    plain = client.get(url)
    assert plain.status_code == 302 and plain["Location"].endswith(
        f"?seg={seg.pk}#panel"
    )
    page = client.get(page_url(study, doc) + f"?seg={seg.pk}").content.decode()
    assert 'id="panel-memo"' in page


def test_edit_memo_and_code_by_htmx_and_plain_post(client, coder, study, doc, seg):
    url = page_url(study, doc, f"segments/{seg.pk}/edit/")
    response = client.post(url, {"memo": "First line\r\nsecond", "code": seg.code_id,
                                 "version": 1}, headers=HX)  # fmt: skip
    assert response.status_code == 200
    assert_fragment(response, "panel", "text-block", "segment-list")
    seg.refresh_from_db()
    assert (seg.memo, seg.version) == ("First line\nsecond", 2)
    response = client.post(url, {"memo": seg.memo, "code": study.codes["platform"].pk,
                                 "version": 2})  # fmt: skip
    assert response.status_code == 302 and f"?seg={seg.pk}" in response["Location"]
    seg.refresh_from_db()
    assert seg.code == study.codes["platform"] and seg.version == 3


def test_stale_edit_gets_409_with_both_versions(client, coder, study, doc, seg):
    services.segment_update(
        segment=seg, actor=study.coder1, memo="saved in another tab"
    )
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/edit/"),
                           {"memo": "typed here", "code": seg.code_id, "version": 1},
                           headers=HX)  # fmt: skip
    assert response.status_code == 409
    body = assert_fragment(response, "panel", "status")
    assert "saved in another tab" in body and "typed here" in body
    assert "Keep my version" in body
    seg.refresh_from_db()
    assert (seg.memo, seg.version) == ("saved in another tab", 2)


def test_retried_edit_that_was_already_saved_is_not_a_conflict(
    client, coder, study, doc, seg
):
    url = page_url(study, doc, f"segments/{seg.pk}/edit/")
    data = {"memo": "once", "code": seg.code_id, "version": 1}
    assert client.post(url, data, headers=HX).status_code == 200
    assert client.post(url, data, headers=HX).status_code == 200
    seg.refresh_from_db()
    assert seg.version == 2
    assert HistoryEvent.objects.filter(entity="segment", action="update").count() == 1


def test_edit_to_a_retired_code_is_refused(client, coder, study, doc, seg):
    retired = Code.objects.create(project=study.project, name="old", retired=True)
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/edit/"),
                           {"code": retired.pk, "version": 1}, headers=HX)  # fmt: skip
    assert response.status_code == 400 and "retired" in response.content.decode()
    seg.refresh_from_db()
    assert seg.code_id == study.codes["actor"].pk


def test_delete_is_soft_and_undo_brings_it_back(client, coder, study, doc, seg):
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/delete/"),
                           {"version": 1}, headers=HX)  # fmt: skip
    body = assert_fragment(response, "text-block", "panel")
    assert f'data-segs="{seg.pk}"' not in body and "Undo: delete actor" in body
    seg.refresh_from_db()
    assert seg.deleted_at is not None
    response = client.post(page_url(study, doc, "undo/"), headers=HX)
    assert response.status_code == 200
    assert f'data-segs="{seg.pk}"' in assert_fragment(response, "text-block")
    seg.refresh_from_db()
    assert seg.deleted_at is None


def test_delete_and_restore_by_plain_post(client, coder, study, doc, seg):
    response = client.post(
        page_url(study, doc, f"segments/{seg.pk}/delete/"), {"version": 1}
    )
    assert response.status_code == 302
    seg.refresh_from_db()
    assert seg.deleted_at is not None
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/restore/"))
    assert response.status_code == 302
    seg.refresh_from_db()
    assert seg.deleted_at is None


def test_undo_reverts_create_update_and_delete_in_order(client, coder, study, doc):
    create(client, study, doc, study.codes["actor"], 0, 7)
    seg = Segment.objects.get()
    client.post(page_url(study, doc, f"segments/{seg.pk}/edit/"),
                {"memo": "note", "code": study.codes["platform"].pk, "version": 1},
                headers=HX)  # fmt: skip
    client.post(
        page_url(study, doc, f"segments/{seg.pk}/delete/"), {"version": 2}, headers=HX
    )
    undo = page_url(study, doc, "undo/")
    client.post(undo, headers=HX)  # delete -> restore
    seg.refresh_from_db()
    assert seg.deleted_at is None and seg.memo == "note"
    client.post(undo, headers=HX)  # update -> previous code and memo
    seg.refresh_from_db()
    assert (seg.code_id, seg.memo) == (study.codes["actor"].pk, "")
    response = client.post(undo)  # create -> delete, as a plain POST
    assert response.status_code == 302
    seg.refresh_from_db()
    assert seg.deleted_at is not None
    response = client.post(undo, headers=HX)
    assert "Nothing to undo" in response.content.decode()


def test_undo_refuses_to_overwrite_a_change_made_elsewhere(
    client, coder, study, doc, seg
):
    client.post(page_url(study, doc, f"segments/{seg.pk}/edit/"),
                {"memo": "mine", "version": 1}, headers=HX)  # fmt: skip
    seg.refresh_from_db()
    services.segment_update(segment=seg, actor=study.coder1, memo="other tab")
    response = client.post(page_url(study, doc, "undo/"), headers=HX)
    assert response.status_code == 409
    seg.refresh_from_db()
    assert seg.memo == "other tab"


# ---------------------------------------------------------------- done / reopen


def test_mark_done_opens_the_next_article_and_locks_this_one(
    client, coder, study, doc, seg
):
    response = client.post(page_url(study, doc, "done/"), headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == page_url(study, study.documents[1])
    assignment = Assignment.objects.get(document=doc, coder=study.coder1)
    assert assignment.status == "done" and assignment.done_at is not None
    # Read only until reopened: no creating, editing or deleting.
    assert create(client, study, doc, study.codes["actor"], 8, 19).status_code == 400
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/edit/"),
                           {"memo": "late", "version": 1}, headers=HX)  # fmt: skip
    assert response.status_code == 400 and "reopen" in response.content.decode()
    response = client.post(page_url(study, doc, f"segments/{seg.pk}/delete/"),
                           {"version": 1}, headers=HX)  # fmt: skip
    assert response.status_code == 400
    page = client.get(page_url(study, doc)).content.decode()
    assert "Reopen to change" in page and "disabled" in page
    seg.refresh_from_db()
    assert (seg.memo, seg.deleted_at, Segment.objects.count()) == ("", None, 1)
    response = client.post(page_url(study, doc, "reopen/"), headers=HX)
    assert response.status_code == 200
    assert "Select text" in assert_fragment(response, "work-state", "codebook", "hint")
    assert create(client, study, doc, study.codes["actor"], 8, 19).status_code == 201


def test_mark_done_by_plain_post_and_after_the_last_article(client, coder, study):
    for doc in study.documents:
        response = client.post(page_url(study, doc, "done/"))
        assert response.status_code == 302
    assert response["Location"] == "/"
    assert (
        not Assignment.objects.filter(coder=study.coder1)
        .exclude(status="done")
        .exists()
    )


def test_next_article_prefers_work_in_progress(client, coder, study):
    Assignment.objects.filter(document=study.documents[2], coder=study.coder1).update(
        status="in_progress"
    )
    response = client.get(f"/p/{study.project.slug}/next/")
    assert response["Location"] == page_url(study, study.documents[2])


def test_codes_css_for_members_only(client, coder, study):
    response = client.get(f"/p/{study.project.slug}/codes.css?v=1")
    assert response["Content-Type"].startswith("text/css")
    actor = study.codes["actor"]
    assert f".b-{actor.pk}{{background-color:#ffd6a5}}" in response.content.decode()
    client.force_login(study.outsider)
    assert client.get(f"/p/{study.project.slug}/codes.css").status_code == 404


def test_document_text_is_unchanged_by_coding(client, coder, study, doc):
    before = Document.objects.get(pk=doc.pk).checksum
    create(client, study, doc, study.codes["actor"], 0, 7)
    assert Document.objects.get(pk=doc.pk).checksum == before


def test_editing_a_segment_deleted_in_another_tab_says_so(
    client, coder, study, doc, seg
):
    services.segment_delete(segment=seg, actor=study.coder1)
    response = client.post(
        page_url(study, doc, f"segments/{seg.pk}/edit/"),
        {"memo": "too late", "version": 1},
        headers=HX,
    )
    assert response.status_code == 409
    body = assert_fragment(response, "panel", "text-block")
    assert "Deleted" in body and "too late" in body
    seg.refresh_from_db()
    assert seg.memo == "" and seg.deleted_at is not None


def test_a_code_retired_while_coding_is_refused_and_the_codebook_refreshed(
    client, coder, study, doc
):
    page = client.get(page_url(study, doc)).content.decode()
    platform = study.codes["platform"]
    assert f'value="{platform.pk}"' in page
    Code.objects.filter(pk=platform.pk).update(retired=True)
    response = create(client, study, doc, platform, 0, 7)
    assert response.status_code == 400
    body = assert_fragment(response, "codebook", "status")
    assert "retired" in body
    assert f'name="code" value="{platform.pk}"' not in body
    assert not Segment.objects.exists()


def test_the_session_keeps_undo_for_the_last_few_articles_only(client, coder, study):
    from annotations.views.coding import UNDO_DOCUMENTS, UNDO_KEY

    docs = [study.documents[0]]
    for i in range(UNDO_DOCUMENTS + 1):
        doc = factories.DocumentFactory(project=study.project, external_id=f"u{i}")
        Assignment.objects.create(document=doc, coder=study.coder1)
        docs.append(doc)
    for doc in docs:
        assert create(client, study, doc, study.codes["actor"], 0, 7).status_code == 201
    stacks = client.session[UNDO_KEY]
    assert list(stacks) == [str(d.pk) for d in docs[-UNDO_DOCUMENTS:]]
