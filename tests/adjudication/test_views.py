"""The adjudication pages through Django's test client: permissions, each
action as htmx and as a plain form, bad input."""

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import AdjudicationState, ConsensusSegment, HistoryEvent
from tests.factories import PASSWORD

HX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name, d, *extra):
    return reverse(name, args=[d.study.project.slug, d.doc.pk, *extra])


@pytest.fixture
def pi(client, disputed):
    return login(client, disputed.study.pi)


def test_coders_and_outsiders_get_404_everywhere(client, disputed):
    d = disputed
    slug = d.study.project.slug
    cs = ConsensusSegment.objects.create(
        document=d.doc, code=d.study.codes["actor"], start=0, end=7, quote="Europol",
        decision="manual",
    )  # fmt: skip
    event = HistoryEvent.objects.create(
        project=d.study.project,
        entity="segment",
        entity_id=d.missing.pk,
        action="delete",
    )
    gets = [
        reverse("adjudication_list", args=[slug]), url("adjudicate", d),
        reverse("history", args=[slug]), reverse("history_export", args=[slug]),
        reverse("history_document", args=[slug, d.doc.pk]),
    ]  # fmt: skip
    posts = [
        url("adjudicate_start", d), url("adjudicate_decide", d), url("adjudicate_add", d),
        url("adjudicate_consensus", d, cs.pk), url("adjudicate_status", d),
        reverse("history_restore", args=[slug, event.pk]),
    ]  # fmt: skip
    for user in (d.study.coder1, d.study.coder2, d.study.outsider):
        login(client, user)
        for u in gets:
            assert client.get(u).status_code == 404, (user, u)
        for u in posts:
            assert client.post(u, {"action": "delete"}).status_code == 404, (user, u)
    # Even in an open (not blind) project a coder never reaches the consensus.
    d.study.project.blind = False
    d.study.project.save()
    login(client, d.study.coder1)
    assert client.get(url("adjudicate", d)).status_code == 404
    client.logout()
    assert client.get(url("adjudicate", d)).status_code == 302  # to the login page
    assert (
        ConsensusSegment.objects.count() == 1 and not AdjudicationState.objects.exists()
    )


def test_list_page(pi, disputed):
    r = pi.get(reverse("adjudication_list", args=["takedowns"]))
    assert r.status_code == 200
    html = r.content.decode()
    assert disputed.doc.title in html and "Not started" in html
    assert (
        pi.get(
            reverse("adjudication_list", args=["takedowns"]) + "?status=adjudicated"
        ).status_code
        == 200
    )


def test_page_before_start_shows_lanes_notes_and_memos(pi, disputed):
    r = pi.get(url("adjudicate", disputed))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="adj-workspace"' in html and 'id="adj-text"' in html
    assert "Start adjudication" in html
    assert "2 segments on which all coders agree" in html
    assert "Hard one: IS or not?" in html  # coder2's note on the document
    assert "only the noun" in html  # a memo
    assert 'data-lanes="' in html
    assert 'name="accept"' not in html  # nothing to decide before starting


def test_text_is_escaped(pi, disputed):
    d = disputed
    doc = d.study.documents[3]  # has <script> and &amp; in its text
    r = pi.get(reverse("adjudicate", args=["takedowns", doc.pk]))
    html = r.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; end" in html


def test_start_and_decide_with_htmx(pi, disputed):
    d = disputed
    r = pi.post(url("adjudicate_start", d), {"overlap": ""}, **HX)
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html and 'id="adj-workspace"' in html
    assert ConsensusSegment.objects.filter(decision="auto").count() == 2
    ids = {"segments": [s.pk for s in d.boundary]}
    r = pi.post(
        url("adjudicate_decide", d),
        {**ids, "accept": d.study.coder2.pk, "note": "n"},
        **HX,
    )
    assert r.status_code == 200 and "<html" not in r.content.decode()
    c = ConsensusSegment.objects.get(decision="accept")
    assert (c.start, c.end, c.note, c.decided_by) == (22, 41, "n", d.study.pi)
    assert list(c.sources.all()) == [d.boundary[1]]
    assert "1 of 3" not in r.content.decode()  # counts were re-rendered
    assert "2 of 3 disagreements open" in r.content.decode()


@pytest.mark.parametrize(
    "data, decision",
    [
        ({"action": "accept_all"}, "accept_all"),
        ({"action": "adjust", "start": "22", "end": "37"}, "adjust"),
        ({"action": "change_code", "code": "platform"}, "change_code"),
    ],
)
def test_each_decision_as_a_plain_form(pi, disputed, data, decision):
    d = disputed
    pi.post(url("adjudicate_start", d))
    if data.get("code"):
        data = {**data, "code": d.study.codes[data["code"]].pk}
    r = pi.post(
        url("adjudicate_decide", d), {"segments": [s.pk for s in d.boundary], **data}
    )
    assert r.status_code == 302 and r["Location"] == url("adjudicate", d)
    assert ConsensusSegment.objects.filter(decision=decision).exists()
    page = pi.get(url("adjudicate", d)).content.decode()
    assert "2 of 3 disagreements open" in page


def test_reject_undo_add_delete_restore_mark_reopen(pi, disputed):
    d = disputed
    pi.post(url("adjudicate_start", d))
    decide = url("adjudicate_decide", d)
    assert (
        pi.post(decide, {"segments": [d.missing.pk], "action": "reject"}).status_code
        == 302
    )
    assert (
        pi.post(decide, {"segments": [d.missing.pk], "action": "undo"}).status_code
        == 302
    )
    for segs in ([d.missing.pk], [s.pk for s in d.boundary], [s.pk for s in d.code]):
        pi.post(decide, {"segments": segs, "action": "reject", "note": "no"})
    r = pi.post(
        url("adjudicate_add", d),
        {"code": d.study.codes["action"].pk, "start": 101, "end": 122},
    )
    assert r.status_code == 302
    manual = ConsensusSegment.objects.get(decision="manual")
    assert manual.quote == "accounts were removed"
    cons = url("adjudicate_consensus", d, manual.pk)
    assert (
        pi.post(
            cons, {"action": "update", "start": 88, "end": 122, "version": 1}
        ).status_code
        == 302
    )
    manual.refresh_from_db()
    assert (manual.start, manual.decision, manual.version) == (88, "manual", 2)
    assert (
        pi.post(cons, {"action": "update", "note": "x", "version": 1}, **HX).status_code
        == 409
    )
    assert pi.post(cons, {"action": "delete"}).status_code == 302
    assert pi.post(cons, {"action": "restore"}).status_code == 302
    status = url("adjudicate_status", d)
    assert pi.post(status, {"action": "mark"}, **HX).status_code == 200
    assert AdjudicationState.objects.get().status == "adjudicated"
    r = pi.post(decide, {"segments": [d.missing.pk], "action": "undo"}, **HX)
    assert r.status_code == 400 and "reopen" in r.content.decode()
    assert r["HX-Retarget"] == "#adj-message"
    assert (
        pi.post(status, {"action": "reopen", "reason": "second look"}).status_code
        == 302
    )
    assert AdjudicationState.objects.get().status == "open"
    assert ConsensusSegment.objects.filter(deleted_at__isnull=True).count() == 3


def test_bad_input_is_a_400_with_a_message_and_changes_nothing(pi, disputed):
    d = disputed
    decide = url("adjudicate_decide", d)
    r = pi.post(decide, {"segments": [d.missing.pk], "action": "reject"})
    assert r.status_code == 400 and "has not started" in r.content.decode()
    pi.post(url("adjudicate_start", d))
    before = (ConsensusSegment.objects.count(), HistoryEvent.objects.count())
    other = d.study.documents[1]
    bad = [
        {"segments": ["x"], "action": "reject"},
        {"segments": [d.missing.pk], "action": "explode"},
        {"segments": [d.missing.pk], "action": "adjust", "start": "a", "end": "9"},
        {"segments": [d.missing.pk], "action": "adjust", "start": "90", "end": "9999"},
        {"segments": [d.missing.pk], "action": "change_code", "code": "99999"},
        {
            "segments": [d.missing.pk],
            "accept": d.study.coder2.pk,
        },  # coder2 has none here
    ]
    for data in bad:
        r = pi.post(decide, data)
        assert r.status_code == 400, data
        assert 'class="error"' in r.content.decode()
    r = pi.post(url("adjudicate_add", d), {"code": d.study.codes["actor"].pk, "start": 0,
                                           "end": 7, "quote": "nope"})  # fmt: skip
    assert r.status_code == 400 and "does not match" in r.content.decode()
    r = pi.post(url("adjudicate_start", d), {"overlap": "lots"})
    assert r.status_code == 400
    assert (
        pi.post(reverse("adjudicate_decide", args=["takedowns", 999999])).status_code
        == 404
    )
    assert (
        pi.get(reverse("adjudicate", args=["takedowns", other.pk + 1000])).status_code
        == 404
    )
    r = pi.post(url("adjudicate_consensus", d, 999999), {"action": "delete"})
    assert r.status_code == 404
    assert (ConsensusSegment.objects.count(), HistoryEvent.objects.count()) == before


def test_list_filters_by_effective_status(pi, disputed):
    from annotations.models import Segment
    from annotations.services import adjudication as svc

    d = disputed
    svc.adjudication_start(document=d.doc, actor=d.study.pi)
    for g in svc.adjudication_data(d.doc).disagreements:
        svc.consensus_reject(
            document=d.doc, actor=d.study.pi, segment_ids=g.segment_ids
        )
    svc.adjudication_mark(document=d.doc, actor=d.study.pi)
    base = reverse("adjudication_list", args=["takedowns"])

    def listed(status):
        return d.doc.title in pi.get(f"{base}?status={status}").content.decode()

    assert listed("adjudicated") and not listed("needs_review") and not listed("open")
    Segment.objects.filter(pk=d.missing.pk).update(
        memo="changed later", updated_at=timezone.now()
    )
    assert listed("needs_review") and not listed("adjudicated")
    page = pi.get(f"{base}?status=needs_review").content.decode()
    assert '<tr class="status-needs_review">' in page
    assert listed("not_started") is False
